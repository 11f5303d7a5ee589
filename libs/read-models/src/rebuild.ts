import type { EventStore } from '@app/event-store';
import { INCIDENT_PROJECTION, projectBatch } from './incident.projection';
import type { SqliteReadModelStore } from './sqlite.read-model-store';

export interface RebuildProgress {
  applied: number;
  position: bigint;
  head: bigint;
}

/** Drops every read model and folds the whole log into them again, page by page. */
export async function rebuildReadModels(
  store: EventStore,
  readModels: SqliteReadModelStore,
  onProgress: (progress: RebuildProgress) => void = () => undefined,
  pageSize = 1000,
): Promise<RebuildProgress> {
  readModels.reset();
  const head = await store.headPosition();
  let position = 0n;
  let applied = 0;
  for (;;) {
    const page = await store.readAll({ after: position, limit: pageSize });
    if (page.length === 0) break;
    projectBatch(readModels, page, position);
    position = page[page.length - 1].position;
    applied += page.length;
    onProgress({ applied, position, head: head > position ? head : position });
  }
  return { applied, position, head };
}

export { INCIDENT_PROJECTION };
