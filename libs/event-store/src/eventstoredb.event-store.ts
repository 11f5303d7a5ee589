import { earlierAppend } from './earlier-append';
import {
  ANY,
  BACKWARDS,
  END,
  ErrorType,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  excludeSystemEvents,
  jsonEvent,
} from '@eventstore/db-client';
import type {
  AllStreamResolvedEvent,
  AppendExpectedRevision,
  AppendResult as EsdbAppendResult,
  AppendToStreamOptions,
  EventData,
  JSONType,
  ReadAllOptions as EsdbReadAllOptions,
  ReadPosition,
  ReadStreamOptions as EsdbReadStreamOptions,
  ResolvedEvent,
  SubscribeToAllOptions,
} from '@eventstore/db-client';
import { DuplicateEventIdError, EventStoreUnavailableError, WrongExpectedVersionError } from './errors';
import type {
  AppendResult,
  EventStore,
  EventToAppend,
  ExpectedVersion,
  ReadAllOptions,
  ReadStreamOptions,
  StoredEvent,
  SubscribeOptions,
} from './event-store.port';

/** A catch-up subscription to `$all`, as the client returns it: an async iterable of events that can be cancelled. */
export interface EsdbSubscription extends AsyncIterable<AllStreamResolvedEvent> {
  unsubscribe(): Promise<void>;
}

/**
 * The part of `EventStoreDBClient` this adapter calls. The real client satisfies it as it is; unit tests replace it at
 * this boundary with a fake of these five methods.
 */
export interface EsdbClient {
  appendToStream(streamName: string, events: EventData[], options: AppendToStreamOptions): Promise<EsdbAppendResult>;
  readStream(streamName: string, options: EsdbReadStreamOptions): AsyncIterable<ResolvedEvent>;
  readAll(options: EsdbReadAllOptions): AsyncIterable<AllStreamResolvedEvent>;
  subscribeToAll(options: SubscribeToAllOptions): EsdbSubscription;
  dispose(): Promise<void>;
}

export interface EventStoreDbEventStoreOptions {
  /**
   * How many of a stream's newest events an append reads to recognise event ids stored before (default 1000). An
   * earlier append that lies deeper in the stream is not recognised.
   */
  idempotenceWindow?: number;
  /** Delay before a dropped subscription reconnects, doubling from `minMs` up to `maxMs` while it keeps failing. */
  reconnectDelay?: { minMs: number; maxMs: number };
}

/** Pages of `$all` read at a time while looking past system events. */
const ALL_PAGE_SIZE = 256;
/** What servers before 22.6 send as the `$all` position of an event read from a stream: "not known". */
const NO_LOG_POSITION = 2n ** 64n - 1n;
/** Client error types after which the store's answer is unknown or it cannot be used: transport, leader, auth. */
const UNAVAILABLE_ERRORS = new Set<string>([
  ErrorType.UNAVAILABLE,
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.TIMEOUT,
  ErrorType.CANCELLED,
  ErrorType.NOT_LEADER,
  ErrorType.UNKNOWN,
  ErrorType.ACCESS_DENIED,
]);

/**
 * EventStoreDB / KurrentDB (gRPC, server 22.6 or later) through `@eventstore/db-client`.
 *
 * - Streams keep the caller's names; a stream's version is the ESDB stream revision.
 * - A position is the event's commit position in `$all`. Every event appended through gRPC is its own committed
 *   record, so its commit and prepare positions are equal and distinct from every other event's; the commit position
 *   alone is therefore a strictly increasing position, and `{ commit: p, prepare: p }` names the event again.
 * - recordedAt is the server's `created` timestamp (millisecond precision, as the client converts it).
 * - System events (type or stream starting with `$`) never leave this adapter.
 *
 * Idempotence by event id is checked only within the target stream, and only among its newest `idempotenceWindow`
 * events: ESDB keeps no index of event ids across streams, so an id already stored in another stream is written again
 * (the contract's "refuses an event id already stored in another stream" does not hold here). Our ids are passed as the
 * ESDB event ids, so the server's own idempotence still absorbs a retry that races the first attempt.
 */
export class EventStoreDbEventStore implements EventStore {
  readonly kind = 'eventstoredb';
  private readonly idempotenceWindow: number;
  private readonly reconnectDelay: { minMs: number; maxMs: number };
  private readonly subscriptions = new Set<EsdbSubscription>();
  private readonly closing = new AbortController();

  constructor(
    private readonly client: EsdbClient,
    options: EventStoreDbEventStoreOptions = {},
  ) {
    this.idempotenceWindow = options.idempotenceWindow ?? 1000;
    this.reconnectDelay = options.reconnectDelay ?? { minMs: 100, maxMs: 5000 };
  }

  /** Connects lazily: nothing is dialled until the first call, so check the store with `ping()`. */
  static fromConnectionString(
    connectionString: string,
    options?: EventStoreDbEventStoreOptions,
  ): EventStoreDbEventStore {
    let client: EventStoreDBClient;
    try {
      client = EventStoreDBClient.connectionString(connectionString);
    } catch {
      // The client's parse error quotes the whole string, credentials included; it must not reach a log.
      throw new Error('EVENTSTORE_CONNECTION_STRING is not a valid EventStoreDB connection string');
    }
    return new EventStoreDbEventStore(client, options);
  }

  async copyIn(events: StoredEvent[]): Promise<void> {
    // One append per run of consecutive events of a stream, each at the exact revision it must follow.
    for (let start = 0; start < events.length;) {
      let end = start + 1;
      while (end < events.length && events[end].streamId === events[start].streamId) end += 1;
      const run = events.slice(start, end);
      await this.append(
        run[0].streamId,
        run.map((event) => ({
          eventId: event.eventId,
          type: event.type,
          data: event.data,
          metadata: { ...event.metadata, [COPIED_RECORDED_AT]: event.recordedAt },
        })),
        run[0].version === 0 ? 'no-stream' : run[0].version - 1,
      );
      start = end;
    }
  }

  async append(streamId: string, events: EventToAppend[], expectedVersion: ExpectedVersion): Promise<AppendResult> {
    if (events.length === 0) throw new Error('append needs at least one event');
    return this.guard(async () => {
      const earlier = findEarlierAppend(streamId, events, await this.readTail(streamId));
      if (earlier) return earlier;
      const result = await this.appendToStream(streamId, events, expectedVersion);
      if (!result.success) {
        // Only with throwOnAppendFailure=false in the connection string; the client's revision is unreliable then.
        throw new WrongExpectedVersionError(streamId, expectedVersion, await this.currentVersion(streamId));
      }
      if (result.position === undefined) {
        // The server answers a retry of an append it already holds with success, no write and no position.
        const replay = findEarlierAppend(streamId, events, await this.readTail(streamId));
        if (replay) return replay;
        throw new EventStoreUnavailableError(
          `EventStoreDB acknowledged an append to ${streamId} that it did not store`,
        );
      }
      return { version: Number(result.nextExpectedRevision), position: result.position.commit, written: true };
    });
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    const fromVersion = Math.max(options.fromVersion ?? 0, 0);
    const untilVersion = options.toVersion === undefined ? Infinity : options.toVersion - fromVersion + 1;
    const count = Math.min(options.limit ?? Infinity, untilVersion);
    if (count <= 0) return [];
    const until = options.toRecordedAt === undefined ? Infinity : Date.parse(options.toRecordedAt);
    return this.guard(async () => {
      const resolved = await this.readStreamEvents(streamId, {
        direction: FORWARDS,
        fromRevision: BigInt(fromVersion),
        ...(Number.isFinite(count) ? { maxCount: count } : {}),
      });
      // ESDB cannot read "as of" a time; a stream's created stamps grow with its revisions, so this cuts a suffix.
      return resolved.map(toStoredEvent).filter((event) => Date.parse(event.recordedAt) <= until);
    });
  }

  /**
   * `$all` is read from `{ commit: after, prepare: after }`, which includes the event at `after` itself, so events at or
   * before `after` are skipped here; the client cannot filter `$all` reads on the server, so system events are too.
   */
  async readAll(options: ReadAllOptions): Promise<StoredEvent[]> {
    if (options.limit <= 0) return [];
    return this.guard(async () => {
      const found: StoredEvent[] = [];
      let cursor = options.after ?? 0n;
      for (;;) {
        const wanted = Math.max(options.limit - found.length + 1, ALL_PAGE_SIZE);
        const page = await collect(
          this.client.readAll({ direction: FORWARDS, fromPosition: readPositionAfter(cursor), maxCount: wanted }),
        );
        for (const resolved of page) {
          const position = positionOf(resolved);
          if (position <= cursor) continue;
          cursor = position;
          if (isSystemEvent(resolved)) continue;
          found.push(toStoredEvent(resolved));
          if (found.length === options.limit) return found;
        }
        if (page.length < wanted) return found;
      }
    });
  }

  async headPosition(): Promise<bigint> {
    return this.guard(async () => {
      let from: ReadPosition = END;
      for (;;) {
        const page = await collect(
          this.client.readAll({ direction: BACKWARDS, fromPosition: from, maxCount: ALL_PAGE_SIZE }),
        );
        const newest = page.find((resolved) => !isSystemEvent(resolved));
        if (newest) return positionOf(newest);
        if (page.length < ALL_PAGE_SIZE) return 0n;
        // Reading backwards from an event's position starts with the event before it.
        const oldest = positionOf(page[page.length - 1]);
        from = { commit: oldest, prepare: oldest };
      }
    });
  }

  /**
   * Catches up by reading `$all` in batches, then follows a live `$all` subscription (system events filtered out on the
   * server) one event per batch. After a drop it resumes from the last delivered position, with a growing delay.
   */
  async *subscribe(options: SubscribeOptions): AsyncIterable<StoredEvent[]> {
    const stop = options.signal ? AbortSignal.any([options.signal, this.closing.signal]) : this.closing.signal;
    const batchSize = options.batchSize ?? 500;
    let after = options.after ?? 0n;
    let failures = 0;
    while (!stop.aborted) {
      try {
        let batch: StoredEvent[] | undefined;
        do {
          batch = await unlessStopped(this.readAll({ after, limit: batchSize }), stop);
          if (batch === undefined) return;
          if (batch.length > 0) {
            after = batch[batch.length - 1].position;
            failures = 0;
            yield batch;
          }
        } while (batch.length === batchSize && !stop.aborted);
        if (stop.aborted) return;

        const subscription = this.client.subscribeToAll({
          fromPosition: readPositionAfter(after),
          filter: excludeSystemEvents(),
        });
        this.subscriptions.add(subscription);
        try {
          const iterator = subscription[Symbol.asyncIterator]();
          for (;;) {
            const next = await unlessStopped(iterator.next(), stop);
            if (next === undefined) return;
            if (next.done) throw new EventStoreUnavailableError('EventStoreDB ended the $all subscription');
            const resolved = next.value;
            // The server starts after `after` and skips repeats itself; checking again keeps "never twice" ours.
            if (isSystemEvent(resolved) || positionOf(resolved) <= after) continue;
            const event = toStoredEvent(resolved);
            after = event.position;
            failures = 0;
            yield [event];
          }
        } finally {
          this.subscriptions.delete(subscription);
          // The subscription is being abandoned; failing to cancel a call that is already dead changes nothing.
          await subscription.unsubscribe().catch(() => undefined);
        }
      } catch (error) {
        const failure = toStoreError(error);
        if (!(failure instanceof EventStoreUnavailableError)) throw failure;
        failures += 1;
        const delay = Math.min(this.reconnectDelay.minMs * 2 ** (failures - 1), this.reconnectDelay.maxMs);
        await pause(delay, stop);
      }
    }
  }

  async ping(): Promise<void> {
    await this.guard(() => collect(this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 })));
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    await Promise.allSettled([...this.subscriptions].map((subscription) => subscription.unsubscribe()));
    await this.client.dispose();
  }

  private async guard<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw toStoreError(error);
    }
  }

  private async appendToStream(
    streamId: string,
    events: EventToAppend[],
    expectedVersion: ExpectedVersion,
  ): Promise<EsdbAppendResult> {
    try {
      return await this.client.appendToStream(streamId, events.map(toEventData), {
        expectedRevision: toExpectedRevision(expectedVersion),
      });
    } catch (error) {
      if (errorType(error) === ErrorType.WRONG_EXPECTED_VERSION) {
        const actual = (error as { actualVersion?: unknown }).actualVersion;
        throw new WrongExpectedVersionError(streamId, expectedVersion, toVersion(actual));
      }
      throw error;
    }
  }

  /** The newest `idempotenceWindow` events of a stream, newest first. */
  private async readTail(streamId: string): Promise<StoredEvent[]> {
    const newestFirst = await this.readStreamEvents(streamId, {
      direction: BACKWARDS,
      fromRevision: END,
      maxCount: this.idempotenceWindow,
    });
    return newestFirst.map(toStoredEvent);
  }

  private async currentVersion(streamId: string): Promise<number> {
    const [newest] = await this.readStreamEvents(streamId, { direction: BACKWARDS, fromRevision: END, maxCount: 1 });
    return newest?.event ? Number(newest.event.revision) : -1;
  }

  private async readStreamEvents(streamId: string, options: EsdbReadStreamOptions): Promise<ResolvedEvent[]> {
    try {
      return await collect(this.client.readStream(streamId, options));
    } catch (error) {
      if (errorType(error) === ErrorType.STREAM_NOT_FOUND) return [];
      throw error;
    }
  }
}

/** Idempotence checked against the stream's newest events; ESDB hands ids back in its own spelling of the UUID. */
function findEarlierAppend(streamId: string, events: EventToAppend[], stored: StoredEvent[]): AppendResult | undefined {
  const byId = new Map(stored.map((event) => [event.eventId.toLowerCase(), event]));
  return earlierAppend(streamId, events, (eventId) => byId.get(eventId.toLowerCase()));
}

function toEventData(event: EventToAppend): EventData {
  return jsonEvent({
    id: event.eventId,
    type: event.type,
    data: event.data as JSONType,
    metadata: event.metadata,
  });
}

function toExpectedRevision(expected: ExpectedVersion): AppendExpectedRevision {
  if (expected === 'no-stream') return NO_STREAM;
  if (expected === 'any') return ANY;
  return BigInt(expected);
}

/** The client reports the stream's revision as a bigint, or `no_stream` when it does not exist. */
function toVersion(actual: unknown): number {
  return typeof actual === 'bigint' ? Number(actual) : -1;
}

function toStoredEvent(resolved: ResolvedEvent | AllStreamResolvedEvent): StoredEvent {
  const event = resolved.event;
  if (!event) throw new Error('EventStoreDB returned a link without its event');
  return {
    eventId: event.id,
    type: event.type,
    streamId: event.streamId,
    version: Number(event.revision),
    position: positionOf(resolved),
    recordedAt: copiedRecordedAt(event.metadata) ?? event.created.toISOString(),
    data: event.data,
    metadata: withoutCopyMarker(isRecord(event.metadata) ? event.metadata : {}),
  };
}

/**
 * The server assigns `created` and cannot be told otherwise, so events copied in from another store carry their
 * original recorded time in this metadata key, and reads return it in place of `created`.
 */
const COPIED_RECORDED_AT = '$recordedAt';

function copiedRecordedAt(metadata: unknown): string | undefined {
  const value = isRecord(metadata) ? metadata[COPIED_RECORDED_AT] : undefined;
  return typeof value === 'string' ? value : undefined;
}

function withoutCopyMarker(metadata: Record<string, unknown>): Record<string, unknown> {
  if (!(COPIED_RECORDED_AT in metadata)) return metadata;
  const { [COPIED_RECORDED_AT]: _copied, ...rest } = metadata;
  return rest;
}

function positionOf(resolved: ResolvedEvent | AllStreamResolvedEvent): bigint {
  const position = resolved.event?.position?.commit ?? resolved.commitPosition;
  if (position === undefined || position === NO_LOG_POSITION) {
    throw new Error(
      `EventStoreDB did not report the $all position of event ${resolved.event?.id ?? '(unknown)'}; ` +
        'stream reads carry it from server version 22.6 on',
    );
  }
  return position;
}

function readPositionAfter(position: bigint): ReadPosition {
  return position === 0n ? START : { commit: position, prepare: position };
}

function isSystemEvent(resolved: ResolvedEvent | AllStreamResolvedEvent): boolean {
  const event = resolved.event;
  return event === undefined || event.type.startsWith('$') || event.streamId.startsWith('$');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** Client errors are told apart by their `type`, the discriminator of the client's `CommandError` union. */
function errorType(error: unknown): string | undefined {
  const type = typeof error === 'object' && error !== null ? (error as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? type : undefined;
}

function toStoreError(error: unknown): unknown {
  if (
    error instanceof WrongExpectedVersionError ||
    error instanceof DuplicateEventIdError ||
    error instanceof EventStoreUnavailableError
  ) {
    return error;
  }
  const type = errorType(error);
  const unavailable =
    (type !== undefined && UNAVAILABLE_ERRORS.has(type)) ||
    // Cluster discovery gives up with a plain Error.
    (error instanceof Error && error.message.startsWith('Failed to discover'));
  if (!unavailable) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new EventStoreUnavailableError(`EventStoreDB is unavailable: ${reason}`, { cause: error });
}

async function collect<T>(read: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of read) items.push(item);
  return items;
}

/**
 * What `pending` settles to, or undefined as soon as `stop` aborts: a read cut short by `close()` may never settle, and
 * the subscriber must end anyway. An abandoned rejection is still handled here.
 */
function unlessStopped<T>(pending: Promise<T>, stop: AbortSignal): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    if (stop.aborted) onAbort();
    else stop.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (result) => {
        stop.removeEventListener('abort', onAbort);
        resolve(result);
      },
      (error: unknown) => {
        stop.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function pause(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (stop.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      stop.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stop.addEventListener('abort', done, { once: true });
  });
}
