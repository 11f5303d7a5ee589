import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqliteWriterReport, SqliteWriterTask } from './contract/sqlite-writer.worker';
import type { StoredEvent } from './event-store.port';
import { SqliteEventStore } from './sqlite.event-store';

const WORKER = join(__dirname, 'contract', 'sqlite-writer.worker.ts');
const TSCONFIG = join(__dirname, '..', '..', '..', 'tsconfig.json');

type Acked = Extract<SqliteWriterReport, { kind: 'acked' }>;

interface Writer {
  child: ChildProcess;
  ready: Promise<void>;
  /** The writer's appends the store acknowledged, in order. */
  acked: Acked[];
  /** Its last report, once it has exited; rejects if it failed (a SIGKILL from the test is not a failure). */
  done: Promise<SqliteWriterReport | 'killed'>;
}

/** Writer processes still running, so that a failed or timed-out test does not leave them behind. */
const running = new Set<ChildProcess>();

function forkWriter(task: SqliteWriterTask, onAcked: (writer: Writer) => void = () => undefined): Writer {
  const child = fork(WORKER, [], {
    execArgv: ['-r', 'ts-node/register/transpile-only'],
    env: { ...process.env, TS_NODE_PROJECT: TSCONFIG, WRITER_TASK: JSON.stringify(task) },
  });
  running.add(child);
  let report: SqliteWriterReport | undefined;
  let markReady!: () => void;
  const writer: Writer = {
    child,
    ready: new Promise<void>((resolve) => (markReady = resolve)),
    acked: [],
    done: new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        running.delete(child);
        markReady();
        if (signal === 'SIGKILL') resolve('killed');
        else if (code === 0 && report !== undefined && report.kind !== 'failed') resolve(report);
        else reject(new Error(`writer ${child.pid} exited with code ${code}, report ${JSON.stringify(report)}`));
      });
    }),
  };
  child.on('message', (message: SqliteWriterReport) => {
    if (message.kind === 'ready') markReady();
    else if (message.kind === 'acked') {
      writer.acked.push(message);
      onAcked(writer);
    } else report = message;
  });
  return writer;
}

/** Waits until every writer has opened the file, then lets them all go at once. */
async function go(writers: Writer[]): Promise<Array<SqliteWriterReport | 'killed'>> {
  await Promise.all(writers.map((writer) => writer.ready));
  writers.forEach((writer) => writer.child.connected && writer.child.send('go'));
  return Promise.all(writers.map((writer) => writer.done));
}

/**
 * The SQLite store written by 4 processes at once. The adapter is synchronous, so appends within one process can
 * never race; across processes they meet at SQLite's write lock, and nothing else keeps versions and positions whole.
 */
describe('SQLite event store across processes', () => {
  let dir: string;
  let filename: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sqlite-race-'));
    filename = join(dir, 'events.db');
  });

  afterEach(() => {
    running.forEach((child) => child.kill('SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets exactly one of 100 appends at one expected version, from 4 processes, succeed', async () => {
    const store = new SqliteEventStore({ filename });
    try {
      const streamId = `incident-${randomUUID()}`;
      await store.append(streamId, [{ eventId: randomUUID(), type: 'Opened', data: {}, metadata: {} }], 'no-stream');
      const task: SqliteWriterTask = { kind: 'race', filename, streamId, attempts: 25, expectedVersion: 0 };
      const reports = await go([task, task, task, task].map((t) => forkWriter(t)));
      const races = reports.flatMap((report) => (report !== 'killed' && report.kind === 'race' ? [report] : []));
      expect(races).toHaveLength(4);
      expect(races.flatMap((race) => race.failures)).toEqual([]);
      expect(races.reduce((sum, race) => sum + race.succeeded, 0)).toBe(1);
      const actualVersions = races.flatMap((race) => race.actualVersions);
      expect(actualVersions).toHaveLength(99);
      expect(new Set(actualVersions)).toEqual(new Set([1]));
      expect((await store.readStream(streamId)).map((e) => e.version)).toEqual([0, 1]);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('keeps versions dense, positions increasing and every acknowledged append, with one writer killed mid-run', async () => {
    const sharedStream = `incident-shared-${randomUUID().slice(0, 8)}`;
    const appends = 300;
    // Writer 0 has far more to do than it can finish before the test kills it at its 100th acknowledgement.
    const writer0Appends = 100 * appends;
    let killedAfter: number | undefined;
    const writers = [0, 1, 2, 3].map((writer) =>
      forkWriter(
        { kind: 'write', filename, writer, appends: writer === 0 ? writer0Appends : appends, sharedStream },
        (self) => {
          // Writer 0 dies with SIGKILL mid-run, between (or during) its appends.
          if (writer === 0 && self.acked.length === 100 && killedAfter === undefined) {
            killedAfter = self.acked.length;
            self.child.kill('SIGKILL');
          }
        },
      ),
    );
    const reports = await go(writers);
    expect(reports[0]).toBe('killed');
    expect(reports.slice(1)).toEqual([1, 2, 3].map(() => expect.objectContaining({ kind: 'done' })));
    // The writers did meet: some appends to the shared stream lost a race and were retried at the new version.
    const conflicts = reports.reduce(
      (sum, report) => sum + (report !== 'killed' && report.kind === 'done' ? report.conflicts : 0),
      0,
    );
    expect(conflicts).toBeGreaterThan(0);

    const store = new SqliteEventStore({ filename });
    let log: StoredEvent[];
    try {
      log = await store.readAll({ limit: 100_000 });
    } finally {
      await store.close();
    }
    const byId = new Map(log.map((event) => [event.eventId, event]));
    const positions = log.map((event) => event.position);
    expect(positions.filter((position, i) => i > 0 && position <= positions[i - 1])).toEqual([]);

    const versions = new Map<string, number[]>();
    for (const event of log) versions.set(event.streamId, [...(versions.get(event.streamId) ?? []), event.version]);
    const notDense = [...versions].filter(([, list]) => list.some((version, i) => version !== i));
    expect(notDense).toEqual([]);

    const acked = writers.flatMap((writer) => writer.acked);
    // Each acknowledged append is in the log: its events, in its stream, ending at the version and position reported.
    const lost = acked.filter(({ streamId, eventIds, version, position }) => {
      const stored = eventIds.map((eventId) => byId.get(eventId));
      const last = stored.at(-1);
      return (
        stored.some((event) => event?.streamId !== streamId) ||
        last?.version !== version ||
        last.position !== BigInt(position) ||
        stored.some((event, i) => event!.version !== version - (eventIds.length - 1 - i))
      );
    });
    expect(lost).toEqual([]);
    // Each writer saw its own acknowledgements at increasing positions.
    for (const writer of writers) {
      const mine = writer.acked.map((ack) => BigInt(ack.position));
      expect(mine.filter((position, i) => i > 0 && position <= mine[i - 1])).toEqual([]);
    }
    // Nothing but acknowledged appends, except at most the one append writer 0 was making when it was killed.
    const ackedEvents = acked.reduce((sum, ack) => sum + ack.eventIds.length, 0);
    expect(log.length - ackedEvents).toBeGreaterThanOrEqual(0);
    expect(log.length - ackedEvents).toBeLessThanOrEqual(3);
    expect(writers[0].acked.length).toBeLessThan(writer0Appends);
    expect(versions.get(sharedStream)!.length).toBeGreaterThan(0);
  }, 120_000);
});
