/**
 * Emmett's SQLite event store, for comparison only: not a dependency of the project. It is installed on first use
 * into `.cache/bench-deps` (git-ignored); it needs `--legacy-peer-deps`, and its driver (node-sqlite3) may compile
 * from source, which takes minutes and must not slow `npm ci`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const DEPS_DIR = join(process.cwd(), '.cache', 'bench-deps');
/** The store, its core and their peer dependencies (not installed by `--legacy-peer-deps`). */
const PACKAGES = [
  '@event-driven-io/emmett-sqlite@0.42',
  '@event-driven-io/emmett@0.42',
  'sqlite3@5.1.7',
  'async-retry@1',
  'commander@12',
  'uuid@10',
];

export interface EmmettEvent {
  type: string;
  data: unknown;
  metadata?: Record<string, unknown>;
}

export interface EmmettSqlite {
  version: string;
  open(fileName: string): {
    appendToStream(streamName: string, events: EmmettEvent[]): Promise<unknown>;
    close(): Promise<void>;
  };
}

interface EmmettModule {
  SQLiteConnectionPool(options: { fileName: string }): {
    close(): Promise<void>;
  };
  getSQLiteEventStore(options: { fileName: string; pool: unknown; schema: { autoMigration: 'CreateOrUpdate' } }): {
    appendToStream(streamName: string, events: EmmettEvent[]): Promise<unknown>;
  };
}

/** Loads Emmett's SQLite store, installing it first if needed; a string says why it is not available. */
export function loadEmmettSqlite(): EmmettSqlite | string {
  const load = () => {
    const required = createRequire(join(DEPS_DIR, 'package.json'));
    const emmett = required('@event-driven-io/emmett-sqlite') as EmmettModule;
    // The package exports no ./package.json: read the file itself.
    const manifest = join(DEPS_DIR, 'node_modules', '@event-driven-io', 'emmett-sqlite', 'package.json');
    const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
    return { emmett, version };
  };
  try {
    let loaded: ReturnType<typeof load>;
    try {
      loaded = load();
    } catch {
      console.log(`Installing ${PACKAGES.join(' ')} into ${DEPS_DIR} (once; node-sqlite3 may compile from source)...`);
      execFileSync(
        'npm',
        ['install', '--prefix', DEPS_DIR, '--legacy-peer-deps', '--no-audit', '--no-fund', ...PACKAGES],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      loaded = load();
    }
    const { emmett, version } = loaded;
    return {
      version,
      open(fileName) {
        // Emmett's default pool: a connection per operation. Its singleton connection failed in this bench with
        // SQLITE_BUSY ("cannot commit transaction - SQL statements in progress").
        const pool = emmett.SQLiteConnectionPool({ fileName });
        const store = emmett.getSQLiteEventStore({ fileName, pool, schema: { autoMigration: 'CreateOrUpdate' } });
        return { appendToStream: (stream, events) => store.appendToStream(stream, events), close: () => pool.close() };
      },
    };
  } catch (error) {
    return `Emmett's SQLite store could not be installed or loaded from ${DEPS_DIR}: ${String(error)}`;
  }
}
