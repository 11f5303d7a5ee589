/**
 * One case of (e), run in a process of its own so that its peak RSS is its own: `node rebuild-worker.js <case>
 * <log file> <output file>`. Prints one line of JSON: events, seconds, peak RSS in bytes.
 */
import Database from 'better-sqlite3';
import { SqliteEventStore } from '@app/event-store';
import { rebuildReadModels, SqliteReadModelStore } from '@app/read-models';
import { tightenHeapGrowth } from '../apps/cli/src/heap';

const PAGE = 10_000;

/**
 * Every event read from the log with the adapter's own query, decoded, and written back as one row, in pages; into a
 * file of SQLite's default page size.
 */
function rawCopy(logFile: string, outFile: string): number {
  const log = new Database(logFile, { readonly: true });
  const out = new Database(outFile);
  out.pragma('journal_mode = WAL');
  out.pragma('synchronous = NORMAL');
  out.exec(`CREATE TABLE rows (stream_id TEXT NOT NULL, key TEXT NOT NULL, row TEXT NOT NULL,
    PRIMARY KEY (stream_id, key))`);
  const read = log.prepare<[number, number], { position: number; stream_id: string; data: string }>(
    'SELECT position, stream_id, data FROM events WHERE position > ? ORDER BY position LIMIT ?',
  );
  const insert = out.prepare('INSERT INTO rows (stream_id, key, row) VALUES (?, ?, ?)');
  const write = out.transaction((page: { stream_id: string; data: string }[]) => {
    for (const event of page) {
      const data = JSON.parse(event.data) as { factId?: string };
      insert.run(event.stream_id, data.factId ?? '', JSON.stringify(data));
    }
  });
  let after = 0;
  let events = 0;
  for (;;) {
    const page = read.all(after, PAGE);
    if (page.length === 0) break;
    write(page);
    after = page[page.length - 1].position;
    events += page.length;
  }
  out.close();
  log.close();
  return events;
}

async function main() {
  const [which, logFile, outFile] = process.argv.slice(2);
  const started = process.hrtime.bigint();
  let events: number;
  if (which === 'raw') {
    events = rawCopy(logFile, outFile);
  } else if (which === 'rebuild') {
    // As `npm run cli -- rebuild` runs it.
    tightenHeapGrowth();
    const store = new SqliteEventStore({ filename: logFile });
    const readModels = new SqliteReadModelStore(outFile);
    events = (await rebuildReadModels(store, readModels)).applied;
    await readModels.close();
    await store.close();
  } else {
    throw new Error(`unknown case ${which}`);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(`${JSON.stringify({ events, seconds, maxRss: process.resourceUsage().maxRSS * 1024 })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});
