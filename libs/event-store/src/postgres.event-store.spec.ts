import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from 'pg';
import { runEventStoreContract, untilReadable } from './contract/event-store.contract';
import {
  connectRaw,
  describePostgres,
  dropSchema,
  freshSchemaName,
  TEST_DATABASE_URL,
} from './contract/postgres.fixture';
import { DuplicateEventIdError, EventStoreUnavailableError } from './errors';
import type { EventToAppend, StoredEvent } from './event-store.port';
import { beyondTheLog, eventsBehind } from './events-behind';
import { migrateLog, MigrationTargetNotEmptyError } from './migration';
import { PostgresEventStore, postgresEventStoreSql } from './postgres.event-store';
import { SqliteEventStore } from './sqlite.event-store';

function event(): EventToAppend {
  return { eventId: randomUUID(), type: 'FactRecorded', data: { n: 1 }, metadata: {} };
}

describePostgres('PostgreSQL event store', () => {
  runEventStoreContract('PostgreSQL', async () => {
    const schema = freshSchemaName();
    const store = await PostgresEventStore.open({ connectionString: TEST_DATABASE_URL, schema, poolSize: 4 });
    return {
      store,
      dispose: async () => {
        await store.close();
        await dropSchema(schema);
      },
    };
  });

  describe('beyond the contract', () => {
    const schema = freshSchemaName();
    const opened: PostgresEventStore[] = [];
    const open = async (pollIntervalMs?: number) => {
      const store = await PostgresEventStore.open({ connectionString: TEST_DATABASE_URL, schema, pollIntervalMs });
      opened.push(store);
      return store;
    };

    afterAll(async () => {
      await Promise.all(opened.map((store) => store.close()));
      await dropSchema(schema);
    });

    it('creates the schema exactly once when several instances open it at the same moment', async () => {
      const stores = await Promise.all(Array.from({ length: 6 }, () => open()));
      const result = await stores[0].append('incident-1', [event()], 'no-stream');
      expect((await stores[5].readStream('incident-1')).map((e) => e.position)).toEqual([result.position]);
    });

    it('wakes a waiting subscriber of another instance by NOTIFY, long before its poll interval', async () => {
      const [writer, reader] = [await open(), await open(600_000)];
      const after = await writer.headPosition();
      const controller = new AbortController();
      const iterator = reader.subscribe({ after, signal: controller.signal })[Symbol.asyncIterator]();
      // The subscriber has read, found nothing and waits: from here only a notification can make it read again.
      const idle = reader.nextIdleSubscriber();
      const next = iterator.next();
      await idle;
      const appended = await writer.append(`incident-${randomUUID()}`, [event()], 'no-stream');
      const timeout = new AbortController();
      const woken = await Promise.race([
        next.then((result) => (result.value as StoredEvent[]).map((e) => e.position)),
        delay(10_000, 'not woken within 10 s', { signal: timeout.signal }),
      ]);
      timeout.abort();
      expect(woken).toEqual([appended.position]);
      controller.abort();
      await iterator.return?.();
    });

    it('gives every one of many concurrent appends with any its own version', async () => {
      const store = await open();
      const id = `incident-${randomUUID()}`;
      const results = await Promise.all(Array.from({ length: 20 }, () => store.append(id, [event()], 'any')));
      expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect((await store.readStream(id)).map((e) => e.version)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });

    it('lets one of two concurrent appends of the same event id to different streams win, and refuses the other', async () => {
      const store = await open();
      const shared = event();
      const streams = [`incident-${randomUUID()}`, `incident-${randomUUID()}`];
      const outcomes = await Promise.allSettled(streams.map((id) => store.append(id, [shared], 'no-stream')));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(refused?.reason).toBeInstanceOf(DuplicateEventIdError);
      const stored = [...(await store.readStream(streams[0])), ...(await store.readStream(streams[1]))];
      expect(stored.map((e) => e.eventId)).toEqual([shared.eventId]);
    });

    it('refuses an event id given twice in one append, and writes nothing', async () => {
      const store = await open();
      const [id, repeated] = [`incident-${randomUUID()}`, event()];
      const error = await store.append(id, [repeated, event(), repeated], 'no-stream').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DuplicateEventIdError);
      expect((error as DuplicateEventIdError).eventIds).toEqual([repeated.eventId]);
      expect(await store.readStream(id)).toEqual([]);
    });

    it('holds back events committed after a smaller position that is still being written, then gives both in order', async () => {
      const store = await open();
      const start = await store.headPosition();
      const client = await connectRaw();
      try {
        const held = event();
        await client.query('BEGIN');
        const { rows } = await client.query<{ result: { position: string } }>(postgresEventStoreSql(schema).append, [
          `incident-${randomUUID()}`,
          -1,
          JSON.stringify([held]),
        ]);
        const later = await store.append(`incident-${randomUUID()}`, [event()], 'no-stream');
        expect(BigInt(rows[0].result.position) < later.position).toBe(true);
        // Committed but not final: neither read nor reported as the head, so a reader starting there skips nothing.
        expect(await store.headPosition()).toBe(start);
        expect(await store.eventsAfter(start, 10)).toBe(1);
        // Yet it is in the log: a position a command returned is never refused as beyond its end.
        expect(await beyondTheLog(store, later.position)).toBe(false);
        expect(await beyondTheLog(store, later.position + 1n)).toBe(true);
        expect(await store.readAll({ after: start, limit: 10 })).toEqual([]);
        await client.query('COMMIT');
        await untilReadable(store, start, later.position);
        const both = await store.readAll({ after: start, limit: 10 });
        expect(both.map((e) => e.position)).toEqual([BigInt(rows[0].result.position), later.position]);
        expect(both[0].eventId).toBe(held.eventId);
        expect(await store.headPosition()).toBe(later.position);
        expect(await store.eventsAfter(start, 10)).toBe(2);
        expect(await store.eventsAfter(start, 1)).toBe(1);
      } finally {
        await client.end();
      }
    });

    it('gives appends to several streams in one transaction consecutive positions, after any it wrote before', async () => {
      const store = await open();
      const start = await store.headPosition();
      const client = await connectRaw();
      try {
        const append = (streamId: string, expected: number, events: unknown[]) =>
          client
            .query<{ result: { outcome: string; position: string } }>(postgresEventStoreSql(schema).append, [
              streamId,
              expected,
              JSON.stringify(events),
            ])
            .then(({ rows }) => rows[0].result);
        const [first, second] = [`incident-${randomUUID()}`, `incident-${randomUUID()}`];
        await client.query('BEGIN');
        const a = await append(first, -1, [event(), event()]);
        const b = await append(second, -1, [event()]);
        const c = await append(first, 1, [event()]);
        const refused = await append(second, -1, [event()]);
        await client.query('COMMIT');
        expect([a.outcome, b.outcome, c.outcome, refused.outcome]).toEqual([
          'written',
          'written',
          'written',
          'wrong-version',
        ]);
        expect([BigInt(b.position) - BigInt(a.position), BigInt(c.position) - BigInt(b.position)]).toEqual([1n, 1n]);
        await untilReadable(store, start, BigInt(c.position));
        const log = await store.readAll({ after: start, limit: 10 });
        expect(log.map((e) => [e.streamId, e.version, e.position])).toEqual([
          [first, 0, BigInt(a.position) - 1n],
          [first, 1, BigInt(a.position)],
          [second, 0, BigInt(b.position)],
          [first, 2, BigInt(c.position)],
        ]);
      } finally {
        await client.end();
      }
    });

    it('refuses to migrate into a store whose only events are still held back behind an open transaction', async () => {
      const target = freshSchemaName();
      const store = await PostgresEventStore.open({ connectionString: TEST_DATABASE_URL, schema: target });
      const client = await connectRaw();
      try {
        await client.query('BEGIN');
        await client.query(postgresEventStoreSql(target).append, [
          `incident-${randomUUID()}`,
          -1,
          JSON.stringify([event()]),
        ]);
        await store.append(`incident-${randomUUID()}`, [event()], 'no-stream');
        expect(await store.headPosition()).toBe(0n);
        await expect(migrateLog(store, store)).rejects.toBeInstanceOf(MigrationTargetNotEmptyError);
      } finally {
        await client.end();
        await store.close();
        await dropSchema(target);
      }
    });

    describe('migrating while a transaction older than the copy is still open elsewhere on the server', () => {
      /** Ten events in a SQLite source, an empty PostgreSQL target, and an open transaction (with an id) beside them. */
      const withOlderTransaction = async (
        body: (source: SqliteEventStore, target: PostgresEventStore, older: Client) => Promise<void>,
      ) => {
        const dir = mkdtempSync(join(tmpdir(), 'migrate-held-'));
        const source = new SqliteEventStore({ filename: join(dir, 'events.db') });
        const schema = freshSchemaName();
        const target = await PostgresEventStore.open({ connectionString: TEST_DATABASE_URL, schema });
        const older = await connectRaw();
        try {
          for (let n = 0; n < 5; n += 1) await source.append(`incident-${n}`, [event(), event()], 'no-stream');
          await older.query('BEGIN');
          await older.query('SELECT pg_current_xact_id()');
          await body(source, target, older);
        } finally {
          await older.end();
          await target.close();
          await source.close();
          await dropSchema(schema);
          rmSync(dir, { recursive: true, force: true });
        }
      };

      it('waits for that transaction to end, then verifies the whole copy', async () => {
        await withOlderTransaction(async (source, target, older) => {
          const migration = migrateLog(source, target, undefined, { finalTimeoutMs: 60_000 });
          // The copy is committed (counted, held back or not) and stays held back longer than a read waits for it.
          while ((await target.eventsAfter(0n, 100)) < 10) await delay(20);
          await delay(1_500);
          await older.query('COMMIT');
          await expect(migration).resolves.toMatchObject({ verified: true, heldBack: false, target: { count: 10 } });
        });
      });

      it('reports the copy unverified and held back when that transaction outlasts the wait', async () => {
        await withOlderTransaction(async (source, target) => {
          const result = await migrateLog(source, target, undefined, { finalTimeoutMs: 200 });
          expect(result).toMatchObject({ verified: false, heldBack: true, source: { count: 10 } });
          expect(await target.eventsAfter(0n, 100)).toBe(10);
        });
      });
    });

    it('counts the events behind a reader: positions jump between transactions, so lags are counted, not subtracted', async () => {
      const store = await open();
      const start = await store.headPosition();
      await store.append(`incident-${randomUUID()}`, [event(), event()], 'no-stream');
      const last = await store.append(`incident-${randomUUID()}`, [event()], 'no-stream');
      expect(last.position - start > 3n).toBe(true);
      await expect(eventsBehind(store, start)).resolves.toBe(3n);
      await expect(eventsBehind(store, last.position)).resolves.toBe(0n);
      await expect(store.eventsAfter(start, 2)).resolves.toBe(2);
    });

    it('upgrades a store of the earlier version in place: its events keep their positions, new ones come after', async () => {
      const earlier = freshSchemaName();
      const sql = postgresEventStoreSql(earlier);
      const client = await connectRaw();
      try {
        // The earlier version's layout: the same events table, positions 1, 2, 3, ..., no position origin.
        await client.query(sql.createSchema);
        await client.query(sql.createTable);
        await client.query(
          `INSERT INTO "${earlier}".events (position, event_id, stream_id, version, type, data, metadata, recorded_at)
           SELECT n, 'earlier-' || n, 'incident-earlier', n - 1, 'FactRecorded', '{}', '{}', now() FROM generate_series(1, 3) n`,
        );
        const store = await PostgresEventStore.open({ connectionString: TEST_DATABASE_URL, schema: earlier });
        try {
          const appended = await store.append('incident-earlier', [event()], 2);
          expect(appended.version).toBe(3);
          expect(appended.position > 3n).toBe(true);
          await untilReadable(store, 0n, appended.position);
          const log = await store.readAll({ limit: 10 });
          expect(log.map((e) => [e.eventId.slice(0, 9), e.position])).toEqual([
            ['earlier-1', 1n],
            ['earlier-2', 2n],
            ['earlier-3', 3n],
            [expect.any(String), appended.position],
          ]);
          // Opened again (another process, a restart): the origin stays where the upgrade put it.
          const again = await PostgresEventStore.open({ connectionString: TEST_DATABASE_URL, schema: earlier });
          const next = await again.append('incident-earlier', [event()], 3).finally(() => again.close());
          expect(next.position > appended.position).toBe(true);
        } finally {
          await store.close();
        }
      } finally {
        await client.end();
        await dropSchema(earlier);
      }
    });

    it('ends its subscriptions when closed', async () => {
      const store = await open(60_000);
      const iterator = store.subscribe({ after: await store.headPosition() })[Symbol.asyncIterator]();
      const next = iterator.next();
      await store.close();
      await expect(next).resolves.toMatchObject({ done: true });
    });
  });
});

describe('PostgreSQL event store that cannot be reached', () => {
  it('refuses to open with EventStoreUnavailableError that names DATABASE_URL and hides the password', async () => {
    const error = await PostgresEventStore.open({
      connectionString: 'postgres://writer:s3cret-pw@127.0.0.1:1/events',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventStoreUnavailableError);
    const { message } = error as Error;
    expect(message).toContain('DATABASE_URL');
    expect(message).toContain('postgres://writer@127.0.0.1:1/events');
    expect(message).not.toContain('s3cret-pw');
  });

  it('refuses a schema name that is not a plain identifier, before connecting', async () => {
    await expect(
      PostgresEventStore.open({ connectionString: 'postgres://writer@127.0.0.1:1/events', schema: 'events"; DROP' }),
    ).rejects.toThrow('Invalid PostgreSQL schema name');
  });

  it('refuses a malformed URL the same way, without repeating it', async () => {
    const error = await PostgresEventStore.open({ connectionString: 'postgres://writer:s3cret-pw@[::1/events' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EventStoreUnavailableError);
    expect((error as Error).message).toContain('DATABASE_URL');
    expect((error as Error).message).not.toContain('s3cret-pw');
  });
});
