import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { runEventStoreContract } from './contract/event-store.contract';
import { DuplicateEventIdError, EventStoreUnavailableError, WrongExpectedVersionError } from './errors';
import type { EventToAppend, StoredEvent } from './event-store.port';
import { EventStoreDbEventStore, type EsdbClient, type EsdbSubscription } from './eventstoredb.event-store';

type Item<T> = T extends AsyncIterable<infer E> ? E : never;
type AllEvent = Item<ReturnType<EsdbClient['readAll']>>;
type AppendArgs = Parameters<EsdbClient['appendToStream']>;
type ReadStreamArgs = Parameters<EsdbClient['readStream']>;
type ReadAllArgs = Parameters<EsdbClient['readAll']>;
type SubscribeArgs = Parameters<EsdbClient['subscribeToAll']>;

interface Recorded {
  streamId: string;
  id: string;
  type: string;
  revision: bigint;
  commit: bigint;
  created: Date;
  data: unknown;
  metadata: unknown;
}

/**
 * A client error as `@eventstore/db-client` 6.2.1 builds it (dist/utils/CommandError.d.ts): an Error whose `type` is
 * the `ErrorType` value, with that class's fields.
 */
function clientError(type: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`fake ${type}`), { type, ...fields });
}

function resolved(record: Recorded): AllEvent {
  const position = { commit: record.commit, prepare: record.commit };
  return {
    event: {
      streamId: record.streamId,
      id: record.id,
      isJson: true,
      revision: record.revision,
      type: record.type,
      created: record.created,
      data: record.data,
      metadata: record.metadata,
      position,
    },
    commitPosition: record.commit,
  } as AllEvent;
}

/**
 * An in-memory stand-in for the five client methods the adapter calls, answering as the server does: `$all` read
 * forwards from a position includes the event at it, backwards excludes it; a subscription starts after its position;
 * positions are sparse. Every call's arguments are kept so tests can assert what the adapter asked for.
 */
class FakeClient implements EsdbClient {
  readonly log: Recorded[] = [];
  readonly appends: AppendArgs[] = [];
  readonly streamReads: ReadStreamArgs[] = [];
  readonly allReads: ReadAllArgs[] = [];
  readonly subscriptions: SubscribeArgs[] = [];
  unsubscribed = 0;
  disposed = false;
  /** Makes subscriptions also send the event at their start position, which the server does not do. */
  repeatsStartEvent = false;
  /** When set, every call fails with it, as when the server cannot be reached. */
  failure?: Error;
  private pendingDrop?: Error;
  private commit = 1000n;
  private clock = Date.parse('2024-05-01T10:00:00.000Z');
  private waiters: Array<() => void> = [];

  store(streamId: string, type: string, id: string = randomUUID(), data: unknown = {}, metadata: unknown = {}) {
    const revision = this.log.filter((r) => r.streamId === streamId).length;
    this.commit += 137n;
    this.clock += 1000;
    const record = {
      streamId,
      id,
      type,
      revision: BigInt(revision),
      commit: this.commit,
      created: new Date(this.clock),
      data,
      metadata,
    };
    this.log.push(record);
    this.wake();
    return record;
  }

  /** The next live subscription to look for an event fails with `error` instead (once). */
  dropSubscriptions(error: Error) {
    this.pendingDrop = error;
    this.wake();
  }

  async appendToStream(...args: AppendArgs): ReturnType<EsdbClient['appendToStream']> {
    this.appends.push(args);
    if (this.failure) throw this.failure;
    const [streamName, events, { expectedRevision = 'any' }] = args;
    const current = this.revisionOf(streamName);
    const accepted =
      expectedRevision === 'any' ||
      (expectedRevision === 'no_stream' && current === 'no_stream') ||
      (expectedRevision === 'stream_exists' && current !== 'no_stream') ||
      expectedRevision === current;
    if (!accepted) {
      throw clientError('wrong-expected-version', {
        streamName,
        expectedVersion: expectedRevision,
        actualVersion: current,
      });
    }
    const stored = events.map((event) => this.store(streamName, event.type, event.id, event.data, event.metadata));
    const last = stored[stored.length - 1];
    return {
      success: true,
      nextExpectedRevision: last.revision,
      position: { commit: last.commit, prepare: last.commit },
    };
  }

  readStream(...args: ReadStreamArgs): AsyncIterable<AllEvent> {
    this.streamReads.push(args);
    const [streamName, { fromRevision, maxCount, direction }] = args;
    return this.answer(() => {
      const events = this.log.filter((r) => r.streamId === streamName);
      if (events.length === 0) throw clientError('stream-not-found', { streamName });
      const selected =
        direction === 'backwards'
          ? events.filter((r) => typeof fromRevision !== 'bigint' || r.revision <= fromRevision).reverse()
          : events.filter((r) => typeof fromRevision !== 'bigint' || r.revision >= fromRevision);
      return selected.slice(0, Number(maxCount ?? Number.MAX_SAFE_INTEGER));
    });
  }

  readAll(...args: ReadAllArgs): AsyncIterable<AllEvent> {
    this.allReads.push(args);
    const [{ fromPosition, maxCount, direction }] = args;
    return this.answer(() => {
      const selected =
        direction === 'backwards'
          ? this.log.filter((r) => typeof fromPosition !== 'object' || r.commit < fromPosition.commit).reverse()
          : this.log.filter((r) => typeof fromPosition !== 'object' || r.commit >= fromPosition.commit);
      return selected.slice(0, Number(maxCount ?? Number.MAX_SAFE_INTEGER));
    });
  }

  subscribeToAll(...args: SubscribeArgs): EsdbSubscription {
    this.subscriptions.push(args);
    const [{ fromPosition, filter }] = args;
    const state = {
      cursor: typeof fromPosition !== 'object' ? 0n : fromPosition.commit - (this.repeatsStartEvent ? 1n : 0n),
      typeFilter: filter && 'regex' in filter ? new RegExp(filter.regex) : undefined,
      cancelled: false,
    };
    const iterator = this.follow(state);
    return {
      [Symbol.asyncIterator]: () => iterator,
      unsubscribe: async () => {
        state.cancelled = true;
        this.unsubscribed += 1;
        this.wake();
      },
    };
  }

  async dispose() {
    this.disposed = true;
  }

  private async *follow(state: { cursor: bigint; typeFilter?: RegExp; cancelled: boolean }): AsyncGenerator<AllEvent> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (state.cancelled) return;
      if (this.pendingDrop) {
        const drop = this.pendingDrop;
        this.pendingDrop = undefined;
        throw drop;
      }
      const next = this.log.find(
        (r) => r.commit > state.cursor && (!state.typeFilter || state.typeFilter.test(r.type)),
      );
      if (next) {
        state.cursor = next.commit;
        yield resolved(next);
        continue;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private revisionOf(streamName: string): bigint | 'no_stream' {
    const count = this.log.filter((r) => r.streamId === streamName).length;
    return count === 0 ? 'no_stream' : BigInt(count - 1);
  }

  /** Like the client's read streams, a failure surfaces while iterating, not when the read is created. */
  private answer(select: () => Recorded[]): AsyncIterable<AllEvent> {
    const failure = this.failure;
    return (async function* () {
      if (failure) throw failure;
      yield* select().map(resolved);
    })();
  }

  private wake() {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((resolve) => resolve());
  }
}

function event(type = 'FactRecorded', data: unknown = { n: 1 }): EventToAppend {
  return { eventId: randomUUID(), type, data, metadata: { correlationId: randomUUID() } };
}

async function take(iterable: AsyncIterable<StoredEvent[]>, count: number, controller: AbortController) {
  const batches: StoredEvent[][] = [];
  let seen = 0;
  for await (const batch of iterable) {
    batches.push(batch);
    seen += batch.length;
    if (seen >= count) controller.abort();
  }
  return batches;
}

describe('EventStoreDB adapter mappings (client replaced at its boundary; unit tests, not the contract suite)', () => {
  let client: FakeClient;
  let store: EventStoreDbEventStore;

  beforeEach(() => {
    client = new FakeClient();
    store = new EventStoreDbEventStore(client, { reconnectDelay: { minMs: 1, maxMs: 4 } });
  });

  afterEach(async () => {
    await store.close();
  });

  describe('append', () => {
    it('passes expected versions as ESDB revisions: no-stream, any, and an exact version as a bigint', async () => {
      await store.append('incident-1', [event()], 'no-stream');
      await store.append('incident-1', [event()], 'any');
      await store.append('incident-1', [event()], 1);
      expect(client.appends.map(([, , options]) => options.expectedRevision)).toEqual(['no_stream', 'any', 1n]);
    });

    it('sends our event ids as the ESDB event ids, as JSON events with data and metadata, to the named stream', async () => {
      const appended = event('IncidentOpened', { title: 'Login fails' });
      await store.append('incident-42', [appended], 'no-stream');
      const [[streamName, [sent]]] = client.appends;
      expect(streamName).toBe('incident-42');
      expect(sent).toEqual({
        id: appended.eventId,
        contentType: 'application/json',
        type: 'IncidentOpened',
        data: { title: 'Login fails' },
        metadata: appended.metadata,
      });
    });

    it('returns the stream revision as the version and the $all commit position as the position', async () => {
      client.store('incident-other', 'FactRecorded');
      const result = await store.append('incident-1', [event(), event()], 'no-stream');
      const last = client.log[client.log.length - 1];
      expect(result).toEqual({ version: 1, position: last.commit, written: true });
      expect(typeof result.position).toBe('bigint');
    });

    it('maps the client wrong-expected-version error to ours with the actual version, and writes nothing', async () => {
      await store.append('incident-1', [event(), event()], 'no-stream');
      const error = await store.append('incident-1', [event()], 0).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WrongExpectedVersionError);
      expect(error).toMatchObject({ streamId: 'incident-1', expected: 0, actual: 1 });
      expect(client.log).toHaveLength(2);
    });

    it('reports actual version -1 when the client says the stream does not exist', async () => {
      const error = await store.append('incident-1', [event()], 3).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WrongExpectedVersionError);
      expect((error as WrongExpectedVersionError).actual).toBe(-1);
    });

    it('maps an unsuccessful result (throwOnAppendFailure=false) to ours, reading the actual version itself', async () => {
      await store.append('incident-1', [event()], 'no-stream');
      jest
        .spyOn(client, 'appendToStream')
        .mockResolvedValueOnce({ success: false, nextExpectedRevision: 1n, position: undefined });
      const error = await store.append('incident-1', [event()], 5).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WrongExpectedVersionError);
      expect((error as WrongExpectedVersionError).actual).toBe(0);
    });

    it('returns the first result and does not call the server when the same events are appended again', async () => {
      const events = [event(), event()];
      const first = await store.append('incident-1', events, 'no-stream');
      const again = await store.append('incident-1', events, 7);
      expect(again).toEqual({ version: first.version, position: first.position, written: false });
      expect(client.appends).toHaveLength(1);
    });

    it('recognises ids whatever the case of their UUID spelling', async () => {
      const appended = event();
      const first = await store.append('incident-1', [appended], 'no-stream');
      const again = await store.append('incident-1', [{ ...appended, eventId: appended.eventId.toUpperCase() }], 'any');
      expect(again).toEqual({ ...first, written: false });
    });

    it('refuses a partial overlap with ids in the stream and sends nothing', async () => {
      const [a, b] = [event(), event()];
      await store.append('incident-1', [a], 'no-stream');
      const error = await store.append('incident-1', [a, b], 'any').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DuplicateEventIdError);
      expect((error as DuplicateEventIdError).eventIds).toEqual([a.eventId]);
      expect(client.appends).toHaveLength(1);
    });

    it('refuses the same ids in another order', async () => {
      const [a, b] = [event(), event()];
      await store.append('incident-1', [a, b], 'no-stream');
      await expect(store.append('incident-1', [b, a], 'any')).rejects.toBeInstanceOf(DuplicateEventIdError);
    });

    it('checks ids only in the newest events of the target stream, as far as the idempotence window', async () => {
      store = new EventStoreDbEventStore(client, { idempotenceWindow: 2 });
      await store.append('incident-1', [event()], 'no-stream');
      expect(client.streamReads[0]).toEqual([
        'incident-1',
        { direction: 'backwards', fromRevision: 'end', maxCount: 2 },
      ]);
    });

    it('does not see an id stored in another stream (documented limitation: ESDB has no index of event ids)', async () => {
      const shared = event();
      await store.append('incident-1', [shared], 'no-stream');
      await expect(store.append('incident-2', [shared], 'no-stream')).resolves.toMatchObject({ written: true });
    });

    it('returns the stored result when the server acknowledges a retry without a position', async () => {
      const events = [event()];
      const realAppend = client.appendToStream.bind(client);
      jest.spyOn(client, 'appendToStream').mockImplementationOnce(async (...args) => {
        // The first attempt landed while this one was in flight; the server answers the retry without writing.
        const first = await realAppend(...args);
        return { ...first, position: undefined };
      });
      const result = await store.append('incident-1', events, 'no-stream');
      expect(result).toEqual({ version: 0, position: client.log[0].commit, written: false });
    });
  });

  describe('readStream', () => {
    beforeEach(async () => {
      await store.append(
        'incident-1',
        [event('IncidentOpened', { title: 'T' }), event(), event(), event()],
        'no-stream',
      );
    });

    it('maps revisions, $all positions and the server created time to our fields', async () => {
      const [first] = await store.readStream('incident-1');
      const recorded = client.log[0];
      expect(first).toEqual({
        eventId: recorded.id,
        type: 'IncidentOpened',
        streamId: 'incident-1',
        version: 0,
        position: recorded.commit,
        recordedAt: recorded.created.toISOString(),
        data: { title: 'T' },
        metadata: recorded.metadata,
      });
      expect(first.recordedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    });

    it('reads from a version with fromRevision, and bounds the count by toVersion and limit', async () => {
      expect((await store.readStream('incident-1', { fromVersion: 1, toVersion: 2 })).map((e) => e.version)).toEqual([
        1, 2,
      ]);
      expect((await store.readStream('incident-1', { fromVersion: 2, limit: 5 })).map((e) => e.version)).toEqual([
        2, 3,
      ]);
      const asked = client.streamReads.slice(-2).map(([, options]) => options);
      expect(asked).toEqual([
        { direction: 'forwards', fromRevision: 1n, maxCount: 2 },
        { direction: 'forwards', fromRevision: 2n, maxCount: 5 },
      ]);
    });

    it('does not ask the server when the version range is empty', async () => {
      const reads = client.streamReads.length;
      await expect(store.readStream('incident-1', { fromVersion: 3, toVersion: 2 })).resolves.toEqual([]);
      expect(client.streamReads).toHaveLength(reads);
    });

    it('reads as of a recorded instant by filtering on the created time', async () => {
      const asOf = client.log[1].created.toISOString();
      expect((await store.readStream('incident-1', { toRecordedAt: asOf })).map((e) => e.version)).toEqual([0, 1]);
    });

    it('reads a stream the server does not find as empty', async () => {
      await expect(store.readStream('incident-missing')).resolves.toEqual([]);
    });
  });

  describe('the global log', () => {
    it('reads after a position from { commit, prepare } = after, skipping the event at it and system events', async () => {
      const first = await store.append('incident-1', [event()], 'no-stream');
      client.store('$users', 'UserCreated');
      client.store('incident-1', '$metadata');
      client.store('$stats-127.0.0.1:2113', '$statsCollected');
      await store.append('incident-2', [event(), event()], 'no-stream');
      const read = await store.readAll({ after: first.position, limit: 10 });
      expect(read.map((e) => [e.streamId, e.version])).toEqual([
        ['incident-2', 0],
        ['incident-2', 1],
      ]);
      expect(client.allReads[0]).toEqual([
        { direction: 'forwards', fromPosition: { commit: first.position, prepare: first.position }, maxCount: 256 },
      ]);
    });

    it('reads from the start when no position is given, and stops at the limit', async () => {
      await store.append('incident-1', [event(), event(), event()], 'no-stream');
      const read = await store.readAll({ limit: 2 });
      expect(read.map((e) => e.version)).toEqual([0, 1]);
      expect(client.allReads[0][0].fromPosition).toBe('start');
    });

    it('pages on past more system events than one read returns', async () => {
      for (let i = 0; i < 300; i++) client.store('$stats-node', '$statsCollected');
      await store.append('incident-1', [event()], 'no-stream');
      const read = await store.readAll({ limit: 10 });
      expect(read.map((e) => e.streamId)).toEqual(['incident-1']);
      expect(client.allReads.length).toBeGreaterThan(1);
    });

    it('reports the newest non-system event as the head, reading $all backwards', async () => {
      await store.append('incident-1', [event(), event()], 'no-stream');
      const newest = client.log[client.log.length - 1].commit;
      for (let i = 0; i < 300; i++) client.store('$stats-node', '$statsCollected');
      await expect(store.headPosition()).resolves.toBe(newest);
      expect(client.allReads[0]).toEqual([{ direction: 'backwards', fromPosition: 'end', maxCount: 256 }]);
    });

    it('reports head position 0 when $all holds only system events', async () => {
      client.store('$users', '$UserCreated');
      client.store('$user-admin', '$UserCreated');
      await expect(store.headPosition()).resolves.toBe(0n);
      await expect(store.readAll({ limit: 10 })).resolves.toEqual([]);
    });

    it('pings with one backward read of $all', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      expect(client.allReads).toEqual([[{ direction: 'backwards', fromPosition: 'end', maxCount: 1 }]]);
    });
  });

  describe('errors', () => {
    const operations: Array<[string, (s: EventStoreDbEventStore) => Promise<unknown>]> = [
      ['append', (s) => s.append('incident-1', [event()], 'any')],
      ['readStream', (s) => s.readStream('incident-1')],
      ['readAll', (s) => s.readAll({ limit: 10 })],
      ['headPosition', (s) => s.headPosition()],
      ['ping', (s) => s.ping()],
    ];
    const unavailable = [
      clientError('unavailable', { code: 14 }),
      clientError('deadline-exceeded', { code: 4 }),
      clientError('not-leader', { leader: { address: 'node2', port: 2113 } }),
      clientError('access-denied'),
      new Error('Failed to discover after 10 attempts.'),
    ];

    it.each(operations)(
      '%s maps connection failures to EventStoreUnavailableError, keeping the cause',
      async (_, op) => {
        for (const failure of unavailable) {
          client.failure = failure;
          const error = await op(store).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(EventStoreUnavailableError);
          expect((error as EventStoreUnavailableError).cause).toBe(failure);
        }
      },
    );

    it('lets other errors through unchanged', async () => {
      const failure = clientError('maximum-append-size-exceeded', { maxAppendSize: 1024 });
      client.failure = failure;
      await expect(store.append('incident-1', [event()], 'any')).rejects.toBe(failure);
    });
  });

  describe('subscribe', () => {
    it('catches up in batches, then follows a filtered $all subscription from the last delivered position', async () => {
      await store.append('incident-1', [event(), event(), event()], 'no-stream');
      client.store('$users', '$UserCreated');
      const controller = new AbortController();
      const received = take(store.subscribe({ signal: controller.signal, batchSize: 2 }), 5, controller);
      await until(() => client.subscriptions.length === 1);
      await store.append('incident-1', [event()], 2);
      client.store('$stats-node', '$statsCollected');
      client.store('$ce-incident', 'FactRecorded');
      await store.append('incident-2', [event()], 'no-stream');
      const batches = await received;
      expect(batches.map((batch) => batch.length)).toEqual([2, 1, 1, 1]);
      const all = await store.readAll({ limit: 100 });
      expect(batches.flat().map((e) => e.eventId)).toEqual(all.map((e) => e.eventId));
      const [[options]] = client.subscriptions;
      expect(options.fromPosition).toEqual({ commit: all[2].position, prepare: all[2].position });
      expect(options.filter).toMatchObject({ filterOn: 'eventType', regex: '^[^$].*' });
      expect(client.unsubscribed).toBe(1);
    });

    it('starts after the given position', async () => {
      await store.append('incident-1', [event(), event()], 'no-stream');
      const [first] = await store.readAll({ limit: 1 });
      const controller = new AbortController();
      const batches = await take(store.subscribe({ after: first.position, signal: controller.signal }), 1, controller);
      expect(batches.flat().map((e) => e.version)).toEqual([1]);
    });

    it('never yields an event twice, even from a server that repeats the event at the start position', async () => {
      client.repeatsStartEvent = true;
      await store.append('incident-1', [event()], 'no-stream');
      const controller = new AbortController();
      const received = take(store.subscribe({ signal: controller.signal }), 2, controller);
      await until(() => client.subscriptions.length === 1);
      await store.append('incident-1', [event()], 0);
      expect((await received).flat().map((e) => e.version)).toEqual([0, 1]);
    });

    it('resumes from the last delivered position after a drop, without gaps or repeats', async () => {
      await store.append('incident-1', [event()], 'no-stream');
      const [delivered] = client.log;
      const controller = new AbortController();
      const received = take(store.subscribe({ signal: controller.signal }), 3, controller);
      await until(() => client.subscriptions.length === 1);
      client.dropSubscriptions(clientError('unavailable', { code: 14 }));
      const duringDrop = client.store('incident-1', 'FactRecorded');
      await until(() => client.subscriptions.length === 2);
      await store.append('incident-1', [event()], 1);
      const seen = (await received).flat();
      expect(seen.map((e) => e.version)).toEqual([0, 1, 2]);
      expect(client.allReads.map(([options]) => options.fromPosition)).toContainEqual({
        commit: delivered.commit,
        prepare: delivered.commit,
      });
      expect(client.subscriptions[1][0].fromPosition).toEqual({
        commit: duringDrop.commit,
        prepare: duringDrop.commit,
      });
    });

    it('keeps retrying while the server is unreachable, and delivers once it is back', async () => {
      client.failure = clientError('unavailable', { code: 14 });
      const controller = new AbortController();
      const received = take(store.subscribe({ signal: controller.signal }), 1, controller);
      await until(() => client.allReads.length >= 3);
      client.failure = undefined;
      await store.append('incident-1', [event()], 'no-stream');
      expect((await received).flat().map((e) => e.streamId)).toEqual(['incident-1']);
    });

    it('ends when its signal aborts while waiting for live events, and unsubscribes', async () => {
      const controller = new AbortController();
      const iterator = store.subscribe({ signal: controller.signal })[Symbol.asyncIterator]();
      const next = iterator.next();
      await until(() => client.subscriptions.length === 1);
      controller.abort();
      await expect(next).resolves.toMatchObject({ done: true });
      expect(client.unsubscribed).toBe(1);
    });

    it('ends its subscribers, unsubscribes and disposes the client on close', async () => {
      const iterator = store.subscribe({})[Symbol.asyncIterator]();
      const next = iterator.next();
      await until(() => client.subscriptions.length === 1);
      await store.close();
      await expect(next).resolves.toMatchObject({ done: true });
      expect(client.unsubscribed).toBeGreaterThanOrEqual(1);
      expect(client.disposed).toBe(true);
    });

    it('does not retry an error that is not about reaching the server', async () => {
      const failure = clientError('invalid-argument');
      client.failure = failure;
      const iterator = store.subscribe({})[Symbol.asyncIterator]();
      await expect(iterator.next()).rejects.toBe(failure);
    });
  });
});

describe('EventStoreDB adapter with the real client and no server listening', () => {
  let store: EventStoreDbEventStore;

  beforeEach(async () => {
    store = EventStoreDbEventStore.fromConnectionString(`esdb://127.0.0.1:${await closedPort()}?tls=false`);
  });

  afterEach(async () => {
    await store.close();
  });

  it('reports a refused connection as EventStoreUnavailableError', async () => {
    await expect(store.ping()).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await expect(store.append('incident-1', [event()], 'no-stream')).rejects.toBeInstanceOf(EventStoreUnavailableError);
  });

  it('ends a subscription that is retrying when its signal aborts', async () => {
    const controller = new AbortController();
    const next = store.subscribe({ signal: controller.signal })[Symbol.asyncIterator]().next();
    controller.abort();
    await expect(next).resolves.toMatchObject({ done: true });
  });

  it('refuses a malformed connection string without repeating it, since it may hold a password', () => {
    expect(() => EventStoreDbEventStore.fromConnectionString('esdb://admin:s3cret@node1:not-a-port')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('s3cret') }),
    );
  });
});

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;
// A shared server's $all holds other events, and ids are only checked within a stream: the contract adapts to both.
const contract = () => {
  runEventStoreContract(
    'EventStoreDB',
    async () => {
      const store = EventStoreDbEventStore.fromConnectionString(connectionString!);
      return { store, dispose: () => store.close() };
    },
    { crossStreamIdCheck: false, emptyOnOpen: false },
  );
};
if (connectionString) describe('EventStoreDB at EVENTSTORE_CONNECTION_STRING', contract);
else describe.skip('skipped: set EVENTSTORE_CONNECTION_STRING to run the contract against EventStoreDB', contract);

/** A local port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Waits for a condition the fake client's state will reach, checking after each turn of the event loop. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
