import { earliestMs, latestMs, settledBy, sortMs, type EdtfDate } from './edtf-date';
import type { Impact, RecordedEvent, Source } from './events';
import { lowerBoundOf } from './instant';
import {
  resolveAssertedAt,
  evolve,
  type FactCorrection,
  type FactErratum,
  type FactRetraction,
  type FactState,
  type IncidentState,
  type LinkState,
  type StatusPeriod,
} from './state';
import { factKindOf, type Category, type Confidence, type FactKind, type IncidentStatus } from './vocabulary';

/** Normalised point-in-time parameters (RFC 3339 instants, upper bounds inclusive). */
export interface PointInTime {
  asOf?: string;
  knownAt?: string;
  validAt?: string;
}

/**
 * When each fact's original claim became public, errata included: an erratum that moves a fact's `assertedAt` fixes
 * the record, so the fact shows from the corrected time on at every `knownAt`, as if it had been recorded right.
 * Only errata recorded by `asOf` count.
 */
export type FactClaimTimes = ReadonlyMap<string, string>;

export function factClaimTimes(events: Iterable<RecordedEvent>, asOf?: string): FactClaimTimes {
  const times = new Map<string, string>();
  for (const event of events) noteFactClaimTime(times, event, asOf);
  return times;
}

/** Learns from one event when its fact was asserted (for building FactClaimTimes while streaming a log). */
export function noteFactClaimTime(times: Map<string, string>, event: RecordedEvent, asOf?: string): void {
  if (asOf !== undefined && event.recordedAt > asOf) return;
  if (event.type === 'FactAmended') {
    if (event.data.assertedAt !== undefined) times.set(event.data.factId, lowerBoundOf(event.data.assertedAt));
  } else if (factKindOf(event.type) !== undefined) {
    const data = event.data as { factId: string; assertedAt?: string; sources?: Source[] };
    if (!times.has(data.factId))
      times.set(data.factId, resolveAssertedAt(data.assertedAt, data.sources, event.recordedAt));
  }
}

/** When the claim an event carries became public. Every event is a claim; an erratum is dated by its fact. */
export function assertedAtOfEvent(event: RecordedEvent, facts?: FactClaimTimes): string {
  switch (event.type) {
    case 'FactRetracted':
      return resolveAssertedAt(event.data.assertedAt, undefined, event.recordedAt);
    case 'FactAmended':
      return facts?.get(event.data.factId) ?? resolveAssertedAt(undefined, undefined, event.recordedAt);
    case 'IncidentOpened':
    case 'IncidentDetailsRevised':
    case 'IncidentStatusChanged':
    case 'ImpactAssessed':
    case 'IncidentLinked':
    case 'FactCorrected':
      return resolveAssertedAt(event.data.assertedAt, event.data.sources, event.recordedAt);
    default: {
      const data = event.data;
      return facts?.get(data.factId) ?? resolveAssertedAt(data.assertedAt, data.sources, event.recordedAt);
    }
  }
}

/**
 * Whether an event belongs to the events a view is folded from: recorded by `asOf`, and asserted by `knownAt`. Valid
 * time does not filter events; it selects from the state.
 */
export function isInView(event: RecordedEvent, at: PointInTime, facts?: FactClaimTimes): boolean {
  if (at.asOf !== undefined && event.recordedAt > at.asOf) return false;
  if (at.knownAt !== undefined && assertedAtOfEvent(event, facts) > at.knownAt) return false;
  return true;
}

/**
 * The state a point-in-time view shows: the same `evolve` over the events in view. `evolve` places claims in asserted
 * order whatever order they arrive in, so folding the events in view in log order is folding them in asserted order.
 */
export function foldView(events: Iterable<RecordedEvent>, at: PointInTime): IncidentState | null {
  const list = Array.isArray(events) ? (events as RecordedEvent[]) : [...events];
  // Errata are dated by their fact's claim (and may move it): only a stream with errata needs the dates up front.
  const amended = at.knownAt !== undefined && list.some((event) => event.type === 'FactAmended');
  const facts = amended ? factClaimTimes(list, at.asOf) : undefined;
  let state: IncidentState | null = null;
  for (const event of list) if (isInView(event, at, facts)) state = evolve(state, event);
  return state;
}

export interface FactView {
  factId: string;
  kind: FactKind;
  type: string;
  /** The EDTF value as written. */
  occurredAt: string;
  occurredInterval: { earliest: string | null; latest: string | null };
  approximate: boolean;
  uncertain: boolean;
  summary: string;
  confidence: Confidence;
  sources: Source[];
  actors: string[];
  techniques: string[];
  assertedAt: string;
  firstAssertedAt: string;
  recordedAt: string;
  version: number;
  position: number;
  corrected: boolean;
  corrections: FactCorrection[];
  amended: boolean;
  errata: FactErratum[];
  retracted: boolean;
  retraction: FactRetraction | null;
  settled?: boolean;
}

export interface IncidentView {
  id: string;
  assertedAt: string;
  title: string;
  category: Category;
  summary: string;
  victims: string[];
  threatActors: string[];
  status: IncidentStatus | null;
  statusEffectiveAt: string | null;
  impact: Impact;
  links: LinkState[];
  /** Sources of the claims about the incident itself (opening, details, status, impact, links). */
  sources: Source[];
  version: number;
  position: number;
  createdAt: string;
  updatedAt: string;
  timeline: FactView[];
}

export interface ViewOptions {
  validAt?: string;
  /** Hides sources published after it. */
  knownAt?: string;
  includeRetracted?: boolean;
}

/**
 * Timeline order: where a date sorts (its earliest instant, or its latest when the start is open), then its latest,
 * then position in the log.
 */
export function compareFacts(a: FactState, b: FactState): number {
  return (
    compareNumbers(sortMs(a.occurredAt), sortMs(b.occurredAt)) ||
    compareNumbers(latestMs(a.occurredAt), latestMs(b.occurredAt)) ||
    a.position - b.position
  );
}

function compareNumbers(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function occurredBy(date: EdtfDate, validAt: string): boolean {
  return earliestMs(date) <= Date.parse(validAt);
}

/** Sources public by `knownAt` (all without it); a source without `publishedAt` is shown with its claim. */
export function sourcesKnownAt(sources: readonly Source[], knownAt: string | undefined): Source[] {
  if (knownAt === undefined) return [...sources];
  return sources.filter((source) => source.publishedAt === undefined || lowerBoundOf(source.publishedAt) <= knownAt);
}

function factView(fact: FactState, options: ViewOptions): FactView {
  const view: FactView = {
    factId: fact.factId,
    kind: fact.kind,
    type: fact.type,
    occurredAt: fact.occurredAt.value,
    occurredInterval: { earliest: fact.occurredAt.earliest, latest: fact.occurredAt.latest },
    approximate: fact.occurredAt.approximate,
    uncertain: fact.occurredAt.uncertain,
    summary: fact.summary,
    confidence: fact.confidence,
    sources: sourcesKnownAt(fact.sources, options.knownAt),
    actors: fact.actors,
    techniques: fact.techniques,
    assertedAt: fact.assertedAt,
    firstAssertedAt: fact.firstAssertedAt,
    recordedAt: fact.recordedAt,
    version: fact.version,
    position: fact.position,
    corrected: fact.corrections.length > 0,
    corrections: fact.corrections,
    amended: fact.errata.length > 0,
    errata: fact.errata,
    retracted: fact.retraction !== null,
    retraction: fact.retraction,
  };
  if (options.validAt !== undefined) view.settled = settledBy(fact.occurredAt, Date.parse(options.validAt));
  return view;
}

export function timelineOf(state: IncidentState, options: ViewOptions = {}): FactView[] {
  const { validAt, includeRetracted = false } = options;
  // Sort keys are computed once per fact, not once per comparison.
  return [...state.facts.unorderedValues()]
    .filter((fact) => includeRetracted || fact.retraction === null)
    .filter((fact) => validAt === undefined || occurredBy(fact.occurredAt, validAt))
    .map((fact) => ({ fact, sort: sortMs(fact.occurredAt), latest: latestMs(fact.occurredAt) }))
    .sort(
      (a, b) =>
        compareNumbers(a.sort, b.sort) || compareNumbers(a.latest, b.latest) || a.fact.position - b.fact.position,
    )
    .map(({ fact }) => factView(fact, options));
}

/** The status period in effect at a valid time, or null before the incident's first status took effect. */
export function statusAt(history: StatusPeriod[], validAt: string): StatusPeriod | null {
  const at = Date.parse(validAt);
  let current: StatusPeriod | null = null;
  for (const period of history) if (Date.parse(period.effectiveAt) <= at) current = period;
  return current;
}

/** The status history as a view shows it: sources published after `knownAt` hidden. */
export function statusHistoryOf(state: IncidentState, options: ViewOptions = {}): StatusPeriod[] {
  return state.statusHistory.map((period) => ({ ...period, sources: sourcesKnownAt(period.sources, options.knownAt) }));
}

function incidentSources(state: IncidentState): Source[] {
  const all: Source[] = [];
  const lists = [
    ...state.details.map((claim) => claim.sources),
    ...state.statusHistory.map((period) => period.sources),
    ...state.impactClaims.map((claim) => claim.sources),
    ...state.links.map((link) => link.sources),
  ];
  for (const list of lists) {
    for (const source of list) if (!all.some((known) => known.url === source.url)) all.push(source);
  }
  return all;
}

export function incidentView(state: IncidentState, options: ViewOptions = {}): IncidentView {
  const period = options.validAt === undefined ? null : statusAt(state.statusHistory, options.validAt);
  return {
    id: state.id,
    assertedAt: state.assertedAt,
    title: state.title,
    category: state.category,
    summary: state.summary,
    victims: state.victims,
    threatActors: state.threatActors,
    status: options.validAt === undefined ? state.status : (period?.to ?? null),
    statusEffectiveAt: options.validAt === undefined ? state.statusEffectiveAt : (period?.effectiveAt ?? null),
    impact: state.impact,
    links: state.links.map((link) => ({ ...link, sources: sourcesKnownAt(link.sources, options.knownAt) })),
    sources: sourcesKnownAt(incidentSources(state), options.knownAt),
    version: state.version,
    position: state.position,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    timeline: timelineOf(state, options),
  };
}
