/**
 * One writer process for sqlite.concurrency.spec.ts, forked with ts-node. It opens the shared SQLite file, says it is
 * ready, waits for "go" so that all writers start together, then does its task. Every append is reported to the
 * parent as soon as the store has acknowledged it (and before the next one starts), so a parent that kills a writer
 * knows exactly which of its appends were acknowledged.
 */
import { randomUUID } from 'node:crypto';
import { WrongExpectedVersionError } from '../errors';
import type { EventToAppend } from '../event-store.port';
import { SqliteEventStore } from '../sqlite.event-store';

export type SqliteWriterTask =
  /** `attempts` appends of one event each, all expecting `expectedVersion` of `streamId`. */
  | { kind: 'race'; filename: string; streamId: string; attempts: number; expectedVersion: number }
  /**
   * `appends` appends of 1 to 3 events: about half to `sharedStream` (at the version last seen, again on a conflict),
   * the rest to this writer's own streams, each at its exact version.
   */
  | { kind: 'write'; filename: string; writer: number; appends: number; sharedStream: string };

export type SqliteWriterReport =
  | { kind: 'ready' }
  | { kind: 'race'; succeeded: number; actualVersions: number[]; failures: string[] }
  | { kind: 'acked'; streamId: string; eventIds: string[]; version: number; position: string }
  | { kind: 'done'; conflicts: number }
  | { kind: 'failed'; message: string };

function send(report: SqliteWriterReport): Promise<void> {
  return new Promise((resolve, reject) =>
    process.send!(report, undefined, {}, (error) => (error ? reject(error) : resolve())),
  );
}

function event(): EventToAppend {
  return { eventId: randomUUID(), type: 'Written', data: { writer: process.pid }, metadata: {} };
}

async function race(store: SqliteEventStore, task: Extract<SqliteWriterTask, { kind: 'race' }>) {
  const report = { kind: 'race' as const, succeeded: 0, actualVersions: [] as number[], failures: [] as string[] };
  for (let attempt = 0; attempt < task.attempts; attempt += 1) {
    try {
      await store.append(task.streamId, [event()], task.expectedVersion);
      report.succeeded += 1;
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) report.actualVersions.push(error.actual);
      else report.failures.push(String(error));
    }
  }
  return report;
}

async function write(store: SqliteEventStore, task: Extract<SqliteWriterTask, { kind: 'write' }>) {
  const versions = new Map<string, number>();
  let conflicts = 0;
  for (let n = 0; n < task.appends; n += 1) {
    const shared = Math.random() < 0.5;
    const streamId = shared ? task.sharedStream : `writer-${task.writer}-stream-${n % 5}`;
    const events = Array.from({ length: 1 + Math.floor(Math.random() * 3) }, event);
    let expected = versions.get(streamId) ?? -1;
    for (;;) {
      try {
        const result = await store.append(streamId, events, expected === -1 ? 'no-stream' : expected);
        versions.set(streamId, result.version);
        const eventIds = events.map((e) => e.eventId);
        await send({ kind: 'acked', streamId, eventIds, version: result.version, position: String(result.position) });
        break;
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError) || !shared) throw error;
        conflicts += 1;
        expected = error.actual;
      }
    }
  }
  return { kind: 'done' as const, conflicts };
}

async function main(): Promise<void> {
  const task = JSON.parse(process.env.WRITER_TASK!) as SqliteWriterTask;
  const store = new SqliteEventStore({ filename: task.filename });
  try {
    const go = new Promise<void>((resolve) => process.once('message', () => resolve()));
    await send({ kind: 'ready' });
    await go;
    await send(task.kind === 'race' ? await race(store, task) : await write(store, task));
  } finally {
    await store.close();
  }
}

main()
  .catch((error: unknown) => send({ kind: 'failed', message: String(error) }))
  .finally(() => process.disconnect());
