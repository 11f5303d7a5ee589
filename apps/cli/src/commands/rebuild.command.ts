import type { INestApplicationContext } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { READ_MODELS } from '@app/incidents';
import { rebuildReadModels, type ReadModelStore } from '@app/read-models';
import { ProgressBar } from '../progress-bar';

/** `rebuild`: drops every read model and folds the whole log into them again. */
export async function rebuildCommand(app: INestApplicationContext): Promise<number> {
  const store = app.get<EventStore>(EVENT_STORE);
  const readModels = app.get<ReadModelStore>(READ_MODELS);
  const bar = new ProgressBar('rebuild');
  const started = Date.now();
  const result = await rebuildReadModels(store, readModels, ({ applied, position, head }) =>
    bar.update(Number(position), Number(head) || applied),
  );
  bar.finish(`rebuilt read models from ${result.applied} event(s) in ${Date.now() - started} ms`);
  return 0;
}
