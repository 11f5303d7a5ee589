import { earliestMs, latestMs, type EdtfDate } from './edtf-date';
import type { Impact, RecordedEvent, Source } from './events';
import {
  resolveAssertedAt,
  evolve,
  type FactState,
  type IncidentState,
  type StatusPeriod,
  type LinkState,
} from './state';
import { factKindOf, type Category, type Confidence, type FactKind, type IncidentStatus } from './vocabulary';

/** Normalised point-in-time parameters (RFC 3339 instants, upper bounds inclusive). */
export interface PointInTime {
  asOf?: string;
  knownAt?: string;
  validAt?: string;
}

/** When the claim an event carries became public, or undefined for events that are not claims about facts. */
export function assertedAtOfEvent(event: RecordedEvent): string | undefined {
  if (event.type === 'FactCorrected')
    return resolveAssertedAt(event.data.assertedAt, event.data.sources, event.recordedAt);
  if (event.type === 'FactRetracted') return resolveAssertedAt(event.data.assertedAt, undefined, event.recordedAt);
  if (factKindOf(event.type) !== undefined) {
    const data = event.data as { assertedAt?: string; sources?: Source[] };
    return resolveAssertedAt(data.assertedAt, data.sources, event.recordedAt);
  }
  return undefined;
}

/**
 * Whether an event belongs to the prefix of the log a view is folded from: recorded by `asOf`, and (for facts,
 * corrections and retractions) asserted by `knownAt`. Valid time does not filter events; it selects from the state.
 */
export function isInView(event: RecordedEvent, at: PointInTime): boolean {
  if (at.asOf !== undefined && event.recordedAt > at.asOf) return false;
  if (at.knownAt !== undefined) {
    const assertedAt = assertedAtOfEvent(event);
    if (assertedAt !== undefined && assertedAt > at.knownAt) return false;
  }
  return true;
}

/** The state a point-in-time view shows: the same `evolve` over the events in view. */
export function foldView(events: Iterable<RecordedEvent>, at: PointInTime): IncidentState | null {
  let state: IncidentState | null = null;
  for (const event of events) if (isInView(event, at)) state = evolve(state, event);
  return state;
}

export interface FactView {
  factId: string;
  kind: FactKind;
  type: string;
  occurredAt: string;
  occurredInterval: { earliest: string | null; latest: string | null };
  summary: string;
  confidence: Confidence;
  sources: Source[];
  actors: string[];
  assertedAt: string;
  recordedAt: string;
  version: number;
  position: number;
  corrected: boolean;
  corrections: FactState['corrections'];
  retracted: boolean;
  retraction: FactState['retraction'];
  settled?: boolean;
}

export interface IncidentView {
  id: string;
  title: string;
  category: Category;
  summary: string;
  victims: string[];
  threatActors: string[];
  status: IncidentStatus | null;
  statusEffectiveAt: string | null;
  impact: Impact;
  links: LinkState[];
  version: number;
  position: number;
  createdAt: string;
  updatedAt: string;
  timeline: FactView[];
}

export interface ViewOptions {
  validAt?: string;
  includeRetracted?: boolean;
}

/** Timeline order: by earliest possible occurrence, then latest, then position in the log. */
export function compareFacts(a: FactState, b: FactState): number {
  return (
    compareNumbers(earliestMs(a.occurredAt), earliestMs(b.occurredAt)) ||
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

function factView(fact: FactState, validAt: string | undefined): FactView {
  const view: FactView = {
    factId: fact.factId,
    kind: fact.kind,
    type: fact.type,
    occurredAt: fact.occurredAt.value,
    occurredInterval: { earliest: fact.occurredAt.earliest, latest: fact.occurredAt.latest },
    summary: fact.summary,
    confidence: fact.confidence,
    sources: fact.sources,
    actors: fact.actors,
    assertedAt: fact.assertedAt,
    recordedAt: fact.recordedAt,
    version: fact.version,
    position: fact.position,
    corrected: fact.corrections.length > 0,
    corrections: fact.corrections,
    retracted: fact.retraction !== null,
    retraction: fact.retraction,
  };
  if (validAt !== undefined) view.settled = latestMs(fact.occurredAt) <= Date.parse(validAt);
  return view;
}

export function timelineOf(state: IncidentState, options: ViewOptions = {}): FactView[] {
  const { validAt, includeRetracted = false } = options;
  return Object.values(state.facts)
    .filter((fact) => includeRetracted || fact.retraction === null)
    .filter((fact) => validAt === undefined || occurredBy(fact.occurredAt, validAt))
    .sort(compareFacts)
    .map((fact) => factView(fact, validAt));
}

/** The status period in effect at a valid time, or null before the incident's first status took effect. */
export function statusAt(history: StatusPeriod[], validAt: string): StatusPeriod | null {
  let current: StatusPeriod | null = null;
  for (const period of history) if (period.effectiveAt <= validAt) current = period;
  return current;
}

export function incidentView(state: IncidentState, options: ViewOptions = {}): IncidentView {
  const period = options.validAt === undefined ? null : statusAt(state.statusHistory, options.validAt);
  return {
    id: state.id,
    title: state.title,
    category: state.category,
    summary: state.summary,
    victims: state.victims,
    threatActors: state.threatActors,
    status: options.validAt === undefined ? state.status : (period?.to ?? null),
    statusEffectiveAt: options.validAt === undefined ? state.statusEffectiveAt : (period?.effectiveAt ?? null),
    impact: state.impact,
    links: state.links,
    version: state.version,
    position: state.position,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    timeline: timelineOf(state, options),
  };
}
