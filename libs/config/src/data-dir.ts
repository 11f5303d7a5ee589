import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { ConfigError } from './config.schema';

/** DATA_DIR holds every incident and actor: its owner alone may list it. */
export const DATA_DIR_MODE = 0o700;
/** Every database file, with its write-ahead log and shared-memory index. */
export const DATABASE_FILE_MODE = 0o600;

const OPEN_TO_OTHERS = 0o077;
/** What SQLite creates beside a database file; it gives them the database file's own mode. */
const COMPANION_SUFFIXES = ['-wal', '-shm', '-journal'];

export interface DataDirOptions {
  /** DATA_DIR_ALLOW_SHARED: start even when an existing DATA_DIR is open to group or others. */
  allowShared: boolean;
}

/**
 * Creates DATA_DIR with mode 0700, or checks an existing one: a directory that group or others may read, write or
 * enter is refused (as ssh refuses a readable key), unless DATA_DIR_ALLOW_SHARED says it is intended.
 */
export function prepareDataDir(dir: string, options: DataDirOptions): void {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
    chmodSync(dir, DATA_DIR_MODE);
    return;
  }
  const stat = statSync(dir);
  if (!stat.isDirectory()) throw new ConfigError('DATA_DIR', `must be a directory, but ${dir} is not`);
  if ((stat.mode & OPEN_TO_OTHERS) !== 0 && !options.allowShared) {
    const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
    throw new ConfigError(
      'DATA_DIR',
      `${dir} is open to group or others (mode ${mode}) and holds every incident and actor: ` +
        `run "chmod 700 ${dir}", or set DATA_DIR_ALLOW_SHARED=true if that is intended`,
    );
  }
}

/**
 * Makes a database file private before SQLite opens it: created empty with mode 0600 when missing (SQLite takes an
 * empty file as a new database, and gives its -wal and -shm files the same mode), tightened to 0600 when it exists
 * with a wider mode, together with its companions. Call it again after opening, for companions created since.
 */
export function secureDatabaseFile(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, 'a', DATABASE_FILE_MODE));
  for (const file of [path, ...COMPANION_SUFFIXES.map((suffix) => `${path}${suffix}`)]) {
    if (!existsSync(file)) continue;
    if ((statSync(file).mode & 0o777) !== DATABASE_FILE_MODE) chmodSync(file, DATABASE_FILE_MODE);
  }
}
