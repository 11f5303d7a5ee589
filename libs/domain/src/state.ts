import { parseEdtf, type EdtfDate } from './edtf-date';
import type { FactChanges, FactRecorded, Impact, IncidentLinkedData, RecordedEvent, Source } from './events';
import { lowerBoundOf } from './instant';
import {
  factKindOf,
  type Category,
  type Confidence,
  type FactEventType,
  type FactKind,
  type IncidentStatus,
} from './vocabulary';

export interface FactAmendment {
  reason: string;
  changes: FactChanges & { sources?: Source[]; assertedAt?: string };
  recordedAt: string;
  assertedAt: string;
  version: number;
}

export interface FactRetraction {
  reason: string;
  recordedAt: string;
  assertedAt: string;
  version: number;
}

export interface FactState {
  factId: string;
  kind: FactKind;
  type: FactEventType;
  occurredAt: EdtfDate;
  summary: string;
  confidence: Confidence;
  sources: Source[];
  actors: string[];
  /** When the claim as it now stands was made public (the latest asserted correction, else the fact itself). */
  assertedAt: string;
  firstAssertedAt: string;
  recordedAt: string;
  version: number;
  position: number;
  corrections: FactAmendment[];
  retraction: FactRetraction | null;
}

export interface StatusPeriod {
  from: IncidentStatus | null;
  to: IncidentStatus;
  effectiveAt: string;
  recordedAt: string;
  reason?: string;
  version: number;
}

export interface LinkState extends IncidentLinkedData {
  recordedAt: string;
}

export interface IncidentState {
  id: string;
  title: string;
  category: Category;
  summary: string;
  victims: string[];
  threatActors: string[];
  status: IncidentStatus;
  statusEffectiveAt: string;
  impact: Impact;
  links: LinkState[];
  facts: Record<string, FactState>;
  statusHistory: StatusPeriod[];
  version: number;
  position: number;
  createdAt: string;
  updatedAt: string;
}

/**
 * When a claim became public: its own `assertedAt`, else the earliest `publishedAt` among its sources, else the
 * time this service recorded it.
 */
export function resolveAssertedAt(assertedAt: string | undefined, sources: Source[] | undefined, recordedAt: string) {
  if (assertedAt) return lowerBoundOf(assertedAt);
  const published = (sources ?? [])
    .map((source) => source.publishedAt)
    .filter((value): value is string => typeof value === 'string')
    .map(lowerBoundOf)
    .sort();
  return published[0] ?? recordedAt;
}

function edtfOrThrow(value: string): EdtfDate {
  const parsed = parseEdtf(value);
  if (!parsed.ok) throw new Error(`Stored occurredAt is not EDTF: ${value}`);
  return parsed.date;
}

function touch(state: IncidentState, event: RecordedEvent): IncidentState {
  return { ...state, version: event.version, position: Number(event.position), updatedAt: event.recordedAt };
}

function withFact(state: IncidentState, fact: FactState): IncidentState {
  return { ...state, facts: { ...state.facts, [fact.factId]: fact } };
}

/**
 * The one fold from events to state, used by live read models and point-in-time views alike. It is lenient about
 * events that refer to facts it has not seen, because a point-in-time view may filter the fact out while keeping its
 * correction.
 */
export function evolve(state: IncidentState | null, event: RecordedEvent): IncidentState | null {
  if (event.type === 'IncidentOpened') {
    if (state !== null) return state;
    const data = event.data;
    return {
      id: data.id,
      title: data.title,
      category: data.category,
      summary: data.summary,
      victims: data.victims,
      threatActors: data.threatActors,
      status: data.status,
      statusEffectiveAt: data.effectiveAt,
      impact: {},
      links: [],
      facts: {},
      statusHistory: [
        {
          from: null,
          to: data.status,
          effectiveAt: data.effectiveAt,
          recordedAt: event.recordedAt,
          version: event.version,
        },
      ],
      version: event.version,
      position: Number(event.position),
      createdAt: event.recordedAt,
      updatedAt: event.recordedAt,
    };
  }
  if (state === null) return null;

  switch (event.type) {
    case 'IncidentDetailsRevised':
      return touch({ ...state, ...event.data.changes }, event);
    case 'IncidentStatusChanged': {
      const { from, to, effectiveAt, reason } = event.data;
      const period: StatusPeriod = { from, to, effectiveAt, recordedAt: event.recordedAt, version: event.version };
      if (reason !== undefined) period.reason = reason;
      return touch(
        { ...state, status: to, statusEffectiveAt: effectiveAt, statusHistory: [...state.statusHistory, period] },
        event,
      );
    }
    case 'ImpactAssessed':
      return touch({ ...state, impact: { ...state.impact, ...event.data } }, event);
    case 'IncidentLinked':
      return touch({ ...state, links: [...state.links, { ...event.data, recordedAt: event.recordedAt }] }, event);
    case 'FactCorrected': {
      const fact = state.facts[event.data.factId];
      if (!fact) return touch(state, event);
      const { changes, sources, assertedAt, reason } = event.data;
      const correctionAssertedAt = resolveAssertedAt(assertedAt, sources, event.recordedAt);
      const amended: FactState = {
        ...fact,
        ...(changes.summary !== undefined && { summary: changes.summary }),
        ...(changes.confidence !== undefined && { confidence: changes.confidence }),
        ...(changes.actors !== undefined && { actors: changes.actors }),
        ...(changes.occurredAt !== undefined && { occurredAt: edtfOrThrow(changes.occurredAt) }),
        sources: sources === undefined ? fact.sources : [...fact.sources, ...sources],
        assertedAt: correctionAssertedAt,
        corrections: [
          ...fact.corrections,
          {
            reason,
            changes: { ...changes, ...(sources && { sources }), ...(assertedAt && { assertedAt }) },
            recordedAt: event.recordedAt,
            assertedAt: correctionAssertedAt,
            version: event.version,
          },
        ],
      };
      return touch(withFact(state, amended), event);
    }
    case 'FactRetracted': {
      const fact = state.facts[event.data.factId];
      if (!fact) return touch(state, event);
      const retraction: FactRetraction = {
        reason: event.data.reason,
        recordedAt: event.recordedAt,
        assertedAt: resolveAssertedAt(event.data.assertedAt, undefined, event.recordedAt),
        version: event.version,
      };
      return touch(withFact(state, { ...fact, retraction }), event);
    }
    default: {
      // Compile-time exhaustiveness: only fact events may reach this branch.
      const factEvent: RecordedEvent<FactRecorded> = event;
      const kind = factKindOf(factEvent.type);
      if (kind === undefined) throw new Error(`Unknown event type: ${factEvent.type}`);
      const data = factEvent.data;
      const assertedAt = resolveAssertedAt(data.assertedAt, data.sources, event.recordedAt);
      const fact: FactState = {
        factId: data.factId,
        kind,
        type: factEvent.type,
        occurredAt: edtfOrThrow(data.occurredAt),
        summary: data.summary,
        confidence: data.confidence,
        sources: data.sources,
        actors: data.actors ?? [],
        assertedAt,
        firstAssertedAt: assertedAt,
        recordedAt: event.recordedAt,
        version: event.version,
        position: Number(event.position),
        corrections: [],
        retraction: null,
      };
      return touch(withFact(state, fact), event);
    }
  }
}

export function foldEvents(
  events: Iterable<RecordedEvent>,
  initial: IncidentState | null = null,
): IncidentState | null {
  let state = initial;
  for (const event of events) state = evolve(state, event);
  return state;
}
