/**
 * The event store port. Positions are bigints: opaque, strictly increasing across the whole store, not necessarily
 * dense. Times are RFC 3339 strings assigned by the store. Nothing here names a client library.
 */
export type ExpectedVersion = 'no-stream' | 'any' | number;

export interface EventToAppend {
  eventId: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
}

export interface StoredEvent {
  eventId: string;
  type: string;
  streamId: string;
  /** 0-based within the stream. */
  version: number;
  position: bigint;
  recordedAt: string;
  data: unknown;
  metadata: Record<string, unknown>;
  /**
   * Set when the stored data or metadata cannot be decoded (bytes that are not JSON, or JSON that is not an object):
   * the event is still delivered, in its place, with `data` null, so readers can set it aside instead of stopping on it.
   */
  unreadable?: string;
}

export interface AppendResult {
  /** Version of the last event in the stream after the append. */
  version: number;
  /** Position of the last appended event. */
  position: bigint;
  /** False when every event id was already stored by an earlier identical append, so nothing was written. */
  written: boolean;
}

export interface ReadStreamOptions {
  /** First version to return (inclusive). */
  fromVersion?: number;
  /** Last version to return (inclusive). */
  toVersion?: number;
  /** Only events recorded at or before this instant. */
  toRecordedAt?: string;
  limit?: number;
}

export interface ReadAllOptions {
  /** Return events strictly after this position; from the start when omitted. */
  after?: bigint;
  limit: number;
}

export interface SubscribeOptions {
  after?: bigint;
  batchSize?: number;
  signal?: AbortSignal;
}

export interface EventStore {
  /** A short name for logs, health and metrics ("sqlite", "postgres", ...). */
  readonly kind: string;
  append(streamId: string, events: EventToAppend[], expectedVersion: ExpectedVersion): Promise<AppendResult>;
  /** Events of one stream, oldest first. A stream that does not exist reads as empty. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<StoredEvent[]>;
  /**
   * The global log, oldest first. An engine may hold back an acknowledged event until no smaller position can still
   * appear (PostgreSQL, behind a transaction still running); it never returns a position and later a smaller one.
   */
  readAll(options: ReadAllOptions): Promise<StoredEvent[]>;
  /**
   * Position of the newest event, or 0n when the store is empty. An engine that holds events back (see `readAll`)
   * reports the newest it would return, so that a reader starting after the head misses nothing.
   */
  headPosition(): Promise<bigint>;
  /**
   * How many events come after `position`, counting at most `cap`: for engines whose positions are not dense
   * (PostgreSQL). Without it, the distance to the head position is the count (see `eventsBehind`).
   */
  eventsAfter?(position: bigint, cap: number): Promise<number>;
  /**
   * For engines that hold events back (see `readAll`): waits, up to `timeoutMs`, until every event committed before
   * the call is returned by `readAll`, and tells whether it is. Without it, every committed event is read at once.
   */
  awaitFinal?(timeoutMs: number): Promise<boolean>;
  /**
   * Batches of the global log after a position: first what is stored, then new events as they commit. Ends when the
   * signal aborts. Never skips an event, never yields one twice.
   */
  subscribe(options: SubscribeOptions): AsyncIterable<StoredEvent[]>;
  /**
   * Migration only: stores events copied from another store as they were (ids, streams, versions, types, data,
   * metadata and recorded times), in the given order, at positions of this store's own. Each stream must continue
   * exactly where this store's copy of it ends; nothing is written otherwise.
   */
  copyIn(events: StoredEvent[]): Promise<void>;
  /** Resolves when the store answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const EVENT_STORE = Symbol('EVENT_STORE');
