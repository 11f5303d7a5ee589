import type { DetailsChanges, FactChanges, Impact, IncidentLinkedData, Source } from './events';
import type { Category, Confidence, FactKind, IncidentStatus } from './vocabulary';

export interface OpenIncident {
  type: 'OpenIncident';
  data: {
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
  data: DetailsChanges;
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
  };
}

export interface CorrectFact {
  type: 'CorrectFact';
  data: { factId: string; changes: FactChanges; sources?: Source[]; assertedAt?: string; reason: string };
}

export interface RetractFact {
  type: 'RetractFact';
  data: { factId: string; reason: string; assertedAt?: string };
}

export interface ChangeStatus {
  type: 'ChangeStatus';
  data: { status: IncidentStatus; effectiveAt?: string; reason?: string };
}

export interface AssessImpact {
  type: 'AssessImpact';
  data: Impact;
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
