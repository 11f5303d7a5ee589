import { createHash } from 'node:crypto';
import type { EventStore, StoredEvent } from './event-store.port';

export interface LogDigest {
  count: number;
  /** SHA-256 over every event's id, stream, version, type, recorded time, data and metadata, in log order. */
  sha256: string;
}

export interface MigrationProgress {
  copied: number;
  total: number;
}

/** JSON with object keys sorted: stores may keep keys in another order (PostgreSQL's JSONB does). */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stableJson(record[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function digestLine(event: StoredEvent): string {
  return stableJson([
    event.eventId.toLowerCase(),
    event.streamId,
    event.version,
    event.type,
    event.recordedAt,
    event.data,
    event.metadata,
  ]);
}

async function* pages(store: EventStore, pageSize: number): AsyncIterable<StoredEvent[]> {
  let after: bigint | undefined;
  for (;;) {
    const page = await store.readAll({ after, limit: pageSize });
    if (page.length === 0) return;
    yield page;
    after = page[page.length - 1].position;
  }
}

/** Count and hash of a whole log; positions are left out, since each engine numbers its log its own way. */
export async function digestLog(store: EventStore, pageSize = 1000): Promise<LogDigest> {
  const hash = createHash('sha256');
  let count = 0;
  for await (const page of pages(store, pageSize)) {
    for (const event of page) {
      hash.update(digestLine(event)).update('\n');
      count += 1;
    }
  }
  return { count, sha256: hash.digest('hex') };
}

export class MigrationTargetNotEmptyError extends Error {
  constructor(readonly kind: string) {
    super(`The ${kind} target already holds events; migrate into an empty store`);
    this.name = 'MigrationTargetNotEmptyError';
  }
}

export interface MigrationOptions {
  pageSize?: number;
  /**
   * How long to wait, after the copy, for the target to return all of it (PostgreSQL holds committed events back
   * while any older transaction of the cluster runs) before verifying it. Five minutes unless told.
   */
  finalTimeoutMs?: number;
}

export interface MigrationResult {
  source: LogDigest;
  target: LogDigest;
  /** Count and hash agree: the target holds every event of the source, as it was, in the same order. */
  verified: boolean;
  /** The target still held part of the copy back when verified (an older transaction kept running past the wait). */
  heldBack: boolean;
}

/**
 * Copies the whole log from one store into an empty one, page by page, keeping every event as it was, then verifies
 * the copy by count and hash.
 */
export async function migrateLog(
  source: EventStore,
  target: EventStore,
  onProgress: (progress: MigrationProgress) => void = () => undefined,
  { pageSize = 500, finalTimeoutMs = 300_000 }: MigrationOptions = {},
): Promise<MigrationResult> {
  // Counted where the engine can: its head position leaves out events still held back (PostgreSQL).
  const empty = target.eventsAfter ? (await target.eventsAfter(0n, 1)) === 0 : (await target.headPosition()) === 0n;
  if (!empty) throw new MigrationTargetNotEmptyError(target.kind);
  const total = (await digestLog(source, pageSize)).count;
  let copied = 0;
  for await (const page of pages(source, pageSize)) {
    await target.copyIn(page);
    copied += page.length;
    onProgress({ copied, total });
  }
  const heldBack = target.awaitFinal ? !(await target.awaitFinal(finalTimeoutMs)) : false;
  const [sourceDigest, targetDigest] = await Promise.all([digestLog(source), digestLog(target)]);
  return {
    source: sourceDigest,
    target: targetDigest,
    verified: sourceDigest.count === targetDigest.count && sourceDigest.sha256 === targetDigest.sha256,
    heldBack,
  };
}
