/**
 * One writer process for postgres.concurrency.spec.ts, forked with ts-node. It opens its own store (and so migrates
 * concurrently with its siblings), says it is ready, waits for "go" so that all writers start together, does its task,
 * reports, closes the store and exits on its own: a handle left open would keep it alive and fail the test.
 */
import { randomUUID } from 'node:crypto';
import { WrongExpectedVersionError } from '../errors';
import type { EventToAppend } from '../event-store.port';
import { PostgresEventStore } from '../postgres.event-store';

export type WriterTask =
  /** `attempts` appends of one event each, all at once, all expecting `expectedVersion` of `streamId`. */
  | {
      kind: 'race';
      connectionString: string;
      schema: string;
      streamId: string;
      attempts: number;
      expectedVersion: number;
    }
  /** `events` events in appends of 1 to `maxBatch`, over `streams` streams of this writer, each at its exact version. */
  | {
      kind: 'write';
      connectionString: string;
      schema: string;
      writer: number;
      events: number;
      streams: number;
      maxBatch: number;
    };

export type WriterReport =
  | { kind: 'ready' }
  | { kind: 'race'; succeeded: number; actualVersions: number[]; failures: string[] }
  | { kind: 'write'; eventIds: string[] }
  | { kind: 'failed'; message: string };

function send(report: WriterReport): Promise<void> {
  return new Promise((resolve, reject) =>
    process.send!(report, undefined, {}, (error) => (error ? reject(error) : resolve())),
  );
}

function event(type: string): EventToAppend {
  return { eventId: randomUUID(), type, data: { at: Date.now() }, metadata: { writer: process.pid } };
}

async function race(store: PostgresEventStore, task: Extract<WriterTask, { kind: 'race' }>): Promise<WriterReport> {
  const outcomes = await Promise.allSettled(
    Array.from({ length: task.attempts }, () => store.append(task.streamId, [event('Raced')], task.expectedVersion)),
  );
  const report = { kind: 'race' as const, succeeded: 0, actualVersions: [] as number[], failures: [] as string[] };
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled') report.succeeded += 1;
    else if (outcome.reason instanceof WrongExpectedVersionError) report.actualVersions.push(outcome.reason.actual);
    else report.failures.push(String(outcome.reason));
  }
  return report;
}

async function write(store: PostgresEventStore, task: Extract<WriterTask, { kind: 'write' }>): Promise<WriterReport> {
  const versions = new Map<string, number>();
  const eventIds: string[] = [];
  while (eventIds.length < task.events) {
    const streamId = `writer-${task.writer}-stream-${Math.floor(Math.random() * task.streams)}`;
    const size = Math.min(1 + Math.floor(Math.random() * task.maxBatch), task.events - eventIds.length);
    const events = Array.from({ length: size }, () => event('Written'));
    const current = versions.get(streamId);
    const result = await store.append(streamId, events, current ?? 'no-stream');
    versions.set(streamId, result.version);
    eventIds.push(...events.map((e) => e.eventId));
  }
  return { kind: 'write', eventIds };
}

async function main(): Promise<void> {
  const task = JSON.parse(process.env.WRITER_TASK!) as WriterTask;
  const store = await PostgresEventStore.open({
    connectionString: task.connectionString,
    schema: task.schema,
    poolSize: task.kind === 'race' ? 10 : 2,
  });
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
