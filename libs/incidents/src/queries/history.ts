import type { StoredEvent } from '@app/event-store';

/** One entry of the audit view: an event as stored, with who recorded it and why. */
export interface HistoryEntry {
  eventId: string;
  type: string;
  streamId: string;
  version: number;
  position: number;
  recordedAt: string;
  actor: unknown;
  correlationId: unknown;
  idempotencyKey?: unknown;
  data: unknown;
}

export function historyEntry(event: StoredEvent): HistoryEntry {
  const metadata = event.metadata as { actor?: unknown; correlationId?: unknown; idempotencyKey?: unknown };
  return {
    eventId: event.eventId,
    type: event.type,
    streamId: event.streamId,
    version: event.version,
    position: Number(event.position),
    recordedAt: event.recordedAt,
    actor: metadata.actor ?? null,
    correlationId: metadata.correlationId ?? null,
    ...(metadata.idempotencyKey !== undefined && { idempotencyKey: metadata.idempotencyKey }),
    data: event.data,
  };
}
