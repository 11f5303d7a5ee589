import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { DuplicateEventIdError, WrongExpectedVersionError } from '../errors';
import type { EventStore, EventToAppend, StoredEvent } from '../event-store.port';

export interface EventStoreFixture {
  store: EventStore;
  /** Releases what the fixture opened (files, pools, servers). */
  dispose(): Promise<void>;
}

function event(type = 'FactRecorded', data: unknown = { n: 1 }): EventToAppend {
  return { eventId: randomUUID(), type, data, metadata: { correlationId: randomUUID(), schemaVersion: 1 } };
}

function stream(): string {
  return `incident-contract-${randomUUID().slice(0, 8)}`;
}

async function collect(iterable: AsyncIterable<StoredEvent[]>, count: number, controller: AbortController) {
  const seen: StoredEvent[] = [];
  for await (const batch of iterable) {
    seen.push(...batch);
    if (seen.length >= count) controller.abort();
  }
  return seen;
}

/**
 * Resolves once the global log reads up to `position`, following a subscription from `after`. An acknowledged event
 * may not be readable at once: PostgreSQL holds a position back while a transaction that could still write a smaller
 * one is running anywhere in its cluster.
 */
export async function untilReadable(store: EventStore, after: bigint, position: bigint): Promise<void> {
  const controller = new AbortController();
  for await (const batch of store.subscribe({ after, signal: controller.signal })) {
    if (batch[batch.length - 1].position >= position) controller.abort();
  }
}

/**
 * The behaviour every event store adapter must show. Each adapter's spec calls this with a factory that opens a fresh,
 * empty store against the real engine.
 */
/** What an engine can promise beyond the common contract; the suite adapts its expectations to these. */
export interface EventStoreCapabilities {
  /** Refuses an event id stored in another stream (EventStoreDB checks ids within a stream only). */
  crossStreamIdCheck: boolean;
  /** Each fixture opens an empty store (a shared EventStoreDB server cannot). */
  emptyOnOpen: boolean;
}

export function runEventStoreContract(
  name: string,
  open: () => Promise<EventStoreFixture>,
  capabilities: EventStoreCapabilities = { crossStreamIdCheck: true, emptyOnOpen: true },
): void {
  describe(`event store contract: ${name}`, () => {
    let fixture: EventStoreFixture;
    let store: EventStore;

    beforeEach(async () => {
      fixture = await open();
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture.dispose();
    });

    describe('append and read a stream', () => {
      it('starts a stream at version 0 and returns what was appended, in order', async () => {
        const id = stream();
        const events = [event('IncidentOpened', { title: 'Ünïcode ✓', nested: { list: [1, 2] } }), event()];
        const result = await store.append(id, events, 'no-stream');
        expect(result.version).toBe(1);
        expect(result.written).toBe(true);
        const read = await store.readStream(id);
        expect(read.map((e) => [e.eventId, e.type, e.version, e.streamId])).toEqual([
          [events[0].eventId, 'IncidentOpened', 0, id],
          [events[1].eventId, 'FactRecorded', 1, id],
        ]);
        expect(read[0].data).toEqual({ title: 'Ünïcode ✓', nested: { list: [1, 2] } });
        expect(read[0].metadata).toEqual(events[0].metadata);
        expect(read[1].position).toBe(result.position);
        expect(read[0].position < read[1].position).toBe(true);
        expect(Number.isNaN(Date.parse(read[0].recordedAt))).toBe(false);
      });

      it('reads a stream that does not exist as empty', async () => {
        await expect(store.readStream(stream())).resolves.toEqual([]);
      });

      it('reads a stream from and up to a version, and with a limit', async () => {
        const id = stream();
        await store.append(id, [event(), event(), event(), event()], 'no-stream');
        expect((await store.readStream(id, { toVersion: 1 })).map((e) => e.version)).toEqual([0, 1]);
        expect((await store.readStream(id, { fromVersion: 2 })).map((e) => e.version)).toEqual([2, 3]);
        expect((await store.readStream(id, { fromVersion: 1, limit: 2 })).map((e) => e.version)).toEqual([1, 2]);
      });

      it('reads a stream as of a recorded instant', async () => {
        const id = stream();
        await store.append(id, [event()], 'no-stream');
        const [first] = await store.readStream(id);
        await delay(5);
        await store.append(id, [event()], 0);
        const all = await store.readStream(id);
        expect(all[1].recordedAt > first.recordedAt).toBe(true);
        expect((await store.readStream(id, { toRecordedAt: first.recordedAt })).map((e) => e.version)).toEqual([0]);
      });
    });

    describe('expected version', () => {
      it('refuses no-stream when the stream exists, and writes nothing', async () => {
        const id = stream();
        await store.append(id, [event()], 'no-stream');
        const error = await store.append(id, [event()], 'no-stream').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedVersionError);
        expect((error as WrongExpectedVersionError).actual).toBe(0);
        expect(await store.readStream(id)).toHaveLength(1);
      });

      it('appends at an exact version and refuses a stale one', async () => {
        const id = stream();
        await store.append(id, [event()], 'no-stream');
        await expect(store.append(id, [event()], 0)).resolves.toMatchObject({ version: 1 });
        const error = await store.append(id, [event()], 0).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedVersionError);
        expect((error as WrongExpectedVersionError).actual).toBe(1);
        expect(await store.readStream(id)).toHaveLength(2);
      });

      it('refuses an exact version on a stream that does not exist', async () => {
        const error = await store.append(stream(), [event()], 0).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedVersionError);
        expect((error as WrongExpectedVersionError).actual).toBe(-1);
      });

      it('appends with any, whatever the version', async () => {
        const id = stream();
        await expect(store.append(id, [event()], 'any')).resolves.toMatchObject({ version: 0 });
        await expect(store.append(id, [event()], 'any')).resolves.toMatchObject({ version: 1 });
      });

      it('lets exactly one of many concurrent appends at the same version succeed', async () => {
        const id = stream();
        await store.append(id, [event()], 'no-stream');
        const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => store.append(id, [event()], 0)));
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        expect(rejected).toHaveLength(19);
        rejected.forEach((o) => expect(o.reason).toBeInstanceOf(WrongExpectedVersionError));
        expect(await store.readStream(id)).toHaveLength(2);
      });
    });

    describe('idempotence by event id', () => {
      it('returns the first result and writes nothing when the same events are appended again', async () => {
        const id = stream();
        const events = [event(), event()];
        const first = await store.append(id, events, 'no-stream');
        const again = await store.append(id, events, 'no-stream');
        expect(again).toEqual({ version: first.version, position: first.position, written: false });
        const head = await store.headPosition();
        await store.append(id, events, 5);
        expect(await store.headPosition()).toBe(head);
        expect(await store.readStream(id)).toHaveLength(2);
      });

      it('refuses a partial overlap and writes nothing', async () => {
        const id = stream();
        const [a, b] = [event(), event()];
        await store.append(id, [a], 'no-stream');
        await expect(store.append(id, [a, b], 'any')).rejects.toBeInstanceOf(DuplicateEventIdError);
        expect(await store.readStream(id)).toHaveLength(1);
      });

      const acrossStreams = 'refuses an event id already stored in another stream';
      const refusesAcrossStreams = async () => {
        const a = event();
        await store.append(stream(), [a], 'no-stream');
        const other = stream();
        await expect(store.append(other, [a], 'no-stream')).rejects.toBeInstanceOf(DuplicateEventIdError);
        expect(await store.readStream(other)).toEqual([]);
      };
      if (capabilities.crossStreamIdCheck) it(acrossStreams, refusesAcrossStreams);
      else it.skip(`${acrossStreams} (skipped: the engine checks ids within a stream only)`, refusesAcrossStreams);
    });

    describe('the global log', () => {
      it('reads every stream in strictly increasing position, after a position and with a limit', async () => {
        const start = await store.headPosition();
        const [s1, s2] = [stream(), stream()];
        await store.append(s1, [event()], 'no-stream');
        await store.append(s2, [event(), event()], 'no-stream');
        const last = await store.append(s1, [event()], 0);
        await untilReadable(store, start, last.position);
        // Only this test's streams: a shared server (EventStoreDB) may hold other events in its global log.
        const ours = (await store.readAll({ after: start, limit: 1000 })).filter(
          (e) => e.streamId === s1 || e.streamId === s2,
        );
        expect(ours.map((e) => [e.streamId, e.version])).toEqual([
          [s1, 0],
          [s2, 0],
          [s2, 1],
          [s1, 1],
        ]);
        ours.slice(1).forEach((e, i) => expect(e.position > ours[i].position).toBe(true));
        ours.slice(1).forEach((e, i) => expect(e.recordedAt >= ours[i].recordedAt).toBe(true));
        const [next] = await store.readAll({ after: ours[1].position, limit: 1 });
        expect(next.position > ours[1].position).toBe(true);
        expect(next.position <= ours[2].position).toBe(true);
        expect(await store.headPosition()).toBeGreaterThanOrEqual(last.position);
        expect(last.position).toBe(ours[3].position);
      });

      it('reads nothing after the head position', async () => {
        const start = await store.headPosition();
        const { position } = await store.append(stream(), [event()], 'no-stream');
        await untilReadable(store, start, position);
        const head = await store.headPosition();
        expect(head > 0n).toBe(true);
        const after = await store.readAll({ after: head, limit: 10 });
        expect(after.every((e) => e.position > head)).toBe(true);
      });

      if (capabilities.emptyOnOpen) {
        it('reports head position 0 when empty', async () => {
          await expect(store.headPosition()).resolves.toBe(0n);
          await expect(store.readAll({ limit: 10 })).resolves.toEqual([]);
        });
      }
    });

    describe('subscription', () => {
      it('catches up from a position, then follows live appends, without gaps or repeats', async () => {
        const id = stream();
        await store.append(id, [event(), event(), event()], 'no-stream');
        const [first] = await store.readStream(id, { limit: 1 });
        const controller = new AbortController();
        const received = collect(
          store.subscribe({ after: first.position, signal: controller.signal, batchSize: 1 }),
          4,
          controller,
        );
        await store.append(id, [event()], 2);
        await store.append(stream(), [event()], 'no-stream');
        const seen = await received;
        expect(seen).toHaveLength(4);
        const all = await store.readAll({ after: first.position, limit: 100 });
        expect(seen.map((e) => e.eventId)).toEqual(all.slice(0, 4).map((e) => e.eventId));
        expect(seen.slice(0, 3).every((e) => e.streamId === id)).toBe(true);
      });

      it('ends when its signal aborts while waiting, without waiting for its next poll', async () => {
        // The subscriber's timers (its poll) are frozen once it has found nothing to read, so only the abort can end
        // the wait; `waiting` is set just before the subscriber resumes from that empty read.
        const realSetTimeout = setTimeout;
        const readAll = store.readAll.bind(store);
        let waiting = false;
        const freeze = () => {
          jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'Date', 'hrtime'] });
          waiting = true;
        };
        // An adapter that reads the log its own way (PostgreSQL reads only below the oldest running transaction)
        // says when its subscriber goes idle; the others are seen finding nothing through readAll.
        const idle = (store as { nextIdleSubscriber?: () => Promise<void> }).nextIdleSubscriber?.bind(store);
        if (idle) void idle().then(freeze);
        const reads = jest.spyOn(store, 'readAll').mockImplementation(async (options) => {
          const batch = await readAll(options);
          if (!idle && batch.length === 0 && !waiting) freeze();
          return batch;
        });
        try {
          const controller = new AbortController();
          const head = await store.headPosition();
          const iterator = store.subscribe({ after: head, signal: controller.signal })[Symbol.asyncIterator]();
          const next = iterator.next();
          while (!waiting) await new Promise((resolve) => setImmediate(resolve));
          await new Promise((resolve) => setImmediate(resolve));
          controller.abort();
          let timer: NodeJS.Timeout | undefined;
          const deadline = new Promise((resolve) => (timer = realSetTimeout(resolve, 5000, 'still waiting 5 s later')));
          await expect(Promise.race([next, deadline])).resolves.toMatchObject({ done: true });
          clearTimeout(timer);
        } finally {
          jest.useRealTimers();
          reads.mockRestore();
        }
      });
    });

    describe('copying in (migration)', () => {
      function copied(streamId: string, version: number, recordedAt: string) {
        const { eventId, type, data, metadata } = event('FactRecorded', { copied: version });
        return { eventId, type, data, metadata, streamId, version, position: 0n, recordedAt };
      }

      it('keeps ids, versions, data, metadata and recorded times, at fresh positions in the given order', async () => {
        const [s1, s2] = [stream(), stream()];
        const events = [
          copied(s1, 0, '2023-06-16T00:00:00.000Z'),
          copied(s2, 0, '2023-06-17T00:00:00.000Z'),
          copied(s1, 1, '2023-06-18T00:00:00.000Z'),
        ];
        await store.copyIn(events);
        const read = [...(await store.readStream(s1)), ...(await store.readStream(s2))].sort((a, b) =>
          a.position < b.position ? -1 : 1,
        );
        expect(
          read.map(({ eventId, streamId, version, recordedAt, data, metadata }) => ({
            eventId,
            streamId,
            version,
            recordedAt,
            data,
            metadata,
          })),
        ).toEqual(
          events.map(({ eventId, streamId, version, recordedAt, data, metadata }) => ({
            eventId,
            streamId,
            version,
            recordedAt,
            data,
            metadata,
          })),
        );
        await expect(store.append(s1, [event()], 1)).resolves.toMatchObject({ version: 2 });
      });

      it('refuses a copy that does not continue a stream, and writes nothing', async () => {
        const id = stream();
        await expect(store.copyIn([copied(id, 3, '2023-06-16T00:00:00.000Z')])).rejects.toThrow();
        expect(await store.readStream(id)).toEqual([]);
      });
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
