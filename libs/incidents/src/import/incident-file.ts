import type {
  Category,
  Confidence,
  FactChanges,
  FactKind,
  Impact,
  IncidentStatus,
  Relation,
  Source,
} from '@app/domain';

/** The shape of one file in examples/incidents: an incident as a curated document, imported as events. */
export interface IncidentFile {
  id: string;
  /** When the incident itself became publicly known, and where. */
  assertedAt?: string;
  sources?: Source[];
  title: string;
  category: Category;
  summary?: string;
  victims?: string[];
  threatActors?: string[];
  status?: IncidentStatus;
  effectiveAt?: string;
  impact?: Impact;
  links?: { incidentId: string; relation: Relation; reason?: string; assertedAt?: string; sources?: Source[] }[];
  statusChanges?: {
    key: string;
    status: IncidentStatus;
    effectiveAt?: string;
    reason?: string;
    assertedAt?: string;
    sources?: Source[];
  }[];
  facts?: FactEntry[];
}

export interface FactEntry {
  key: string;
  kind: FactKind;
  occurredAt: string;
  summary: string;
  confidence?: Confidence;
  sources?: Source[];
  assertedAt?: string;
  actors?: string[];
  techniques?: string[];
  corrections?: { key: string; changes: FactChanges; sources?: Source[]; assertedAt?: string; reason: string }[];
  retraction?: { reason: string; assertedAt?: string };
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
  for (const list of ['facts', 'statusChanges', 'links', 'victims', 'threatActors']) {
    if (value[list] !== undefined && !Array.isArray(value[list]))
      throw new IncidentFileError(file, list, 'must be an array');
  }
  const seen = new Set<string>();
  ((value.facts as unknown[]) ?? []).forEach((fact, index) => {
    if (!isObject(fact)) throw new IncidentFileError(file, `facts[${index}]`, 'must be an object');
    if (typeof fact.key !== 'string' || !KEY.test(fact.key)) {
      throw new IncidentFileError(file, `facts[${index}].key`, 'must be a slug (a-z, 0-9, -) that never changes');
    }
    if (seen.has(fact.key)) throw new IncidentFileError(file, `facts[${index}].key`, `repeats "${fact.key}"`);
    seen.add(fact.key);
    if (fact.corrections !== undefined && !Array.isArray(fact.corrections)) {
      throw new IncidentFileError(file, `facts[${index}].corrections`, 'must be an array');
    }
    ((fact.corrections as unknown[]) ?? []).forEach((correction, c) => {
      if (
        !isObject(correction) ||
        typeof correction.key !== 'string' ||
        !KEY.test(correction.key) ||
        !isObject(correction.changes)
      ) {
        throw new IncidentFileError(
          file,
          `facts[${index}].corrections[${c}]`,
          'must have a slug key and a changes object',
        );
      }
    });
  });
  ((value.statusChanges as unknown[]) ?? []).forEach((change, index) => {
    if (!isObject(change) || typeof change.key !== 'string' || !KEY.test(change.key)) {
      throw new IncidentFileError(file, `statusChanges[${index}].key`, 'must be a slug (a-z, 0-9, -)');
    }
  });
  return value as unknown as IncidentFile;
}
