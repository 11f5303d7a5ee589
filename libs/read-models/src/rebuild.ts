import type { EventStore } from '@app/event-store';
import { INCIDENT_PROJECTION_NAME, projectBatch } from './incident.projection';
import type { ReadModelStore } from './read-model.port';

export interface RebuildProgress {
  applied: number;
  position: bigint;
  head: bigint;
}

/**
 * Empties the projection's rows and folds the whole log into them again, a page at a time: each page is one
 * transaction that reads and writes only the rows its events touch, so memory stays bounded by the page.
 */
export async function rebuildReadModels(
  store: EventStore,
  readModels: ReadModelStore,
  onProgress: (progress: RebuildProgress) => void = () => undefined,
  pageSize = 5000,
): Promise<RebuildProgress> {
  await readModels.reset(INCIDENT_PROJECTION_NAME);
  const head = await store.headPosition();
  let position = 0n;
  let applied = 0;
  for (;;) {
    const page = await store.readAll({ after: position, limit: pageSize });
    if (page.length === 0) break;
    await projectBatch(readModels, page, position);
    position = page[page.length - 1].position;
    applied += page.length;
    onProgress({ applied, position, head: head > position ? head : position });
  }
  return { applied, position, head };
}
