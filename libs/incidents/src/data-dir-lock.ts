import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** Who holds the data directory: a serving process writes one of these while it runs. */
export interface DataDirLockHolder {
  role: string;
  pid: number;
  hostname: string;
  startedAt: string;
}

const LOCK_DIR = 'locks';

function lockDir(dataDir: string): string {
  return join(dataDir, LOCK_DIR);
}

/** Whether a process id is running on this machine (EPERM: it runs, under another user). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Marks the data directory as in use by this process until `release` (or until the process dies: a lock whose process
 * is gone is ignored, so `kill -9` leaves nothing to clean up by hand). One file per process, so several readers can
 * hold it at once.
 */
export function holdDataDirLock(
  dataDir: string,
  role: string,
  now: () => Date = () => new Date(),
): { release(): void } {
  mkdirSync(lockDir(dataDir), { recursive: true });
  const file = join(lockDir(dataDir), `${role}-${process.pid}.json`);
  const holder: DataDirLockHolder = { role, pid: process.pid, hostname: hostname(), startedAt: now().toISOString() };
  writeFileSync(file, `${JSON.stringify(holder)}\n`, { mode: 0o644 });
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      rmSync(file, { force: true });
    },
  };
}

/**
 * The processes that hold the data directory now. A holder on another host (a container sharing the volume) cannot be
 * checked, so it counts as live; a holder on this host whose process has exited does not.
 */
export function liveDataDirLockHolders(dataDir: string): DataDirLockHolder[] {
  let names: string[];
  try {
    names = readdirSync(lockDir(dataDir)).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  const holders: DataDirLockHolder[] = [];
  for (const name of names.sort()) {
    try {
      const holder = JSON.parse(readFileSync(join(lockDir(dataDir), name), 'utf8')) as DataDirLockHolder;
      if (holder.pid === process.pid && holder.hostname === hostname()) continue;
      if (holder.hostname !== hostname() || isRunning(holder.pid)) holders.push(holder);
    } catch {
      continue;
    }
  }
  return holders;
}
