import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ProjectorLock } from './projection-runner';
import type { ReadModelStore } from './read-model.port';
import { SqliteReadModelStore } from './sqlite.read-model-store';

export interface ReadModelSelection {
  readModelStore: 'sqlite' | 'postgres';
  dataDir: string;
  databaseUrl?: string;
  databaseSchema?: string;
}

export interface OpenedReadModels {
  store: ReadModelStore;
  /** Present when several processes share the read models: only the holder projects. */
  lock?: ProjectorLock;
}

/**
 * Opens the configured read models. The PostgreSQL adapter is loaded only when chosen, so its client never loads on
 * the embedded default.
 */
export async function openReadModels(selection: ReadModelSelection): Promise<OpenedReadModels> {
  if (selection.readModelStore === 'postgres') {
    const { PostgresReadModelStore } = await import('./postgres.read-model-store');
    const store = await PostgresReadModelStore.open({
      connectionString: selection.databaseUrl!,
      schema: selection.databaseSchema,
    });
    return { store, lock: store.projectorLock() };
  }
  mkdirSync(selection.dataDir, { recursive: true });
  return { store: new SqliteReadModelStore(join(selection.dataDir, 'read-models.db')) };
}
