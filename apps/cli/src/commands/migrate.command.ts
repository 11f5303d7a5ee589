import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { AppConfig } from '@app/config';
import { migrateLog, openEventStore, SqliteEventStore } from '@app/event-store';
import { stringOption, UsageError, type CliCommand } from '../command-line';
import { ProgressBar } from '../progress-bar';

const TARGETS = ['postgres', 'eventstoredb'] as const;

export const migrateCommand: CliCommand = {
  name: 'migrate',
  summary: 'copy the embedded SQLite log into an empty PostgreSQL or EventStoreDB store, verified',
  usage: `usage: npm run cli -- migrate --to postgres|eventstoredb

Copies the whole log from the embedded SQLite store under DATA_DIR into an empty PostgreSQL (DATABASE_URL,
DATABASE_SCHEMA) or EventStoreDB (EVENTSTORE_CONNECTION_STRING) store, then verifies the copy by count and hash.
`,
  options: { to: { type: 'string' } },
  positionals: false,
  run(args, config) {
    const to = stringOption(args, 'to');
    if (to === undefined) throw new UsageError('--to is required');
    if (!TARGETS.includes(to as (typeof TARGETS)[number])) {
      throw new UsageError(`--to must be one of ${TARGETS.join(', ')}`);
    }
    return migrate(config, to as (typeof TARGETS)[number]);
  },
};

async function migrate(config: AppConfig, to: (typeof TARGETS)[number]): Promise<number> {
  const filename = join(config.dataDir, 'events.db');
  if (!existsSync(filename)) {
    process.stderr.write(`no embedded store at ${filename} (DATA_DIR)\n`);
    return 1;
  }
  const source = new SqliteEventStore({ filename });
  const target = await openEventStore({ ...config, eventStore: to });
  try {
    const bar = new ProgressBar(`migrate to ${to}`, { unit: 'events' });
    const result = await migrateLog(source, target, ({ copied, total }) => bar.update(copied, total));
    bar.finish(
      `copied ${result.target.count} of ${result.source.count} event(s); sha256 source ${result.source.sha256.slice(0, 16)}… ` +
        `target ${result.target.sha256.slice(0, 16)}… ${result.verified ? 'verified' : 'MISMATCH'}`,
    );
    if (result.heldBack) {
      process.stderr.write(
        `the copy is committed, but after five minutes ${to} still held part of it back behind a transaction that ` +
          `began before it and has not ended (see pg_stat_activity), so it could not be verified\n`,
      );
    }
    return result.verified ? 0 : 1;
  } finally {
    await target.close();
    await source.close();
  }
}
