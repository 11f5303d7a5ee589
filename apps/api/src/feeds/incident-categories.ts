import { foldEvents, type Category } from '@app/domain';
import type { EventStore, StoredEvent } from '@app/event-store';
import { toRecordedEvent } from '@app/read-models';

/**
 * The category of an event's incident as recorded at that event, for one feed connection. It comes from the log
 * itself (the same fold as every other view), not from the read models: those may lag behind the feed, and a
 * category that changed later must not change which past events a resumed feed delivers. Call `of` for every event
 * of the log, in order.
 */
export class IncidentCategories {
  private readonly known = new Map<string, Category | undefined>();

  constructor(private readonly store: EventStore) {}

  async of(event: StoredEvent): Promise<Category | undefined> {
    if (event.type === 'IncidentDetailsRevised' && changesCategory(event.data)) this.known.delete(event.streamId);
    if (this.known.has(event.streamId)) return this.known.get(event.streamId);
    const events = await this.store.readStream(event.streamId, { toVersion: event.version });
    const category = foldEvents(events.map(toRecordedEvent))?.category;
    this.known.set(event.streamId, category);
    return category;
  }
}

function changesCategory(data: unknown): boolean {
  const changes = (data as { changes?: { category?: unknown } } | null)?.changes;
  return changes?.category !== undefined;
}
