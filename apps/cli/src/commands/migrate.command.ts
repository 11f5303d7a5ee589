import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { AppConfig } from '@app/config';
import { migrateLog, openEventStore, SqliteEventStore } from '@app/event-store';
import { ProgressBar } from '../progress-bar';

const TARGETS = ['postgres', 'eventstoredb'] as const;

/**
 * `migrate --to postgres|eventstoredb`: copies the whole log from the embedded SQLite store under DATA_DIR into an
 * empty PostgreSQL (DATABASE_URL, DATABASE_SCHEMA) or EventStoreDB (EVENTSTORE_CONNECTION_STRING) store, then
 * verifies the copy by count and hash.
 */
export async function migrateCommand(config: AppConfig, args: string[]): Promise<number> {
  const index = args.indexOf('--to');
  const to = index >= 0 ? args[index + 1] : undefined;
  if (!TARGETS.includes(to as (typeof TARGETS)[number])) {
    process.stderr.write(`usage: migrate --to ${TARGETS.join('|')}\n`);
    return 2;
  }
  const filename = join(config.dataDir, 'events.db');
  if (!existsSync(filename)) {
    process.stderr.write(`no embedded store at ${filename} (DATA_DIR)\n`);
    return 1;
  }
  const source = new SqliteEventStore({ filename });
  const target = await openEventStore({ ...config, eventStore: to as (typeof TARGETS)[number] });
  try {
    const bar = new ProgressBar(`migrate to ${to}`);
    const result = await migrateLog(source, target, ({ copied, total }) => bar.update(copied, total));
    bar.finish(
      `copied ${result.target.count} of ${result.source.count} event(s); sha256 source ${result.source.sha256.slice(0, 16)}… ` +
        `target ${result.target.sha256.slice(0, 16)}… ${result.verified ? 'verified' : 'MISMATCH'}`,
    );
    return result.verified ? 0 : 1;
  } finally {
    await target.close();
    await source.close();
  }
}
