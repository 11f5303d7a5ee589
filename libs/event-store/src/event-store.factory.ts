import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EventStore } from './event-store.port';
import { SqliteEventStore } from './sqlite.event-store';

export interface EventStoreSelection {
  eventStore: 'sqlite' | 'postgres' | 'eventstoredb';
  dataDir: string;
  databaseUrl?: string;
  eventStoreConnectionString?: string;
}

/** Opens the configured store and checks that it answers, so a bad setting stops the start with a clear message. */
export async function openEventStore(selection: EventStoreSelection): Promise<EventStore> {
  switch (selection.eventStore) {
    case 'sqlite': {
      mkdirSync(selection.dataDir, { recursive: true });
      const store = new SqliteEventStore({ filename: join(selection.dataDir, 'events.db') });
      await store.ping();
      return store;
    }
    default:
      throw new Error(`EVENT_STORE=${selection.eventStore} is not available in this build`);
  }
}
