import type { Category, Confidence, FactEventType, FactKind, IncidentStatus, Relation } from './vocabulary';

export interface Source {
  url: string;
  title?: string;
  publisher?: string;
  /** RFC 3339 instant or calendar date. */
  publishedAt?: string;
}

export interface Impact {
  lossUsd?: number;
  records?: number;
  organisations?: number;
}

/**
 * What every claim about the world carries: when it became public (a date or an instant; default: the earliest
 * `publishedAt` of its sources, else its recorded time) and where it was said.
 */
export interface ClaimFields {
  assertedAt?: string;
  sources?: Source[];
}

export interface IncidentOpenedData extends ClaimFields {
  id: string;
  title: string;
  category: Category;
  summary: string;
  victims: string[];
  threatActors: string[];
  status: IncidentStatus;
  effectiveAt: string;
}

export interface DetailsRevisedData extends ClaimFields {
  changes: DetailsChanges;
  reason?: string;
}

export interface DetailsChanges {
  title?: string;
  category?: Category;
  summary?: string;
  victims?: string[];
  threatActors?: string[];
}

export interface FactData {
  factId: string;
  kind: FactKind;
  occurredAt: string;
  summary: string;
  confidence: Confidence;
  sources: Source[];
  assertedAt?: string;
  actors?: string[];
  techniques?: string[];
}

export interface FactChanges {
  occurredAt?: string;
  summary?: string;
  confidence?: Confidence;
  actors?: string[];
  techniques?: string[];
}

export interface FactCorrectedData {
  factId: string;
  changes: FactChanges;
  sources?: Source[];
  assertedAt?: string;
  reason: string;
}

export interface FactRetractedData {
  factId: string;
  reason: string;
  assertedAt?: string;
}

/**
 * An erratum: a fix of how this service recorded a fact (a typo, a date copied wrongly), not a new public claim. It
 * amends the original claim, so it shows at every `knownAt` from that claim's `assertedAt` on. `sources`, when given,
 * replace the original claim's sources; `assertedAt`, when given, moves the original claim's.
 */
export interface FactAmendedData {
  factId: string;
  changes: FactChanges;
  sources?: Source[];
  assertedAt?: string;
  reason: string;
}

export interface StatusChangedData extends ClaimFields {
  /** The status in effect just before `effectiveAt` (in valid time) when the change was decided. */
  from: IncidentStatus;
  to: IncidentStatus;
  effectiveAt: string;
  reason?: string;
}

export type ImpactAssessedData = Impact & ClaimFields;

export interface IncidentLinkedData extends ClaimFields {
  incidentId: string;
  relation: Relation;
  reason?: string;
}

type Event<Type extends string, Data> = { type: Type; data: Data };

export type IncidentOpened = Event<'IncidentOpened', IncidentOpenedData>;
export type IncidentDetailsRevised = Event<'IncidentDetailsRevised', DetailsRevisedData>;
export type IncidentStatusChanged = Event<'IncidentStatusChanged', StatusChangedData>;
export type ImpactAssessed = Event<'ImpactAssessed', ImpactAssessedData>;
export type IncidentLinked = Event<'IncidentLinked', IncidentLinkedData>;
export type FactCorrected = Event<'FactCorrected', FactCorrectedData>;
export type FactRetracted = Event<'FactRetracted', FactRetractedData>;
export type FactAmended = Event<'FactAmended', FactAmendedData>;
export type FactRecorded = Event<FactEventType, FactData>;

export type IncidentEvent =
  | IncidentOpened
  | IncidentDetailsRevised
  | IncidentStatusChanged
  | ImpactAssessed
  | IncidentLinked
  | FactCorrected
  | FactRetracted
  | FactAmended
  | FactRecorded;

export type IncidentEventType = IncidentEvent['type'];

export interface Actor {
  iss: string;
  sub: string;
}

export interface EventMetadata {
  actor: Actor;
  correlationId: string;
  causationId?: string;
  idempotencyKey?: string;
  /** Hash of the request that produced the event, to tell a replay from a reused idempotency key. */
  requestHash?: string;
  schemaVersion: number;
}

/** What the store assigns to an event, or carries beside it. */
export interface EventEnvelope {
  eventId: string;
  streamId: string;
  version: number;
  position: bigint;
  recordedAt: string;
  metadata: EventMetadata;
}

/** An event as the store returns it: the domain event plus what the store assigned (distributes over the union). */
export type RecordedEvent<E extends IncidentEvent = IncidentEvent> = E extends IncidentEvent
  ? E & EventEnvelope
  : never;
