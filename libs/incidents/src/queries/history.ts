import { currentData, type StoredEvent } from '@app/event-store';

/**
 * One entry of the audit view: an event as stored, with who recorded it and why. The Idempotency-Key a writer sent is
 * not shown (to anyone, the writer included): it is a retry token of that principal, and whoever could read it could
 * replay the writer's answers or block its retries.
 */
export interface HistoryEntry {
  eventId: string;
  type: string;
  streamId: string;
  version: number;
  position: number;
  recordedAt: string;
  actor: unknown;
  correlationId: unknown;
  data: unknown;
}

export function historyEntry(event: StoredEvent): HistoryEntry {
  const metadata = event.metadata as { actor?: unknown; correlationId?: unknown };
  return {
    eventId: event.eventId,
    type: event.type,
    streamId: event.streamId,
    version: event.version,
    position: Number(event.position),
    recordedAt: event.recordedAt,
    actor: metadata.actor ?? null,
    correlationId: metadata.correlationId ?? null,
    // Brought up to the current schema version, like every other reader of the log.
    data: currentData(event),
  };
}
