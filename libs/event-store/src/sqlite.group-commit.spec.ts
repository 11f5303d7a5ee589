import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import type { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import type { AppendResult, EventToAppend, ExpectedVersion } from './event-store.port';
import { SqliteEventStore } from './sqlite.event-store';

const WORKER = join(__dirname, 'contract', 'sqlite-appender.worker.ts');
const TSCONFIG = join(__dirname, '..', '..', '..', 'tsconfig.json');

interface PlannedAppend {
  stream: number;
  expected: ExpectedVersion;
  events: EventToAppend[];
}

type Outcome = { ok: true; result: AppendResult } | { ok: false; error: string; actual?: number };

function outcome(settled: PromiseSettledResult<AppendResult>): Outcome {
  if (settled.status === 'fulfilled') return { ok: true, result: settled.value };
  const error = settled.reason as Error & { actual?: number };
  return { ok: false, error: error.name, actual: error.actual };
}

function newEvent(): EventToAppend {
  return { eventId: randomUUID(), type: 'Appended', data: { n: 1 }, metadata: {} };
}

/**
 * 64 appends over 4 streams, some already started: exact versions (right, stale, ahead), no-stream and any, 1 to 3
 * events each; some resend the events of an earlier append in the plan (a replay, or a conflict when it went elsewhere).
 */
const plans = fc
  .array(
    fc.record({
      stream: fc.integer({ min: 0, max: 3 }),
      expected: fc.oneof(
        fc.constant<ExpectedVersion>('no-stream'),
        fc.constant<ExpectedVersion>('any'),
        fc.integer({ min: 0, max: 5 }),
      ),
      size: fc.integer({ min: 1, max: 3 }),
      resend: fc.option(fc.nat(), { freq: 5 }),
    }),
    { minLength: 64, maxLength: 64 },
  )
  .map((specs) => {
    const planned: PlannedAppend[] = [];
    for (const spec of specs) {
      const earlier = spec.resend === null || planned.length === 0 ? undefined : planned[spec.resend % planned.length];
      const events = earlier ? earlier.events : Array.from({ length: spec.size }, newEvent);
      planned.push({ stream: spec.stream, expected: spec.expected, events });
    }
    return planned;
  });

describe('SQLite event store: group commit', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'group-commit-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A store on a real file, with streams 0 and 1 already holding events. */
  async function seeded(name: string): Promise<SqliteEventStore> {
    const store = new SqliteEventStore({ filename: join(dir, `${name}.db`) });
    const seed = [
      { eventId: 'seed-0', stream: 0 },
      { eventId: 'seed-1', stream: 0 },
      { eventId: 'seed-2', stream: 1 },
    ];
    for (const { eventId, stream } of seed) {
      await store.append(`stream-${stream}`, [{ eventId, type: 'Seeded', data: {}, metadata: {} }], 'any');
    }
    return store;
  }

  it('gives 64 concurrent appends with mixed expected versions exactly the results of the same appends made one by one', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(plans, async (plan) => {
        run += 1;
        const [serial, grouped] = [await seeded(`serial-${run}`), await seeded(`grouped-${run}`)];
        try {
          const serialOutcomes: Outcome[] = [];
          for (const append of plan) {
            const [settled] = await Promise.allSettled([
              serial.append(`stream-${append.stream}`, append.events, append.expected),
            ]);
            serialOutcomes.push(outcome(settled));
          }
          const groupedOutcomes = (
            await Promise.allSettled(
              plan.map((append) => grouped.append(`stream-${append.stream}`, append.events, append.expected)),
            )
          ).map(outcome);

          expect(groupedOutcomes).toEqual(serialOutcomes);
          const log = async (store: SqliteEventStore) =>
            (await store.readAll({ limit: 1000 })).map((e) => [e.eventId, e.streamId, e.version, e.position]);
          expect(await log(grouped)).toEqual(await log(serial));
          // The plan is meant to mix successes, conflicts and replays; a plan of one kind only would prove little.
          expect(serialOutcomes.some((o) => o.ok)).toBe(true);
          expect(serialOutcomes.some((o) => !o.ok)).toBe(true);
        } finally {
          await serial.close();
          await grouped.close();
        }
      }),
      { numRuns: 15 },
    );
  }, 60_000);

  it('commits and answers appends still queued when the store is closed', async () => {
    const store = new SqliteEventStore({ filename: join(dir, 'close.db') });
    const pending = Array.from({ length: 10 }, (_, i) => store.append(`stream-${i}`, [newEvent()], 'no-stream'));
    await store.close();
    const results = await Promise.all(pending);
    expect(results.map((r) => r.version)).toEqual(Array.from({ length: 10 }, () => 0));
    const reopened = new SqliteEventStore({ filename: join(dir, 'close.db') });
    try {
      expect(await reopened.readAll({ limit: 100 })).toHaveLength(10);
    } finally {
      await reopened.close();
    }
  });

  it('leaves checkpoints to a thread of its own, and to the commits again if that thread dies', async () => {
    const store = new SqliteEventStore({ filename: join(dir, 'checkpoints.db') });
    try {
      // The thread and the connection are internal; ending the thread from outside stands for a crash of it alone.
      const internals = store as unknown as {
        checkpointer?: { worker: Worker };
        db: { pragma(text: string): unknown };
      };
      const autocheckpoint = () => internals.db.pragma('wal_autocheckpoint');
      expect(autocheckpoint()).toEqual([{ wal_autocheckpoint: 1000 }]);
      await store.append('stream-0', [newEvent()], 'no-stream');
      expect(autocheckpoint()).toEqual([{ wal_autocheckpoint: 0 }]);
      await internals.checkpointer!.worker.terminate();
      expect(autocheckpoint()).toEqual([{ wal_autocheckpoint: 1000 }]);
      expect(await store.append('stream-0', [newEvent()], 0)).toMatchObject({ version: 1, written: true });
    } finally {
      await store.close();
    }
  });

  it('keeps the process alive until close() has finished, with nothing else to wait for', async () => {
    const script = `
      const { SqliteEventStore } = require(${JSON.stringify(join(__dirname, 'sqlite.event-store.ts'))});
      (async () => {
        const store = new SqliteEventStore({ filename: process.env.STORE_FILE });
        await store.append('stream-0', [{ eventId: 'e-0', type: 'Appended', data: {}, metadata: {} }], 'no-stream');
        await store.close();
        process.stdout.write('closed');
      })();`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-e', script],
      { env: { ...process.env, TS_NODE_PROJECT: TSCONFIG, STORE_FILE: join(dir, 'alive.db') } },
    );
    expect(stdout).toBe('closed');
  }, 30_000);

  describe('killed with SIGKILL while committing groups', () => {
    let child: ChildProcess | undefined;

    afterEach(() => {
      child?.kill('SIGKILL');
    });

    /** Starts an appender on `file`, kills it once it has reported `acks` acknowledgements, returns what it reported. */
    async function appendUntilKilled(file: string, acks: number) {
      const appender = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', WORKER], {
        env: { ...process.env, TS_NODE_PROJECT: TSCONFIG, APPENDER_FILE: file },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child = appender;
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        appender.on('exit', (_, signal) => resolve(signal)),
      );
      const acked: { eventId: string; streamId: string; version: number; position: bigint }[] = [];
      for await (const line of createInterface({ input: appender.stdout! })) {
        const [word, eventId, streamId, version, position] = line.split(' ');
        if (word !== 'ack') continue;
        acked.push({ eventId, streamId, version: Number(version), position: BigInt(position) });
        if (acked.length === acks) appender.kill('SIGKILL');
      }
      return { acked, signal: await exited };
    }

    it('loses no acknowledged append, and keeps versions dense, over three kills', async () => {
      const file = join(dir, 'killed.db');
      const acked: Awaited<ReturnType<typeof appendUntilKilled>>['acked'] = [];
      for (const acks of [700, 1500, 2300]) {
        const run = await appendUntilKilled(file, acks);
        expect(run.signal).toBe('SIGKILL');
        expect(run.acked.length).toBeGreaterThanOrEqual(acks);
        acked.push(...run.acked);
      }
      const store = new SqliteEventStore({ filename: file });
      try {
        const stored = await store.readAll({ limit: 1_000_000 });
        const byId = new Map(stored.map((e) => [e.eventId, e]));
        const missing = acked.filter(({ eventId }) => !byId.has(eventId));
        expect(missing).toEqual([]);
        const moved = acked.filter(({ eventId, streamId, version, position }) => {
          const found = byId.get(eventId)!;
          return found.streamId !== streamId || found.version !== version || found.position !== position;
        });
        expect(moved).toEqual([]);
        const versions = new Map<string, number[]>();
        stored.forEach((e) => versions.set(e.streamId, [...(versions.get(e.streamId) ?? []), e.version]));
        versions.forEach((list) => expect(list).toEqual(list.map((_, i) => i)));
      } finally {
        await store.close();
      }
    }, 90_000);
  });
});
