import type {
  Category,
  Confidence,
  DetailsChanges,
  FactChanges,
  FactKind,
  Impact,
  IncidentStatus,
  Relation,
  Source,
} from '@app/domain';

/** What every claim in a file may carry: when it became public and where (SPEC §3, asserted time). */
export interface ClaimEntry {
  assertedAt?: string;
  sources?: Source[];
}

/**
 * The shape of one file in examples/incidents: an incident as a curated document, imported as events. The top-level
 * details are the opening claim, as public at the incident's `assertedAt`; later knowledge comes as dated claims.
 */
export interface IncidentFile extends ClaimEntry {
  id: string;
  title: string;
  category: Category;
  summary?: string;
  victims?: string[];
  threatActors?: string[];
  status?: IncidentStatus;
  effectiveAt?: string;
  /** Later revisions of the details, each a claim of its own. */
  revisions?: DetailsRevisionEntry[];
  /** Impact as assessed over time; each assessment sets the fields it names. */
  impactAssessments?: ImpactAssessmentEntry[];
  /** Older files: one undated assessment, asserted when imported. Not allowed beside `impactAssessments`. */
  impact?: Impact;
  links?: LinkEntry[];
  statusChanges?: StatusChangeEntry[];
  facts?: FactEntry[];
}

export interface DetailsRevisionEntry extends ClaimEntry {
  key: string;
  changes: DetailsChanges;
  reason?: string;
}

export interface ImpactAssessmentEntry extends ClaimEntry, Impact {
  key: string;
}

export interface LinkEntry extends ClaimEntry {
  incidentId: string;
  relation: Relation;
  reason?: string;
}

export interface StatusChangeEntry extends ClaimEntry {
  key: string;
  status: IncidentStatus;
  effectiveAt?: string;
  reason?: string;
}

/** A fact: its base fields are the original claim as it should have been recorded; later claims are corrections. */
export interface FactEntry extends ClaimEntry {
  key: string;
  kind: FactKind;
  occurredAt: string;
  summary: string;
  confidence?: Confidence;
  actors?: string[];
  techniques?: string[];
  corrections?: CorrectionEntry[];
  retraction?: { reason: string; assertedAt?: string };
}

export interface CorrectionEntry extends ClaimEntry {
  key: string;
  changes: FactChanges;
  reason: string;
}

const KEY = /^[a-z0-9][a-z0-9-]{0,62}$/;

export class IncidentFileError extends Error {
  constructor(
    readonly file: string,
    readonly path: string,
    message: string,
  ) {
    super(`${file}: ${path} ${message}`);
    this.name = 'IncidentFileError';
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks that a list holds objects with unique slug keys (and, where named, an object field). */
function requireKeyedList(file: string, path: string, list: unknown, objectField?: string): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) throw new IncidentFileError(file, path, 'must be an array');
  const seen = new Set<string>();
  list.forEach((item, index) => {
    if (!isObject(item)) throw new IncidentFileError(file, `${path}[${index}]`, 'must be an object');
    if (typeof item.key !== 'string' || !KEY.test(item.key)) {
      throw new IncidentFileError(file, `${path}[${index}].key`, 'must be a slug (a-z, 0-9, -) that never changes');
    }
    if (seen.has(item.key)) throw new IncidentFileError(file, `${path}[${index}].key`, `repeats "${item.key}"`);
    seen.add(item.key);
    if (objectField !== undefined && !isObject(item[objectField])) {
      throw new IncidentFileError(file, `${path}[${index}].${objectField}`, 'must be an object');
    }
  });
}

/**
 * Checks the document's structure (objects, arrays, keys). Values are checked by the domain when the commands are
 * decided, with the same rules as the HTTP API.
 */
export function parseIncidentFile(file: string, text: string): IncidentFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new IncidentFileError(file, '(file)', `is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(value)) throw new IncidentFileError(file, '(file)', 'must hold one JSON object');
  for (const field of ['id', 'title', 'category']) {
    if (typeof value[field] !== 'string') throw new IncidentFileError(file, field, 'must be a string');
  }
  for (const list of ['links', 'victims', 'threatActors', 'sources']) {
    if (value[list] !== undefined && !Array.isArray(value[list]))
      throw new IncidentFileError(file, list, 'must be an array');
  }
  if (value.impact !== undefined && value.impactAssessments !== undefined) {
    throw new IncidentFileError(file, 'impact', 'must not be given beside impactAssessments');
  }
  requireKeyedList(file, 'revisions', value.revisions, 'changes');
  requireKeyedList(file, 'impactAssessments', value.impactAssessments);
  requireKeyedList(file, 'statusChanges', value.statusChanges);
  requireKeyedList(file, 'facts', value.facts);
  ((value.facts as Record<string, unknown>[] | undefined) ?? []).forEach((fact, index) =>
    requireKeyedList(file, `facts[${index}].corrections`, fact.corrections, 'changes'),
  );
  return value as unknown as IncidentFile;
}
