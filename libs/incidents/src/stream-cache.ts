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

/**
 * The index of a key used by a principal. An unambiguous encoding (a JSON array, as the rate limiter's principal key):
 * joined with a separator, principal `alice|x` with key `k1` and principal `alice` with key `x|k1` would meet.
 */
export function idempotencyIndexKey(actor: { iss: string; sub: string } | undefined, key: string): string {
  return JSON.stringify([actor?.iss ?? '', actor?.sub ?? '', key]);
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
 * A bounded, least-recently-used cache of folded streams for the write side. It only saves work: every load still
 * reads the events after the cached version, and every append is checked against the version it was decided on.
 */
export class StreamCache {
  private readonly entries = new Map<string, StreamEntry>();

  constructor(private readonly capacity = 2000) {}

  get(streamId: string): StreamEntry | undefined {
    const entry = this.entries.get(streamId);
    if (entry) {
      this.entries.delete(streamId);
      this.entries.set(streamId, entry);
    }
    return entry;
  }

  set(streamId: string, entry: StreamEntry): void {
    const current = this.entries.get(streamId);
    if (current && current.version > entry.version) return;
    this.entries.delete(streamId);
    this.entries.set(streamId, entry);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }
}
