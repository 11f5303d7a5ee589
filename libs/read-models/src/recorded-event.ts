import { upcast, type EventMetadata, type RecordedEvent } from '@app/domain';
import type { StoredEvent } from '@app/event-store';

/** Turns what the store returns into the domain's recorded event, upcasting older schema versions on the way. */
export function toRecordedEvent(stored: StoredEvent): RecordedEvent {
  if (stored.unreadable !== undefined) {
    throw new Error(`Event ${stored.eventId} at position ${stored.position} is unreadable: ${stored.unreadable}`);
  }
  const metadata = stored.metadata as unknown as EventMetadata;
  const data = upcast({ type: stored.type, data: stored.data, schemaVersion: metadata.schemaVersion ?? 1 });
  return {
    eventId: stored.eventId,
    type: stored.type,
    streamId: stored.streamId,
    version: stored.version,
    position: stored.position,
    recordedAt: stored.recordedAt,
    data,
    metadata,
  } as RecordedEvent;
}
