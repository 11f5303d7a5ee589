import type { Category, FactState, IncidentState, IncidentStatus } from '@app/domain';
import type { FactRow } from './rows';

/** An incident's read-model rows without its facts: the header, its status periods and its links. */
export type IncidentHeader = Omit<IncidentState, 'facts'>;

export interface IncidentSummaryRow {
  id: string;
  title: string;
  category: Category;
  status: IncidentStatus;
  updatedAt: string;
  version: number;
}

export interface ListFilter {
  status?: IncidentStatus;
  category?: Category;
  q?: string;
  /** An ATT&CK technique id; a technique also matches its sub-techniques (T1606 matches T1606.002). */
  technique?: string;
  limit: number;
  /** Keyset cursor: items strictly after this (updatedAt desc, id asc). */
  after?: { updatedAt: string; id: string };
}

export interface FactKey {
  incidentId: string;
  factId: string;
}

/** An incident the projection set aside because one of its events cannot be applied. */
export interface ParkedIncident {
  incidentId: string;
  eventId: string;
  position: bigint;
  error: string;
  parkedAt: string;
}

/** The rows one batch of events changes. Status periods and links are rewritten only when flagged. */
export interface RowChanges {
  headers: { header: IncidentHeader; statusChanged: boolean; linksChanged: boolean }[];
  /** Encoded by `factRowOf` (see `encodeFact`). */
  facts: FactRow[];
  /** Incidents parked by this batch: their rows stay as they were before it. */
  parked?: ParkedIncident[];
}

export class CheckpointMovedError extends Error {
  constructor(
    readonly projection: string,
    readonly expected: bigint,
    readonly actual: bigint,
  ) {
    super(`Checkpoint of ${projection} moved from ${expected} to ${actual} under this runner`);
    this.name = 'CheckpointMovedError';
  }
}

export const factKeyOf = (incidentId: string, factId: string) => `${incidentId}\u0000${factId}`;

/**
 * Where the read models live: an incident header row, one row per fact, status periods and links, written by a named,
 * versioned projection together with its checkpoint in one transaction. Queries read rows, never a document.
 */
export interface ReadModelStore {
  readonly kind: 'sqlite' | 'postgres';
  checkpoint(projection: string): Promise<bigint>;
  loadHeaders(incidentIds: readonly string[]): Promise<Map<string, IncidentHeader>>;
  /** Keyed by `factKeyOf(incidentId, factId)`. */
  loadFacts(keys: readonly FactKey[]): Promise<Map<string, FactState>>;
  /**
   * Writes the rows and the checkpoint atomically. `expected` is the checkpoint the caller built on; if another writer
   * moved it (a rebuild, a second projector), nothing is written and CheckpointMovedError is thrown.
   */
  commit(projection: string, changes: RowChanges, position: bigint, expected: bigint): Promise<void>;
  /** Parked incidents, all of them or those among `incidentIds`. */
  parked(incidentIds?: readonly string[]): Promise<ParkedIncident[]>;
  /**
   * Replaces every row of one incident with a fold of its whole stream, and unparks it, without moving the
   * checkpoint (events past it are skipped later by their version).
   */
  replaceIncident(projection: string, state: IncidentState): Promise<void>;
  /** The whole incident (header, periods, links, facts), or null. */
  loadIncident(incidentId: string): Promise<IncidentState | null>;
  list(filter: ListFilter): Promise<IncidentSummaryRow[]>;
  /** Every incident, ordered by id, for comparing builds. */
  dump(): Promise<IncidentState[]>;
  /** Empties the rows and the checkpoint, so the projection starts again from the beginning of the log. */
  reset(projection: string): Promise<void>;
  close(): Promise<void>;
}
