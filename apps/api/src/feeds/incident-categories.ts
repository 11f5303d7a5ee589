import { foldEvents, type Category } from '@app/domain';
import { toRecordedEvent, type EventStore, type StoredEvent } from '@app/event-store';

/** Incidents whose category is remembered; beyond it the least recently used is read again from its stream. */
const CAPACITY = 10_000;

/**
 * The category of an event's incident as recorded at that event. It comes from the log itself (the same fold as every
 * other view), not from the read models: those may lag behind the feed, and a category that changed later must not
 * change which past events a resumed feed delivers. Show it every event of the log, in order: `of` when the category
 * is needed, `forget` when it is not (so a change of category is never missed).
 */
export class IncidentCategories {
  private readonly known = new Map<string, Category | undefined>();

  constructor(private readonly store: EventStore) {}

  forget(event: StoredEvent): void {
    if (event.type === 'IncidentDetailsRevised' && changesCategory(event.data)) this.known.delete(event.streamId);
  }

  async of(event: StoredEvent): Promise<Category | undefined> {
    this.forget(event);
    if (this.known.has(event.streamId)) {
      const category = this.known.get(event.streamId);
      this.known.delete(event.streamId);
      this.known.set(event.streamId, category);
      return category;
    }
    const events = await this.store.readStream(event.streamId, { toVersion: event.version });
    const category = foldEvents(events.map(toRecordedEvent))?.category;
    this.known.set(event.streamId, category);
    if (this.known.size > CAPACITY) this.known.delete(this.known.keys().next().value as string);
    return category;
  }
}

function changesCategory(data: unknown): boolean {
  const changes = (data as { changes?: { category?: unknown } } | null)?.changes;
  return changes?.category !== undefined;
}
