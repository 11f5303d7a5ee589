/**
 * (b) Group commit on SQLite: 64 callers appending at once vs one at a time, next to the rate at which this disk can
 * fdatasync at all (the bound for one durable commit after another).
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteEventStore } from '@app/event-store';
import { compareInterleaved } from './compare';
import { benchEvent } from './events';

const ROUNDS = 5;

function fdatasyncLoop(fd: number) {
  const block = Buffer.alloc(4096, 1);
  let i = 0;
  return async () => {
    writeSync(fd, block, 0, block.length, (i++ % 16) * block.length);
    fdatasyncSync(fd);
  };
}

export async function compareGroupCommit(dir: string): Promise<void> {
  const store = new SqliteEventStore({ filename: join(dir, 'b-group.db') });
  const fd = openSync(join(dir, 'b-fdatasync.bin'), 'w');
  let n = 0;
  const append = async () => {
    await store.append(`incident-b${n++}`, [benchEvent()], 'no-stream');
  };
  try {
    await compareInterleaved({
      title: '(b) SQLite adapter: concurrent vs serial single-event appends (distinct streams), and the disk',
      conditions: [
        'adapter: WAL, synchronous=FULL; concurrent appends queued in one turn of the event loop share a transaction',
        '64 concurrent: 64 callers, each waiting for its append before the next; serial: one caller',
        'fdatasync: write 4 KiB + fdatasync, in a loop, on a file in the same directory',
      ],
      rounds: ROUNDS,
      cases: [
        { name: 'appends, 64 concurrent', operations: 3200, concurrency: 64, prepare: async () => append },
        { name: 'appends, serial', operations: 300, prepare: async () => append },
        { name: 'fdatasync', operations: 300, prepare: async () => fdatasyncLoop(fd) },
      ],
      ratios: [
        {
          label: '64 concurrent / serial',
          numerator: 'appends, 64 concurrent',
          denominator: 'appends, serial',
          goal: 3,
        },
        { label: 'serial appends / fdatasync rate', numerator: 'appends, serial', denominator: 'fdatasync' },
        {
          label: '64 concurrent appends / fdatasync rate',
          numerator: 'appends, 64 concurrent',
          denominator: 'fdatasync',
        },
      ],
    });
  } finally {
    closeSync(fd);
    await store.close();
  }
}
