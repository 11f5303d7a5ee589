export const CATEGORIES = [
  'espionage',
  'supply-chain',
  'ransomware',
  'data-breach',
  'fraud',
  'disruption',
  'insider',
  'other',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const STATUSES = ['detected', 'investigating', 'contained', 'resolved'] as const;
export type IncidentStatus = (typeof STATUSES)[number];

export const CONFIDENCES = ['confirmed', 'likely', 'possible', 'disputed'] as const;
export type Confidence = (typeof CONFIDENCES)[number];

export const RELATIONS = ['related', 'same-actor', 'same-campaign', 'follow-up'] as const;
export type Relation = (typeof RELATIONS)[number];

/** Each fact kind is stored as its own past-tense event type. */
export const FACT_EVENT_TYPES = {
  'key-capture': 'KeyCaptured',
  'account-compromise': 'AccountCompromised',
  'initial-access': 'AccessGained',
  'token-forgery': 'TokenForged',
  'data-access': 'DataAccessed',
  exfiltration: 'DataExfiltrated',
  detection: 'IntrusionDetected',
  notification: 'PartyNotified',
  containment: 'ContainmentApplied',
  remediation: 'RemediationApplied',
  disclosure: 'DisclosurePublished',
  review: 'ReviewPublished',
  attribution: 'ActorAttributed',
  sanction: 'SanctionImposed',
  other: 'FactRecorded',
} as const;
export type FactKind = keyof typeof FACT_EVENT_TYPES;
export type FactEventType = (typeof FACT_EVENT_TYPES)[FactKind];
export const FACT_KINDS = Object.keys(FACT_EVENT_TYPES) as FactKind[];
export const FACT_EVENT_TYPE_NAMES = Object.values(FACT_EVENT_TYPES) as FactEventType[];

const KIND_BY_EVENT_TYPE = new Map<string, FactKind>(FACT_KINDS.map((kind) => [FACT_EVENT_TYPES[kind], kind]));

export function factKindOf(eventType: string): FactKind | undefined {
  return KIND_BY_EVENT_TYPE.get(eventType);
}

/** Allowed status changes; a change to the current status is never allowed. */
export const STATUS_TRANSITIONS: Readonly<Record<IncidentStatus, readonly IncidentStatus[]>> = {
  detected: ['investigating', 'contained', 'resolved'],
  investigating: ['contained', 'resolved'],
  contained: ['investigating', 'resolved'],
  resolved: ['investigating'],
};

/** A MITRE ATT&CK technique or sub-technique id, e.g. T1606 or T1606.002. */
export const TECHNIQUE_ID_PATTERN = /^T\d{4}(\.\d{3})?$/;

export const INCIDENT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/;

export function isIncidentId(value: unknown): value is string {
  return typeof value === 'string' && INCIDENT_ID_PATTERN.test(value);
}

export function streamIdOf(incidentId: string): string {
  return `incident-${incidentId}`;
}

export function incidentIdOf(streamId: string): string {
  return streamId.startsWith('incident-') ? streamId.slice('incident-'.length) : streamId;
}

/** Limits shared by the edge validation and the domain invariants. */
export const LIMITS = {
  titleLength: 200,
  incidentSummaryLength: 5000,
  factSummaryLength: 2000,
  reasonLength: 2000,
  nameLength: 200,
  urlLength: 2048,
  sourcesPerFact: 50,
  victims: 100,
  threatActors: 50,
  actorsPerFact: 50,
  linksPerIncident: 500,
  techniquesPerFact: 50,
  pageSize: 200,
} as const;
