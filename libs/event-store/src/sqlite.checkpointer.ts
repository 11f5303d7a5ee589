import Database from 'better-sqlite3';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/** Marks the worker thread this file runs as (see {@link WalCheckpointer}). */
const CHECKPOINTER_ROLE = 'sqlite-wal-checkpointer';

/** How often the thread copies what the log holds back into the database file. */
const CHECKPOINT_INTERVAL_MS = 100;

/** SQLite's own threshold, in pages of log, for a commit to checkpoint. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

/**
 * Checkpoints a SQLite file's write-ahead log on a worker thread of its own, with its own connection: a passive
 * checkpoint every CHECKPOINT_INTERVAL_MS. Left to SQLite, the checkpoint runs inside the commit that crosses its
 * threshold, on the event loop, copying the log back into the database file and syncing it: on a busy disk that
 * commit took 80 to 160 ms against about 1 ms for the others, and every request waited for it. A passive checkpoint
 * never blocks a writer and copies only what no reader still needs. The thread never holds the process open but while
 * it is being closed; if it dies, the connection it relieved checkpoints on commit again, as SQLite does by default.
 * The event store uses it. The read-model file does not: its checkpoints every 100 ms, each syncing that file, made
 * the event store's own syncs wait, and the 99th percentile of HTTP writes doubled.
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private closing = false;

  private constructor(db: Database.Database, filename: string) {
    db.pragma('wal_autocheckpoint = 0');
    this.worker = new Worker(__filename, {
      workerData: { role: CHECKPOINTER_ROLE, filename },
      // Tests load this file from its TypeScript source; the built service runs the compiled file.
      ...(__filename.endsWith('.ts') && { execArgv: ['--require', 'ts-node/register/transpile-only'] }),
    });
    this.worker.on('error', () => undefined);
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        // Without its thread the log would only grow: commits go back to checkpointing it themselves.
        if (!this.closing && db.open) db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
        resolve();
      }),
    );
    this.worker.unref();
  }

  /** Stops `db` (a connection to `filename` in WAL mode) checkpointing on commit, and starts the thread. */
  static start(db: Database.Database, filename: string): WalCheckpointer {
    return new WalCheckpointer(db, filename);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.worker.ref();
    this.worker.postMessage('close');
    await this.exited;
  }
}

/** The body of the thread. */
function checkpointEvery(filename: string, intervalMs: number): void {
  const port = parentPort!;
  const db = new Database(filename);
  db.pragma('busy_timeout = 10000');
  // A checkpoint syncs the log before copying it and the file after, so the log can be reused safely.
  db.pragma('synchronous = FULL');
  const timer = setInterval(() => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy or failing this time: the log only grows until the next attempt, and nothing committed is at risk.
    }
  }, intervalMs);
  port.on('message', () => {
    clearInterval(timer);
    db.close();
    port.close();
  });
}

if (!isMainThread && (workerData as { role?: unknown } | null)?.role === CHECKPOINTER_ROLE) {
  checkpointEvery((workerData as { filename: string }).filename, CHECKPOINT_INTERVAL_MS);
}
