import { canonicalJson } from './canonical-json';
import type { Impact } from './events';
import type { FactView, IncidentView } from './views';
import type { IncidentStatus, Relation } from './vocabulary';

export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

export interface FactChange {
  factId: string;
  kind: FactView['kind'];
  before: FactView;
  after: FactView;
  fields: FieldChange[];
}

export interface StatusRef {
  status: IncidentStatus | null;
  effectiveAt: string | null;
}

export interface LinkRef {
  incidentId: string;
  relation: Relation;
}

/** What changed in an incident's record between two views of it. */
export interface IncidentDiff {
  facts: { added: FactView[]; removed: FactView[]; changed: FactChange[] };
  status: { before: StatusRef | null; after: StatusRef } | null;
  details: FieldChange[];
  impact: FieldChange[];
  links: { added: LinkRef[]; removed: LinkRef[] };
}

/** The fields of a fact a reader would call its content; bookkeeping (versions, positions) is left out. */
const FACT_FIELDS = ['occurredAt', 'summary', 'confidence', 'actors', 'techniques', 'sources'] as const;
const DETAIL_FIELDS = ['title', 'category', 'summary', 'victims', 'threatActors'] as const;
const IMPACT_FIELDS: (keyof Impact)[] = ['lossUsd', 'records', 'organisations'];

function same(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}

function fieldChanges<T extends object>(
  fields: readonly (keyof T & string)[],
  before: T | null,
  after: T,
): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const field of fields) {
    const was = before === null ? null : (before[field] ?? null);
    const now = after[field] ?? null;
    if (!same(was, now)) changes.push({ field, before: was, after: now });
  }
  return changes;
}

const linkKey = (link: LinkRef) => `${link.incidentId} ${link.relation}`;

/**
 * Compares two views of one incident: `before` is null when the incident was not yet in the record (or not yet known)
 * at the earlier point, so everything in `after` is new.
 */
export function diffViews(before: IncidentView | null, after: IncidentView): IncidentDiff {
  const earlier = new Map((before?.timeline ?? []).map((fact) => [fact.factId, fact]));
  const later = new Map(after.timeline.map((fact) => [fact.factId, fact]));
  const added = after.timeline.filter((fact) => !earlier.has(fact.factId));
  const removed = (before?.timeline ?? []).filter((fact) => !later.has(fact.factId));
  const changed: FactChange[] = [];
  for (const fact of after.timeline) {
    const was = earlier.get(fact.factId);
    if (was === undefined) continue;
    const fields = fieldChanges(FACT_FIELDS, was, fact);
    if (fields.length > 0) changed.push({ factId: fact.factId, kind: fact.kind, before: was, after: fact, fields });
  }

  const statusBefore = before === null ? null : { status: before.status, effectiveAt: before.statusEffectiveAt };
  const statusAfter = { status: after.status, effectiveAt: after.statusEffectiveAt };
  const status = same(statusBefore, statusAfter) ? null : { before: statusBefore, after: statusAfter };

  const linksBefore = (before?.links ?? []).map(({ incidentId, relation }) => ({ incidentId, relation }));
  const linksAfter = after.links.map(({ incidentId, relation }) => ({ incidentId, relation }));
  const beforeKeys = new Set(linksBefore.map(linkKey));
  const afterKeys = new Set(linksAfter.map(linkKey));

  return {
    facts: { added, removed, changed },
    status,
    details: fieldChanges(DETAIL_FIELDS, before, after),
    impact: fieldChanges(IMPACT_FIELDS, before?.impact ?? null, after.impact),
    links: {
      added: linksAfter.filter((link) => !beforeKeys.has(linkKey(link))),
      removed: linksBefore.filter((link) => !afterKeys.has(linkKey(link))),
    },
  };
}
