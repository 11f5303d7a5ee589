import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EventStoreUnavailableError } from './errors';
import type { EventStore } from './event-store.port';
import { SqliteEventStore } from './sqlite.event-store';

export interface EventStoreSelection {
  eventStore: 'sqlite' | 'postgres' | 'eventstoredb';
  dataDir: string;
  databaseUrl?: string;
  databaseSchema?: string;
  eventStoreConnectionString?: string;
}

/**
 * Opens the configured store and checks that it answers, so a bad setting stops the start with a message naming the
 * variable. The PostgreSQL and EventStoreDB adapters are loaded only when chosen, so their clients never load
 * on the embedded default.
 */
export async function openEventStore(selection: EventStoreSelection): Promise<EventStore> {
  switch (selection.eventStore) {
    case 'sqlite': {
      mkdirSync(selection.dataDir, { recursive: true });
      const store = new SqliteEventStore({ filename: join(selection.dataDir, 'events.db') });
      await store.ping();
      return store;
    }
    case 'postgres': {
      const { PostgresEventStore } = await import('./postgres.event-store');
      return PostgresEventStore.open({ connectionString: selection.databaseUrl!, schema: selection.databaseSchema });
    }
    case 'eventstoredb': {
      const { EventStoreDbEventStore } = await import('./eventstoredb.event-store');
      const store = EventStoreDbEventStore.fromConnectionString(selection.eventStoreConnectionString!);
      try {
        await store.ping();
      } catch (error) {
        await store.close().catch(() => undefined);
        throw new EventStoreUnavailableError(
          `EVENTSTORE_CONNECTION_STRING: the EventStoreDB server does not answer (${(error as Error).message})`,
          { cause: error },
        );
      }
      return store;
    }
  }
}
