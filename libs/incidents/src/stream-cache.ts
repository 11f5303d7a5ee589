import { evolve, type IncidentState, type RecordedEvent } from '@app/domain';
import type { CommandResult } from './command-context';

export interface IdempotencyRecord {
  requestHash: string | undefined;
  result: Omit<CommandResult, 'appended' | 'replayed'>;
}

/** What the write side knows about one stream: its folded state and the idempotency keys used on it. */
export interface StreamEntry {
  state: IncidentState | null;
  version: number;
  idempotency: Map<string, IdempotencyRecord>;
}

export function emptyEntry(): StreamEntry {
  return { state: null, version: -1, idempotency: new Map() };
}

export function idempotencyIndexKey(actor: { iss: string; sub: string } | undefined, key: string): string {
  return `${actor?.iss ?? ''}|${actor?.sub ?? ''}|${key}`;
}

/** Folds newly read events into an entry (a new object; the cached one is never mutated). */
export function advance(entry: StreamEntry, events: RecordedEvent[], incidentId: string): StreamEntry {
  if (events.length === 0) return entry;
  let state = entry.state;
  const idempotency = new Map(entry.idempotency);
  for (const event of events) {
    state = evolve(state, event);
    const key = event.metadata.idempotencyKey;
    if (key === undefined) continue;
    const index = idempotencyIndexKey(event.metadata.actor, key);
    const earlier = idempotency.get(index);
    const factId = (event.data as { factId?: unknown }).factId;
    idempotency.set(index, {
      requestHash: earlier?.requestHash ?? event.metadata.requestHash,
      result: {
        incidentId,
        version: event.version,
        position: event.position,
        ...(earlier?.result.factId !== undefined
          ? { factId: earlier.result.factId }
          : typeof factId === 'string' && { factId }),
      },
    });
  }
  return { state, version: events[events.length - 1].version, idempotency };
}

/**
 * Roughly what an entry holds in memory: the facts dominate; the constants are measured averages of a fact with a
 * summary, a few sources and a correction, and of an idempotency record.
 */
export function estimatedBytes(entry: StreamEntry): number {
  const state = entry.state;
  if (state === null) return 256 + entry.idempotency.size * 200;
  const claims = state.details.length + state.statusHistory.length + state.impactClaims.length + state.links.length;
  return 1024 + state.facts.size * 2048 + claims * 512 + entry.idempotency.size * 200;
}

/**
 * A least-recently-used cache of folded streams for the write side, bounded in (estimated) bytes rather than in
 * incidents, since one incident may hold ten thousand facts and another three. It only saves work: every load still
 * reads the events after the cached version, and every append is checked against the version it was decided on.
 */
export class StreamCache {
  private readonly entries = new Map<string, { entry: StreamEntry; bytes: number }>();
  private bytes = 0;

  constructor(private readonly capacityBytes = 64 * 1024 * 1024) {}

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  get(streamId: string): StreamEntry | undefined {
    const cached = this.entries.get(streamId);
    if (cached) {
      this.entries.delete(streamId);
      this.entries.set(streamId, cached);
    }
    return cached?.entry;
  }

  set(streamId: string, entry: StreamEntry): void {
    const current = this.entries.get(streamId);
    if (current && current.entry.version > entry.version) return;
    if (current) {
      this.entries.delete(streamId);
      this.bytes -= current.bytes;
    }
    const bytes = estimatedBytes(entry);
    if (bytes > this.capacityBytes) return;
    this.entries.set(streamId, { entry, bytes });
    this.bytes += bytes;
    while (this.bytes > this.capacityBytes) {
      const [oldest, evicted] = this.entries.entries().next().value as [string, { bytes: number }];
      this.entries.delete(oldest);
      this.bytes -= evicted.bytes;
    }
  }
}
