import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { runEventStoreContract } from './contract/event-store.contract';
import { describePostgres, dropSchema, freshSchemaName, TEST_DATABASE_URL } from './contract/postgres.fixture';
import { DuplicateEventIdError, EventStoreUnavailableError } from './errors';
import type { EventToAppend, StoredEvent } from './event-store.port';
import { PostgresEventStore } from './postgres.event-store';

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

    it('wakes a subscriber of another instance by NOTIFY, long before its poll interval', async () => {
      const [writer, reader] = [await open(), await open(60_000)];
      const after = await writer.headPosition();
      const controller = new AbortController();
      const iterator = reader.subscribe({ after, signal: controller.signal })[Symbol.asyncIterator]();
      const next = iterator.next();
      // Nothing to await here: the pause lets the subscriber find nothing and wait, so only NOTIFY can wake it.
      await delay(200);
      const started = Date.now();
      const appended = await writer.append(`incident-${randomUUID()}`, [event()], 'no-stream');
      const batch = (await next).value as StoredEvent[];
      expect(batch.map((e) => e.position)).toEqual([appended.position]);
      expect(Date.now() - started).toBeLessThan(5_000);
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

    it('refuses an event id given twice in one append, and writes nothing', async () => {
      const store = await open();
      const [id, repeated] = [`incident-${randomUUID()}`, event()];
      const error = await store.append(id, [repeated, event(), repeated], 'no-stream').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DuplicateEventIdError);
      expect((error as DuplicateEventIdError).eventIds).toEqual([repeated.eventId]);
      expect(await store.readStream(id)).toEqual([]);
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
