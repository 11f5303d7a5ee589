import type { ClaimFields, DetailsChanges, FactChanges, Impact, IncidentLinkedData, Source } from './events';
import type { Category, Confidence, FactKind, IncidentStatus } from './vocabulary';

export interface OpenIncident {
  type: 'OpenIncident';
  data: ClaimFields & {
    id: string;
    title: string;
    category: Category;
    summary?: string;
    victims?: string[];
    threatActors?: string[];
    status?: IncidentStatus;
    effectiveAt?: string;
  };
}

export interface ReviseIncidentDetails {
  type: 'ReviseIncidentDetails';
  data: DetailsChanges & ClaimFields & { reason?: string };
}

export interface RecordFact {
  type: 'RecordFact';
  data: {
    factId: string;
    kind: FactKind;
    occurredAt: string;
    summary: string;
    confidence?: Confidence;
    sources?: Source[];
    assertedAt?: string;
    actors?: string[];
    techniques?: string[];
  };
}

export interface CorrectFact {
  type: 'CorrectFact';
  data: {
    factId: string;
    changes: FactChanges;
    sources?: Source[];
    assertedAt?: string;
    reason: string;
    /** A fix of how this service recorded the fact, not a new public claim (see FactAmended). */
    erratum?: boolean;
  };
}

export interface RetractFact {
  type: 'RetractFact';
  data: { factId: string; reason: string; assertedAt?: string };
}

export interface ChangeStatus {
  type: 'ChangeStatus';
  data: ClaimFields & { status: IncidentStatus; effectiveAt?: string; reason?: string };
}

export interface AssessImpact {
  type: 'AssessImpact';
  data: Impact & ClaimFields;
}

export interface LinkIncident {
  type: 'LinkIncident';
  data: IncidentLinkedData;
}

export type IncidentCommand =
  | OpenIncident
  | ReviseIncidentDetails
  | RecordFact
  | CorrectFact
  | RetractFact
  | ChangeStatus
  | AssessImpact
  | LinkIncident;

/** What a command needs from outside the domain: the clock, read once by the caller. */
export interface DecisionContext {
  now: string;
}
