import { parseEdtf, type EdtfDate } from './edtf-date';
import type { DetailsChanges, FactChanges, FactRecorded, Impact, RecordedEvent, Source } from './events';
import { lowerBoundOf } from './instant';
import { PersistentMap } from './persistent-map';
import {
  factKindOf,
  type Category,
  type Confidence,
  type FactEventType,
  type FactKind,
  type IncidentStatus,
  type Relation,
} from './vocabulary';

/**
 * Claims apply in asserted order: by `assertedAt`, then by position in the log. Every claim keeps the key it was
 * ordered by, so a claim recorded late (a backfill) takes its place among the others whatever the order of arrival:
 * folding the same events in any order gives the same state.
 */
export interface ClaimKey {
  /** Canonical RFC 3339 instant (`toISOString`), so text order is time order for the years 0000-9999. */
  assertedAt: string;
  position: number;
}

export function compareClaims(a: ClaimKey, b: ClaimKey): number {
  if (a.assertedAt !== b.assertedAt) return a.assertedAt < b.assertedAt ? -1 : 1;
  return a.position - b.position;
}

/** Inserts into an array kept sorted by `compare`, after any equal items; returns a new array. */
function insertSorted<T>(items: readonly T[], item: T, compare: (a: T, b: T) => number): T[] {
  let index = items.length;
  while (index > 0 && compare(items[index - 1], item) > 0) index -= 1;
  return [...items.slice(0, index), item, ...items.slice(index)];
}

/**
 * When a claim became public: its own `assertedAt`, else the earliest `publishedAt` among its sources, else the
 * time this service recorded it (which is also how events stored before claims carried `assertedAt` read).
 */
export function resolveAssertedAt(assertedAt: string | undefined, sources: Source[] | undefined, recordedAt: string) {
  if (assertedAt) return lowerBoundOf(assertedAt);
  const published = (sources ?? [])
    .map((source) => source.publishedAt)
    .filter((value): value is string => typeof value === 'string')
    .map(lowerBoundOf)
    .sort();
  return published[0] ?? lowerBoundOf(recordedAt);
}

export interface DetailsClaim extends ClaimKey {
  changes: DetailsChanges;
  reason?: string;
  sources: Source[];
  recordedAt: string;
  version: number;
}

export interface ImpactClaim extends ClaimKey {
  impact: Impact;
  sources: Source[];
  recordedAt: string;
  version: number;
}

export interface StatusPeriod {
  /** The status before this one in valid time (null for the first). */
  from: IncidentStatus | null;
  to: IncidentStatus;
  effectiveAt: string;
  assertedAt: string;
  recordedAt: string;
  reason?: string;
  sources: Source[];
  version: number;
  position: number;
}

export interface LinkState extends ClaimKey {
  incidentId: string;
  relation: Relation;
  reason?: string;
  sources: Source[];
  recordedAt: string;
  version: number;
}

/** What a fact says. */
export interface FactContent {
  occurredAt: string;
  summary: string;
  confidence: Confidence;
  actors: string[];
  techniques: string[];
  sources: Source[];
}

export interface FactCorrection extends ClaimKey {
  reason: string;
  changes: FactChanges & { sources?: Source[]; assertedAt?: string };
  recordedAt: string;
  version: number;
}

export interface FactErratum {
  reason: string;
  changes: FactChanges & { sources?: Source[]; assertedAt?: string };
  recordedAt: string;
  version: number;
  position: number;
}

export interface FactRetraction extends ClaimKey {
  reason: string;
  recordedAt: string;
  version: number;
}

export interface FactState {
  factId: string;
  kind: FactKind;
  type: FactEventType;
  /** The original claim as recorded, before errata. */
  original: FactContent & { assertedAt: string };
  /** Errata, in the order recorded; they amend the original claim. */
  errata: FactErratum[];
  /** Corrections in asserted order. */
  corrections: FactCorrection[];
  retraction: FactRetraction | null;
  // What the fact says now: the original claim with its errata, then every correction in asserted order.
  occurredAt: EdtfDate;
  summary: string;
  confidence: Confidence;
  actors: string[];
  techniques: string[];
  sources: Source[];
  /** When the claim as it now stands was made public (the last correction in asserted order, else the fact). */
  assertedAt: string;
  /** When the original claim was made public (after errata). */
  firstAssertedAt: string;
  recordedAt: string;
  version: number;
  position: number;
}

export interface IncidentState {
  id: string;
  /** When the incident itself became publicly known. */
  assertedAt: string;
  title: string;
  category: Category;
  summary: string;
  victims: string[];
  threatActors: string[];
  /** Every claim about the details, the opening first, in asserted order. */
  details: DetailsClaim[];
  status: IncidentStatus;
  statusEffectiveAt: string;
  /** Status periods in valid-time order (`effectiveAt`, then position). */
  statusHistory: StatusPeriod[];
  impact: Impact;
  impactClaims: ImpactClaim[];
  links: LinkState[];
  facts: PersistentMap<FactState>;
  version: number;
  position: number;
  createdAt: string;
  updatedAt: string;
}

export const DETAIL_FIELDS = ['title', 'category', 'summary', 'victims', 'threatActors'] as const;
export const IMPACT_FIELDS = ['lossUsd', 'records', 'organisations'] as const;
export const FACT_FIELDS = ['occurredAt', 'summary', 'confidence', 'actors', 'techniques'] as const;

function edtfOrThrow(value: string): EdtfDate {
  const parsed = parseEdtf(value);
  if (!parsed.ok) throw new Error(`Stored occurredAt is not EDTF: ${value}`);
  return parsed.date;
}

function sameSource(a: Source, b: Source): boolean {
  return a.url === b.url && a.title === b.title && a.publisher === b.publisher && a.publishedAt === b.publishedAt;
}

/** Sources in order of first mention, each once. */
export function mergeSources(...lists: (readonly Source[] | undefined)[]): Source[] {
  const merged: Source[] = [];
  for (const list of lists)
    for (const source of list ?? []) if (!merged.some((s) => sameSource(s, source))) merged.push(source);
  return merged;
}

/** The details as the given claims (in asserted order) tell them: for each field, the last claim naming it. */
export function resolveDetails(claims: readonly DetailsClaim[]): Required<DetailsChanges> {
  const resolved = {} as Required<DetailsChanges>;
  for (const claim of claims) Object.assign(resolved, claim.changes);
  return resolved;
}

export function resolveImpact(claims: readonly ImpactClaim[]): Impact {
  const resolved: Impact = {};
  for (const claim of claims) Object.assign(resolved, claim.impact);
  return resolved;
}

function applyFactChanges(content: FactContent, changes: FactChanges): FactContent {
  return {
    ...content,
    ...(changes.occurredAt !== undefined && { occurredAt: changes.occurredAt }),
    ...(changes.summary !== undefined && { summary: changes.summary }),
    ...(changes.confidence !== undefined && { confidence: changes.confidence }),
    ...(changes.actors !== undefined && { actors: changes.actors }),
    ...(changes.techniques !== undefined && { techniques: changes.techniques }),
  };
}

/** The original claim with its errata applied: what the service should have recorded in the first place. */
export function amendedOriginal(fact: Pick<FactState, 'original' | 'errata'>): FactContent & { assertedAt: string } {
  let content: FactContent & { assertedAt: string } = fact.original;
  for (const erratum of fact.errata) {
    const { sources, assertedAt, ...changes } = erratum.changes;
    content = {
      ...applyFactChanges(content, changes),
      assertedAt: assertedAt === undefined ? content.assertedAt : lowerBoundOf(assertedAt),
      sources: sources ?? content.sources,
    };
  }
  return content;
}

/**
 * The fact's content from its claims: the amended original, then each correction asserted by `knownAt` (all when
 * undefined) in asserted order. Corrections' sources add to the fact's.
 */
export function factContentAt(
  fact: Pick<FactState, 'original' | 'errata' | 'corrections'>,
  knownAt?: string,
): FactContent & { assertedAt: string } {
  const original = amendedOriginal(fact);
  let content: FactContent = original;
  let assertedAt = original.assertedAt;
  for (const correction of fact.corrections) {
    if (knownAt !== undefined && correction.assertedAt > knownAt) continue;
    const { sources, assertedAt: _given, ...changes } = correction.changes;
    content = { ...applyFactChanges(content, changes), sources: mergeSources(content.sources, sources) };
    if (correction.assertedAt > assertedAt) assertedAt = correction.assertedAt;
  }
  return { ...content, assertedAt };
}

type FactClaims = Omit<
  FactState,
  'occurredAt' | 'summary' | 'confidence' | 'actors' | 'techniques' | 'sources' | 'assertedAt' | 'firstAssertedAt'
>;

/** Recomputes what a fact says from its claims. */
function resolveFact(fact: FactClaims): FactState {
  // Most facts are never amended or corrected: they say what their original claim says.
  const plain = fact.errata.length === 0 && fact.corrections.length === 0;
  const content = plain ? fact.original : factContentAt(fact);
  return {
    factId: fact.factId,
    kind: fact.kind,
    type: fact.type,
    original: fact.original,
    errata: fact.errata,
    corrections: fact.corrections,
    retraction: fact.retraction,
    occurredAt: edtfOrThrow(content.occurredAt),
    summary: content.summary,
    confidence: content.confidence,
    actors: content.actors,
    techniques: content.techniques,
    sources: content.sources,
    assertedAt: content.assertedAt,
    firstAssertedAt: fact.errata.length === 0 ? fact.original.assertedAt : amendedOriginal(fact).assertedAt,
    recordedAt: fact.recordedAt,
    version: fact.version,
    position: fact.position,
  };
}

function touch(state: IncidentState, event: RecordedEvent): IncidentState {
  return { ...state, version: event.version, position: Number(event.position), updatedAt: event.recordedAt };
}

/** The state with one fact replaced or added, touched by the event that changed it (one copy of the state). */
function withFact(state: IncidentState, fact: FactState, event: RecordedEvent): IncidentState {
  return {
    ...state,
    facts: state.facts.set(fact.factId, fact),
    version: event.version,
    position: Number(event.position),
    updatedAt: event.recordedAt,
  };
}

function withDetails(state: IncidentState, details: DetailsClaim[]): IncidentState {
  return { ...state, ...resolveDetails(details), details };
}

/** Status periods in valid-time order, each `from` the period before it. */
function withStatusHistory(state: IncidentState, periods: StatusPeriod[]): IncidentState {
  const statusHistory = periods.map((period, index) => ({
    ...period,
    from: index === 0 ? null : periods[index - 1].to,
  }));
  const last = statusHistory[statusHistory.length - 1];
  return { ...state, statusHistory, status: last.to, statusEffectiveAt: last.effectiveAt };
}

export function compareStatusPeriods(a: Pick<StatusPeriod, 'effectiveAt' | 'position'>, b: typeof a): number {
  const at = Date.parse(a.effectiveAt) - Date.parse(b.effectiveAt);
  return at !== 0 ? at : a.position - b.position;
}

/** The key a claim event is ordered by. */
function claimKey(event: RecordedEvent, data: { assertedAt?: string; sources?: Source[] }): ClaimKey {
  return {
    assertedAt: resolveAssertedAt(data.assertedAt, data.sources, event.recordedAt),
    position: Number(event.position),
  };
}

/**
 * The one fold from events to state, used by live read models and point-in-time views alike. Claims take their place
 * in asserted order, so the result does not depend on the order claims were recorded in. It is lenient about events
 * that refer to facts it has not seen, because a point-in-time view may filter the fact out while keeping its
 * correction.
 */
export function evolve(state: IncidentState | null, event: RecordedEvent): IncidentState | null {
  if (event.type === 'IncidentOpened') {
    if (state !== null) return state;
    const data = event.data;
    const key = claimKey(event, data);
    const sources = data.sources ?? [];
    const opened: IncidentState = {
      id: data.id,
      assertedAt: key.assertedAt,
      title: data.title,
      category: data.category,
      summary: data.summary,
      victims: data.victims,
      threatActors: data.threatActors,
      details: [
        {
          ...key,
          changes: {
            title: data.title,
            category: data.category,
            summary: data.summary,
            victims: data.victims,
            threatActors: data.threatActors,
          },
          sources,
          recordedAt: event.recordedAt,
          version: event.version,
        },
      ],
      status: data.status,
      statusEffectiveAt: data.effectiveAt,
      statusHistory: [],
      impact: {},
      impactClaims: [],
      links: [],
      facts: PersistentMap.empty(),
      version: event.version,
      position: Number(event.position),
      createdAt: event.recordedAt,
      updatedAt: event.recordedAt,
    };
    return withStatusHistory(opened, [
      {
        from: null,
        to: data.status,
        effectiveAt: data.effectiveAt,
        assertedAt: key.assertedAt,
        recordedAt: event.recordedAt,
        sources,
        version: event.version,
        position: Number(event.position),
      },
    ]);
  }
  if (state === null) return null;

  switch (event.type) {
    case 'IncidentDetailsRevised': {
      const { changes, reason, sources } = event.data;
      const claim: DetailsClaim = {
        ...claimKey(event, event.data),
        changes,
        ...(reason !== undefined && { reason }),
        sources: sources ?? [],
        recordedAt: event.recordedAt,
        version: event.version,
      };
      return touch(withDetails(state, insertSorted(state.details, claim, compareClaims)), event);
    }
    case 'IncidentStatusChanged': {
      const { to, effectiveAt, reason, sources } = event.data;
      const period: StatusPeriod = {
        from: null,
        to,
        effectiveAt,
        assertedAt: claimKey(event, event.data).assertedAt,
        recordedAt: event.recordedAt,
        ...(reason !== undefined && { reason }),
        sources: sources ?? [],
        version: event.version,
        position: Number(event.position),
      };
      return touch(withStatusHistory(state, insertSorted(state.statusHistory, period, compareStatusPeriods)), event);
    }
    case 'ImpactAssessed': {
      const { assertedAt: _assertedAt, sources, ...impact } = event.data;
      const claim: ImpactClaim = {
        ...claimKey(event, event.data),
        impact,
        sources: sources ?? [],
        recordedAt: event.recordedAt,
        version: event.version,
      };
      const impactClaims = insertSorted(state.impactClaims, claim, compareClaims);
      return touch({ ...state, impactClaims, impact: resolveImpact(impactClaims) }, event);
    }
    case 'IncidentLinked': {
      const { incidentId, relation, reason, sources } = event.data;
      const link: LinkState = {
        ...claimKey(event, event.data),
        incidentId,
        relation,
        ...(reason !== undefined && { reason }),
        sources: sources ?? [],
        recordedAt: event.recordedAt,
        version: event.version,
      };
      return touch({ ...state, links: insertSorted(state.links, link, compareClaims) }, event);
    }
    case 'FactCorrected': {
      const fact = state.facts.get(event.data.factId);
      if (!fact) return touch(state, event);
      const { changes, sources, assertedAt, reason } = event.data;
      const correction: FactCorrection = {
        ...claimKey(event, event.data),
        reason,
        changes: { ...changes, ...(sources && { sources }), ...(assertedAt && { assertedAt }) },
        recordedAt: event.recordedAt,
        version: event.version,
      };
      return withFact(
        state,
        resolveFact({ ...fact, corrections: insertSorted(fact.corrections, correction, compareClaims) }),
        event,
      );
    }
    case 'FactAmended': {
      const fact = state.facts.get(event.data.factId);
      if (!fact) return touch(state, event);
      const { changes, sources, assertedAt, reason } = event.data;
      const erratum: FactErratum = {
        reason,
        changes: { ...changes, ...(sources && { sources }), ...(assertedAt && { assertedAt }) },
        recordedAt: event.recordedAt,
        version: event.version,
        position: Number(event.position),
      };
      return withFact(state, resolveFact({ ...fact, errata: [...fact.errata, erratum] }), event);
    }
    case 'FactRetracted': {
      const fact = state.facts.get(event.data.factId);
      if (!fact) return touch(state, event);
      const retraction: FactRetraction = {
        ...claimKey(event, { assertedAt: event.data.assertedAt }),
        reason: event.data.reason,
        recordedAt: event.recordedAt,
        version: event.version,
      };
      // Of two retractions (possible only in old logs), the one asserted first stands.
      if (fact.retraction !== null && compareClaims(fact.retraction, retraction) <= 0) return touch(state, event);
      return withFact(state, { ...fact, retraction }, event);
    }
    default: {
      // Compile-time exhaustiveness: only fact events may reach this branch.
      const factEvent: RecordedEvent<FactRecorded> = event;
      const kind = factKindOf(factEvent.type);
      if (kind === undefined) throw new Error(`Unknown event type: ${factEvent.type}`);
      const data = factEvent.data;
      if (state.facts.has(data.factId)) return touch(state, event);
      const fact = resolveFact({
        factId: data.factId,
        kind,
        type: factEvent.type,
        original: {
          occurredAt: data.occurredAt,
          summary: data.summary,
          confidence: data.confidence,
          actors: data.actors ?? [],
          techniques: data.techniques ?? [],
          sources: data.sources ?? [],
          assertedAt: claimKey(event, data).assertedAt,
        },
        errata: [],
        corrections: [],
        retraction: null,
        recordedAt: event.recordedAt,
        version: event.version,
        position: Number(event.position),
      });
      return withFact(state, fact, event);
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
