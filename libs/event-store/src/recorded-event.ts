import { upcast, type EventMetadata, type RecordedEvent } from '@app/domain';
import type { StoredEvent } from './event-store.port';

/**
 * The one conversion from what a store returns to the domain's events, at the store boundary: every reader (the
 * write side, projections, history, the global log, SSE and Kafka) goes through it, so none sees an old shape.
 */
export function currentData(stored: StoredEvent): unknown {
  if (stored.unreadable !== undefined) return null;
  const schemaVersion = (stored.metadata as { schemaVersion?: unknown }).schemaVersion;
  return upcast({
    type: stored.type,
    data: stored.data,
    schemaVersion: typeof schemaVersion === 'number' ? schemaVersion : 1,
  });
}

/** A stored event as the domain's recorded event, upcast; an unreadable one throws (it is poison to a fold). */
export function toRecordedEvent(stored: StoredEvent): RecordedEvent {
  if (stored.unreadable !== undefined) {
    throw new Error(`Event ${stored.eventId} at position ${stored.position} is unreadable: ${stored.unreadable}`);
  }
  return {
    eventId: stored.eventId,
    type: stored.type,
    streamId: stored.streamId,
    version: stored.version,
    position: stored.position,
    recordedAt: stored.recordedAt,
    data: currentData(stored),
    metadata: stored.metadata as unknown as EventMetadata,
  } as RecordedEvent;
}
