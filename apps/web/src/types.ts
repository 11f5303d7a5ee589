/** The shapes the page reads from /v1 (see the OpenAPI document at /docs). Fields marked optional are newer. */
export interface Source {
  url: string;
  title?: string;
  publisher?: string;
  publishedAt?: string;
}

export interface Correction {
  reason: string;
  changes?: Record<string, unknown>;
  assertedAt?: string;
  recordedAt?: string;
  version?: number;
}

export interface FactView {
  factId: string;
  kind: string;
  type: string;
  occurredAt: string;
  occurredInterval: { earliest: string | null; latest: string | null };
  summary: string;
  confidence: string;
  sources: Source[];
  actors: string[];
  assertedAt: string;
  recordedAt: string;
  version: number;
  position: number;
  corrected: boolean;
  corrections: Correction[];
  retracted: boolean;
  retraction: { reason: string; assertedAt?: string; recordedAt?: string } | null;
  settled?: boolean;
  approximate?: boolean;
  uncertain?: boolean;
  amended?: boolean;
  techniques?: string[];
}

export interface IncidentView {
  id: string;
  title: string;
  category: string;
  summary: string;
  victims: string[];
  threatActors: string[];
  status: string | null;
  statusEffectiveAt: string | null;
  impact: { lossUsd?: number; records?: number; organisations?: number };
  links: { incidentId: string; relation: string }[];
  version: number;
  position: number;
  createdAt: string;
  updatedAt: string;
  assertedAt?: string;
  timeline: FactView[];
}

export interface IncidentListItem {
  id: string;
  title: string;
  category: string;
  status: string | null;
  updatedAt: string;
  version: number;
}

export interface Page<T> {
  items: T[];
  next?: string | null;
}

export interface HistoryEntry {
  eventId: string;
  type: string;
  version: number;
  position: number;
  recordedAt: string;
  actor: { iss?: string; sub?: string } | null;
  data: Record<string, unknown>;
}

export interface CommandResult {
  version: number;
  position: number;
  factId?: string;
}

export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

/** GET /v1/incidents/{id}/diff */
export interface IncidentDiff {
  incidentId: string;
  axis: string;
  from: string;
  to: string;
  facts: {
    added: FactView[];
    removed: FactView[];
    changed: { factId: string; kind: string; before: FactView; after: FactView; fields: FieldChange[] }[];
  };
  status: {
    before: { status: string; effectiveAt: string } | null;
    after: { status: string; effectiveAt: string } | null;
  } | null;
  details: FieldChange[];
  impact: FieldChange[];
  links: { added: { incidentId: string; relation: string }[]; removed: { incidentId: string; relation: string }[] };
}
