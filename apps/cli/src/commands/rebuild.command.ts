import type { INestApplicationContext } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { liveDataDirLockHolders, READ_MODELS } from '@app/incidents';
import { rebuildReadModels, type ReadModelStore } from '@app/read-models';
import { withAppContext, type CliCommand } from '../command-line';
import { tightenHeapGrowth } from '../heap';
import { ProgressBar } from '../progress-bar';

export const rebuildCommand: CliCommand = {
  name: 'rebuild',
  summary: 'drop the read models and rebuild them from the log (refused while the API runs)',
  usage: `usage: npm run cli -- rebuild [--force] [--progress]

Drops every read model under DATA_DIR and folds the whole log into them again. The log is read in large pages and
folded in memory, a bounded working set of incidents at a time, each flush written in one transaction.

On a terminal a progress bar shows the events done, the rate and the time left; --progress prints the same figures
off a terminal too, a line every tenth of the way (otherwise only the final line is printed).

A running API holds DATA_DIR (a lock file per process under DATA_DIR/locks, removed when it stops; a file left by a
process that no longer runs is ignored). While one does, rebuild refuses and names it. --force rebuilds anyway: the
running API then notices the moved checkpoint and resumes from it.
`,
  options: { force: { type: 'boolean' }, progress: { type: 'boolean' } },
  positionals: false,
  async run(args, config) {
    const holders = liveDataDirLockHolders(config.dataDir);
    if (holders.length > 0 && args.values.force !== true) {
      const names = holders.map(
        (holder) => `${holder.role} pid ${holder.pid} on ${holder.hostname} since ${holder.startedAt}`,
      );
      process.stderr.write(
        `refusing to rebuild: DATA_DIR ${config.dataDir} is in use by ${names.join('; ')}\n` +
          'stop it first, or pass --force to rebuild under it\n',
      );
      return 1;
    }
    tightenHeapGrowth();
    return withAppContext(config, (app) => rebuild(app, args.values.progress === true));
  },
};

/** Drops every read model and folds the whole log into them again. */
async function rebuild(app: INestApplicationContext, progress: boolean): Promise<number> {
  const store = app.get<EventStore>(EVENT_STORE);
  const readModels = app.get<ReadModelStore>(READ_MODELS);
  const bar = new ProgressBar('rebuild', { unit: 'events', offTerminal: progress ? 'lines' : 'quiet' });
  const started = Date.now();
  // Positions may have gaps (PostgreSQL sequences), so the total is estimated from the share of the log read so far.
  const result = await rebuildReadModels(store, readModels, {
    onProgress: ({ applied, position, head }) =>
      bar.update(applied, position >= head ? applied : Math.round((applied * Number(head)) / Number(position))),
  });
  bar.finish(
    `rebuilt read models from ${result.applied} event(s) in ${result.flushes} transaction(s), ${Date.now() - started} ms`,
  );
  return 0;
}
