/**
 * A reference model of the time rules (SPEC §3), written apart from the domain so that a mistake in the service's
 * fold cannot hide in both. It reads an incident's stored events (as GET /v1/incidents/{id}/history returns them)
 * and answers the live, `asOf`, `knownAt` and `validAt` views with plain data and direct rules: for every field, the
 * claim in view with the greatest (assertedAt, position) wins. It imports nothing from the domain; EDTF intervals
 * come from a fixed table of the values the oracle's generator writes.
 */

/** An event as the history route returns it (only what the rules read). */
export interface HistoryEvent {
  type: string;
  data: Record<string, any>;
  recordedAt: string;
  position: number;
  version: number;
}

/** A point in time as sent in a query: a date (YYYY-MM-DD) or an RFC 3339 instant. */
export interface ModelPointInTime {
  asOf?: string;
  knownAt?: string;
  validAt?: string;
}

export interface ModelSource {
  url: string;
  title?: string;
  publisher?: string;
  publishedAt?: string;
}

export interface ModelFact {
  factId: string;
  kind: string;
  occurredAt: string;
  occurredInterval: { earliest: string | null; latest: string | null };
  approximate: boolean;
  uncertain: boolean;
  summary: string;
  confidence: string;
  actors: string[];
  techniques: string[];
  sources: ModelSource[];
  assertedAt: string;
  retracted: boolean;
  settled?: boolean;
}

export interface ModelStatusPeriod {
  from: string | null;
  to: string;
  effectiveAt: string;
}

export interface ModelIncident {
  /** When the incident itself became public: its opening's assertedAt. */
  assertedAt: string;
  title: string;
  category: string;
  summary: string;
  victims: string[];
  threatActors: string[];
  status: string | null;
  statusEffectiveAt: string | null;
  impact: Record<string, number>;
  links: { incidentId: string; relation: string }[];
  /** Every fact in view, retracted ones included, in timeline order. */
  timeline: ModelFact[];
  /** Status periods in valid-time order (cut at validAt when given). */
  statusHistory: ModelStatusPeriod[];
}

export interface EdtfEntry {
  earliest: string | null;
  latest: string | null;
  approximate: boolean;
  uncertain: boolean;
}

/**
 * The EDTF values the generator uses, with their intervals worked out by hand from SPEC §3: a day, month or year is
 * that period; `a/b` runs from a's start to b's end; `..` is an open end; `?` keeps the bounds; `~` (and `%`) widen by
 * one unit of the value's precision on each side; seasons 21-24 are spring (Mar-May), summer (Jun-Aug), autumn
 * (Sep-Nov) and winter (Dec-Feb of the next year); `[a,b]` spans a's start to b's end.
 */
export const EDTF_TABLE: Readonly<Record<string, EdtfEntry>> = {
  '2023-06-16': edtf('2023-06-16T00:00:00.000Z', '2023-06-16T23:59:59.999Z'),
  '2023-06': edtf('2023-06-01T00:00:00.000Z', '2023-06-30T23:59:59.999Z'),
  '2022': edtf('2022-01-01T00:00:00.000Z', '2022-12-31T23:59:59.999Z'),
  '2023-05/2023-06': edtf('2023-05-01T00:00:00.000Z', '2023-06-30T23:59:59.999Z'),
  '../2023-05': edtf(null, '2023-05-31T23:59:59.999Z'),
  '2019/..': edtf('2019-01-01T00:00:00.000Z', null),
  '2021-04?': edtf('2021-04-01T00:00:00.000Z', '2021-04-30T23:59:59.999Z', { uncertain: true }),
  '2021-04~': edtf('2021-03-01T00:00:00.000Z', '2021-05-31T23:59:59.999Z', { approximate: true }),
  '2021~': edtf('2020-01-01T00:00:00.000Z', '2022-12-31T23:59:59.999Z', { approximate: true }),
  '2022-12-25%': edtf('2022-12-24T00:00:00.000Z', '2022-12-26T23:59:59.999Z', { approximate: true, uncertain: true }),
  '2023-21': edtf('2023-03-01T00:00:00.000Z', '2023-05-31T23:59:59.999Z'),
  '2023-24': edtf('2023-12-01T00:00:00.000Z', '2024-02-29T23:59:59.999Z'),
  '[2022-11,2023-02]': edtf('2022-11-01T00:00:00.000Z', '2023-02-28T23:59:59.999Z'),
};

function edtf(
  earliest: string | null,
  latest: string | null,
  flags: { approximate?: boolean; uncertain?: boolean } = {},
): EdtfEntry {
  return { earliest, latest, approximate: flags.approximate ?? false, uncertain: flags.uncertain ?? false };
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/** A date or instant in a body or a source: a date is its first instant (UTC). */
export function instantOf(value: string): number {
  const ms = DATE_ONLY.test(value) ? Date.parse(`${value}T00:00:00.000Z`) : Date.parse(value);
  if (Number.isNaN(ms)) throw new Error(`reference model: not a date or instant: ${value}`);
  return ms;
}

/** A date or instant in a query: a date is its last instant (UTC). */
export function queryBoundOf(value: string): number {
  return DATE_ONLY.test(value) ? instantOf(value) + DAY_MS - 1 : instantOf(value);
}

const iso = (ms: number) => new Date(ms).toISOString();

const FACT_SIDE_EVENTS = new Set(['FactCorrected', 'FactRetracted', 'FactAmended']);
const INCIDENT_EVENTS = new Set([
  'IncidentOpened',
  'IncidentDetailsRevised',
  'IncidentStatusChanged',
  'ImpactAssessed',
  'IncidentLinked',
]);
/** A fact is recorded as an event of its own kind's type; the data names the fact (factId, kind, occurredAt). */
const isFactRecorded = (event: HistoryEvent) =>
  !FACT_SIDE_EVENTS.has(event.type) && !INCIDENT_EVENTS.has(event.type) && typeof event.data.factId === 'string';

const DETAIL_FIELDS = ['title', 'category', 'summary', 'victims', 'threatActors'] as const;
const IMPACT_FIELDS = ['lossUsd', 'records', 'organisations'] as const;
const FACT_FIELDS = ['occurredAt', 'summary', 'confidence', 'actors', 'techniques'] as const;

/** A claim's own assertedAt: its assertedAt, else its sources' earliest publishedAt, else its recorded time. */
function claimAssertedAt(event: HistoryEvent): number {
  if (typeof event.data.assertedAt === 'string') return instantOf(event.data.assertedAt);
  const published = ((event.data.sources ?? []) as ModelSource[])
    .filter((source) => source.publishedAt !== undefined)
    .map((source) => instantOf(source.publishedAt!));
  return published.length > 0 ? Math.min(...published) : instantOf(event.recordedAt);
}

/** (assertedAt, position), ascending. */
function byAsserted<T extends { assertedAt: number; position: number }>(a: T, b: T): number {
  return a.assertedAt - b.assertedAt || a.position - b.position;
}

const sameSource = (a: ModelSource, b: ModelSource) =>
  a.url === b.url && a.title === b.title && a.publisher === b.publisher && a.publishedAt === b.publishedAt;

function plainSource(source: ModelSource): ModelSource {
  return {
    url: source.url,
    ...(source.title !== undefined && { title: source.title }),
    ...(source.publisher !== undefined && { publisher: source.publisher }),
    ...(source.publishedAt !== undefined && { publishedAt: source.publishedAt }),
  };
}

/** The incident as the given point in time sees it, or null where it does not exist (404). */
export function modelView(history: readonly HistoryEvent[], at: ModelPointInTime = {}): ModelIncident | null {
  const asOf = at.asOf === undefined ? undefined : queryBoundOf(at.asOf);
  const knownAt = at.knownAt === undefined ? undefined : queryBoundOf(at.knownAt);
  const validAt = at.validAt === undefined ? undefined : queryBoundOf(at.validAt);

  const recorded = [...history]
    .sort((a, b) => a.position - b.position)
    .filter((event) => asOf === undefined || instantOf(event.recordedAt) <= asOf);

  // A fact's original assertedAt: its own, unless a recorded erratum moved it (the last one that says so).
  const originalAssertedAt = new Map<string, number>();
  for (const event of recorded)
    if (isFactRecorded(event)) originalAssertedAt.set(event.data.factId, claimAssertedAt(event));
  for (const event of recorded) {
    if (
      event.type === 'FactAmended' &&
      typeof event.data.assertedAt === 'string' &&
      originalAssertedAt.has(event.data.factId)
    ) {
      originalAssertedAt.set(event.data.factId, instantOf(event.data.assertedAt));
    }
  }

  const assertedAtOf = (event: HistoryEvent): number | undefined => {
    if (isFactRecorded(event) || event.type === 'FactAmended') return originalAssertedAt.get(event.data.factId);
    return claimAssertedAt(event);
  };
  const kept = recorded
    .map((event) => ({ event, assertedAt: assertedAtOf(event), position: event.position }))
    .filter(
      (entry): entry is { event: HistoryEvent; assertedAt: number; position: number } =>
        entry.assertedAt !== undefined && (knownAt === undefined || entry.assertedAt <= knownAt),
    );

  const opening = kept.find((entry) => entry.event.type === 'IncidentOpened');
  if (opening === undefined) return null;

  // Details: per field, the claim naming it with the greatest (assertedAt, position).
  const details: Record<string, unknown> = {};
  for (const field of DETAIL_FIELDS) {
    const naming = kept
      .filter((entry) =>
        entry.event.type === 'IncidentOpened'
          ? true
          : entry.event.type === 'IncidentDetailsRevised' && entry.event.data.changes?.[field] !== undefined,
      )
      .sort(byAsserted);
    const last = naming[naming.length - 1].event;
    details[field] = last.type === 'IncidentOpened' ? last.data[field] : last.data.changes[field];
  }

  // Impact: per field, the assessment naming it with the greatest (assertedAt, position).
  const impact: Record<string, number> = {};
  for (const field of IMPACT_FIELDS) {
    const naming = kept
      .filter((entry) => entry.event.type === 'ImpactAssessed' && entry.event.data[field] !== undefined)
      .sort(byAsserted);
    if (naming.length > 0) impact[field] = naming[naming.length - 1].event.data[field];
  }

  // Status: periods in valid time (effectiveAt, then position); the status at validAt is the last begun by then.
  const periods = [
    {
      to: opening.event.data.status as string,
      effectiveAt: instantOf(opening.event.data.effectiveAt),
      position: opening.position,
    },
    ...kept
      .filter((entry) => entry.event.type === 'IncidentStatusChanged')
      .map((entry) => ({
        to: entry.event.data.to as string,
        effectiveAt: instantOf(entry.event.data.effectiveAt),
        position: entry.position,
      })),
  ].sort((a, b) => a.effectiveAt - b.effectiveAt || a.position - b.position);
  const periodsInView = periods.filter((period) => validAt === undefined || period.effectiveAt <= validAt);
  const current = periodsInView[periodsInView.length - 1];
  const statusHistory = periodsInView.map((period, index) => ({
    from: index === 0 ? null : periodsInView[index - 1].to,
    to: period.to,
    effectiveAt: iso(period.effectiveAt),
  }));

  const links = kept
    .filter((entry) => entry.event.type === 'IncidentLinked')
    .sort(byAsserted)
    .map((entry) => ({
      incidentId: entry.event.data.incidentId as string,
      relation: entry.event.data.relation as string,
    }));

  const timeline = kept
    .filter((entry) => isFactRecorded(entry.event))
    .map((entry) => foldFact(entry, kept, knownAt))
    .sort((a, b) => compareTimeline(a.view, a.position, b.view, b.position))
    .map((fact) => fact.view)
    .filter(
      (fact) =>
        validAt === undefined ||
        fact.occurredInterval.earliest === null ||
        instantOf(fact.occurredInterval.earliest) <= validAt,
    )
    .map((fact) => (validAt === undefined ? fact : { ...fact, settled: isSettled(fact, validAt) }));

  return {
    assertedAt: iso(opening.assertedAt),
    title: details.title as string,
    category: details.category as string,
    summary: details.summary as string,
    victims: details.victims as string[],
    threatActors: details.threatActors as string[],
    status: current?.to ?? null,
    statusEffectiveAt: current === undefined ? null : iso(current.effectiveAt),
    impact,
    links,
    timeline,
    statusHistory,
  };
}

type KeptEvent = { event: HistoryEvent; assertedAt: number; position: number };

/** A fact: its original claim, then errata in position order, then corrections in asserted order. */
function foldFact(original: KeptEvent, kept: KeptEvent[], knownAt: number | undefined) {
  const factId = original.event.data.factId as string;
  const data = original.event.data;
  const fact: Record<string, any> = {
    occurredAt: data.occurredAt,
    summary: data.summary,
    confidence: data.confidence,
    actors: data.actors ?? [],
    techniques: data.techniques ?? [],
  };
  let sources: ModelSource[] = (data.sources ?? []).map(plainSource);
  const about = kept.filter((entry) => entry.event.data.factId === factId);

  for (const erratum of about
    .filter((entry) => entry.event.type === 'FactAmended')
    .sort((a, b) => a.position - b.position)) {
    for (const field of FACT_FIELDS) {
      if (erratum.event.data.changes?.[field] !== undefined) fact[field] = erratum.event.data.changes[field];
    }
    if (erratum.event.data.sources !== undefined) sources = erratum.event.data.sources.map(plainSource);
  }

  let assertedAt = original.assertedAt;
  for (const correction of about.filter((entry) => entry.event.type === 'FactCorrected').sort(byAsserted)) {
    for (const field of FACT_FIELDS) {
      if (correction.event.data.changes?.[field] !== undefined) fact[field] = correction.event.data.changes[field];
    }
    for (const source of (correction.event.data.sources ?? []) as ModelSource[]) {
      if (!sources.some((known) => sameSource(known, source))) sources.push(plainSource(source));
    }
    assertedAt = Math.max(assertedAt, correction.assertedAt);
  }

  const interval = EDTF_TABLE[fact.occurredAt as string];
  if (interval === undefined) throw new Error(`reference model: no EDTF table entry for ${fact.occurredAt}`);
  const view: ModelFact = {
    factId,
    kind: data.kind,
    occurredAt: fact.occurredAt,
    occurredInterval: { earliest: interval.earliest, latest: interval.latest },
    approximate: interval.approximate,
    uncertain: interval.uncertain,
    summary: fact.summary,
    confidence: fact.confidence,
    actors: fact.actors,
    techniques: fact.techniques,
    sources: sources.filter(
      (source) => knownAt === undefined || source.publishedAt === undefined || instantOf(source.publishedAt) <= knownAt,
    ),
    assertedAt: iso(assertedAt),
    retracted: about.some((entry) => entry.event.type === 'FactRetracted'),
  };
  return { view, position: original.position };
}

/** Timeline order: earliest (latest for an open start), then latest (an open end last), then position. */
function compareTimeline(a: ModelFact, aPosition: number, b: ModelFact, bPosition: number): number {
  const key = (fact: ModelFact) => instantOf(fact.occurredInterval.earliest ?? fact.occurredInterval.latest!);
  const latest = (fact: ModelFact) =>
    fact.occurredInterval.latest === null ? Number.POSITIVE_INFINITY : instantOf(fact.occurredInterval.latest);
  return key(a) - key(b) || latest(a) - latest(b) || aPosition - bPosition;
}

/** Settled at validAt: neither approximate nor uncertain, and certainly over by then. */
function isSettled(fact: ModelFact, validAt: number): boolean {
  return (
    !fact.approximate &&
    !fact.uncertain &&
    fact.occurredInterval.latest !== null &&
    instantOf(fact.occurredInterval.latest) <= validAt
  );
}
