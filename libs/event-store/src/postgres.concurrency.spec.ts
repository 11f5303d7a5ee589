import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  connectRaw,
  describePostgres,
  dropSchema,
  freshSchemaName,
  TEST_DATABASE_URL,
} from './contract/postgres.fixture';
import type { WriterReport, WriterTask } from './contract/postgres-writer.worker';
import type { StoredEvent } from './event-store.port';
import { PostgresEventStore, postgresEventStoreSql } from './postgres.event-store';

const WORKER = join(__dirname, 'contract', 'postgres-writer.worker.ts');
const TSCONFIG = join(__dirname, '..', '..', '..', 'tsconfig.json');

/** Writer processes still running, so that a failed or timed-out test does not leave them behind. */
const running = new Set<ChildProcess>();

/**
 * Forks writers (each a separate Node process with its own pool), waits until every one has opened its store, then
 * lets them all go at once. Resolves with their reports once every process has exited cleanly.
 */
async function runWriters(tasks: WriterTask[]): Promise<WriterReport[]> {
  const writers = tasks.map((task) => {
    const child = fork(WORKER, [], {
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      env: { ...process.env, TS_NODE_PROJECT: TSCONFIG, WRITER_TASK: JSON.stringify(task) },
    });
    running.add(child);
    let report: WriterReport | undefined;
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    child.on('message', (message: WriterReport) => (message.kind === 'ready' ? markReady() : (report = message)));
    const done = new Promise<WriterReport>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => {
        running.delete(child);
        markReady();
        if (code === 0 && report !== undefined && report.kind !== 'failed') resolve(report);
        else reject(new Error(`writer ${child.pid} exited with code ${code}, report ${JSON.stringify(report)}`));
      });
    });
    return { child, ready, done };
  });
  await Promise.all(writers.map((writer) => writer.ready));
  writers.forEach((writer) => writer.child.connected && writer.child.send('go'));
  return Promise.all(writers.map((writer) => writer.done));
}

function event(type: string) {
  return { eventId: randomUUID(), type, data: {}, metadata: {} };
}

describePostgres('PostgreSQL event store across processes', () => {
  let schema: string;

  beforeEach(() => {
    schema = freshSchemaName();
  });

  afterEach(async () => {
    running.forEach((child) => child.kill());
    await dropSchema(schema);
  });

  it('lets exactly one of 200 appends at one expected version, from 4 processes, succeed', async () => {
    const store = await PostgresEventStore.open({ connectionString: TEST_DATABASE_URL, schema });
    try {
      const streamId = `incident-${randomUUID()}`;
      await store.append(streamId, [event('Opened')], 'no-stream');
      const task: WriterTask = {
        kind: 'race',
        connectionString: TEST_DATABASE_URL,
        schema,
        streamId,
        attempts: 50,
        expectedVersion: 0,
      };
      const races = (await runWriters([task, task, task, task])).flatMap((r) => (r.kind === 'race' ? [r] : []));
      expect(races).toHaveLength(4);
      expect(races.flatMap((race) => race.failures)).toEqual([]);
      expect(races.reduce((sum, race) => sum + race.succeeded, 0)).toBe(1);
      const actualVersions = races.flatMap((race) => race.actualVersions);
      expect(actualVersions).toHaveLength(199);
      expect(new Set(actualVersions)).toEqual(new Set([1]));
      expect((await store.readStream(streamId)).map((e) => e.version)).toEqual([0, 1]);
    } finally {
      await store.close();
    }
  }, 30_000);

  it('delivers 80,000 events from 8 processes, and one committed 5 s late, once each and in order to a subscriber', async () => {
    const [writers, perWriter, maxBatch] = [8, 10_000, 10];
    const subscriber = await PostgresEventStore.open({ connectionString: TEST_DATABASE_URL, schema, poolSize: 2 });
    const controller = new AbortController();
    const received: StoredEvent[] = [];
    let caughtUpAt: bigint | undefined;
    let writersRunning = true;

    /** The adapter's own append, in a transaction that stays open for 5 s in the middle of the run. */
    const holdTransaction = async () => {
      const client = await connectRaw();
      try {
        const late = event('CommittedLate');
        await client.query('BEGIN');
        const { rows } = await client.query<{ result: { outcome: string; position: string } }>(
          postgresEventStoreSql(schema).append,
          [`late-${randomUUID()}`, -1, JSON.stringify([late])],
        );
        const { outcome, position } = rows[0].result;
        const heldWhileWriting = writersRunning;
        await delay(5_000);
        await client.query('COMMIT');
        return { eventId: late.eventId, outcome, position: BigInt(position), heldWhileWriting };
      } finally {
        await client.end();
      }
    };
    let held: ReturnType<typeof holdTransaction> | undefined;

    const stopWhenCaughtUp = () => {
      const last = received.at(-1)?.position ?? 0n;
      if (caughtUpAt !== undefined && last >= caughtUpAt) controller.abort();
    };
    const subscription = (async () => {
      for await (const batch of subscriber.subscribe({ signal: controller.signal, batchSize: 2_000 })) {
        received.push(...batch);
        if (held === undefined && received.length >= 20_000) held = holdTransaction();
        stopWhenCaughtUp();
      }
      if (caughtUpAt === undefined) throw new Error('the subscription ended before the writers did');
    })();

    try {
      const tasks = Array.from({ length: writers }, (_, writer): WriterTask => {
        return {
          kind: 'write',
          connectionString: TEST_DATABASE_URL,
          schema,
          writer,
          events: perWriter,
          streams: 25,
          maxBatch,
        };
      });
      const reports = await Promise.race([runWriters(tasks), subscription.then(() => [])]);
      writersRunning = false;
      expect(held).toBeDefined();
      const late = await held!;
      caughtUpAt = await subscriber.headPosition();
      stopWhenCaughtUp();
      await subscription;

      const written = reports.flatMap((report) => (report.kind === 'write' ? report.eventIds : []));
      expect(written.length).toBe(writers * perWriter);
      expect(late).toMatchObject({ outcome: 'written', heldWhileWriting: true });
      expect(late.position < caughtUpAt).toBe(true);
      const positions = received.map((e) => e.position);
      expect(positions.filter((position, i) => i > 0 && position <= positions[i - 1])).toEqual([]);
      const ids = new Set(received.map((e) => e.eventId));
      expect(ids.size).toBe(received.length);
      expect(received.length).toBe(writers * perWriter + 1);
      expect(ids.has(late.eventId)).toBe(true);
      expect(written.filter((eventId) => !ids.has(eventId))).toEqual([]);
    } finally {
      controller.abort();
      await Promise.allSettled([held, subscription]);
      await subscriber.close();
    }
  }, 120_000);
});
