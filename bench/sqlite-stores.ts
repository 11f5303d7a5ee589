/**
 * (a) Durable appends on SQLite: this project's adapter vs Emmett's SQLite event store vs raw better-sqlite3, one event
 * per append and 100 events per append, each on its own file in the same directory.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SqliteEventStore } from '@app/event-store';
import { type Case, compareInterleaved, type Ratio } from './compare';
import { loadEmmettSqlite } from './emmett';
import { benchEvent } from './events';

const ROUNDS = 5;

/** The least a durable append must do: one transaction of plain inserts, WAL with fsync, no checks. */
function rawSqlite(file: string) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE,
    stream_id TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL,
    recorded_at TEXT NOT NULL, UNIQUE (stream_id, version))`);
  const insert = db.prepare(
    'INSERT INTO events (event_id, stream_id, version, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  let version = 0;
  const append = db.transaction((streamId: string, events: ReturnType<typeof benchEvent>[]) => {
    const recordedAt = new Date().toISOString();
    for (const e of events) {
      insert.run(
        e.eventId,
        streamId,
        version++,
        e.type,
        JSON.stringify(e.data),
        JSON.stringify(e.metadata),
        recordedAt,
      );
    }
  });
  return {
    append: (streamId: string, events: ReturnType<typeof benchEvent>[]) => append.immediate(streamId, events),
    db,
  };
}

export async function compareSqliteStores(dir: string): Promise<void> {
  const emmett = loadEmmettSqlite();
  const ours = new SqliteEventStore({ filename: join(dir, 'a-ours.db') });
  const raw = rawSqlite(join(dir, 'a-raw.db'));
  const theirs = typeof emmett === 'string' ? undefined : emmett.open(join(dir, 'a-emmett.db'));
  if (typeof emmett === 'string')
    console.log(`\n(a) ${emmett}\n    Comparing the adapter with raw better-sqlite3 only.`);
  const batch = (size: number) => Array.from({ length: size }, () => benchEvent());
  const stream = () => `incident-${randomUUID()}`;

  const cases: Case[] = [];
  for (const [size, operations] of [
    [1, 300],
    [100, 40],
  ] as const) {
    cases.push(
      {
        name: `adapter, ${size}/append`,
        operations,
        prepare: async () => (i) => ours.append(`${stream()}-${i}`, batch(size), 'no-stream').then(() => undefined),
      },
      {
        name: `raw better-sqlite3, ${size}/append`,
        operations,
        prepare: async () => async () => raw.append(stream(), batch(size)),
      },
    );
    if (theirs) {
      cases.push({
        name: `Emmett, ${size}/append`,
        operations,
        prepare: async () => async () => {
          await theirs.appendToStream(
            stream(),
            batch(size).map(({ type, data, metadata }) => ({ type, data, metadata })),
          );
        },
      });
    }
  }
  const ratios: Ratio[] = [1, 100].flatMap((size) => [
    {
      label: `adapter / raw better-sqlite3, ${size} event(s) per append`,
      numerator: `adapter, ${size}/append`,
      denominator: `raw better-sqlite3, ${size}/append`,
      goal: 0.8,
    },
    ...(theirs
      ? [
          {
            label: `adapter / Emmett, ${size} event(s) per append`,
            numerator: `adapter, ${size}/append`,
            denominator: `Emmett, ${size}/append`,
            goal: 5,
          },
        ]
      : []),
  ]);
  const compare = (withEmmett: boolean) =>
    compareInterleaved({
      title: '(a) SQLite: durable appends, one append at a time (events/append as named; rates are appends/s)',
      conditions: [
        'adapter: better-sqlite3 12, WAL, synchronous=FULL, checks (idempotence by id, expected version), JSON text',
        'raw: the same table and pragmas, one transaction of plain INSERTs per append, no checks',
        !withEmmett || typeof emmett === 'string'
          ? 'Emmett: not available'
          : `Emmett: @event-driven-io/emmett-sqlite ${emmett.version} on node-sqlite3, its default pool (a connection per operation), WAL, default synchronous`,
        'each case its own file in the same directory; a new stream per append',
      ],
      rounds: ROUNDS,
      cases: withEmmett ? cases : cases.filter((c) => !c.name.startsWith('Emmett')),
      ratios: withEmmett ? ratios : ratios.filter((r) => r.denominator.startsWith('raw')),
    });
  try {
    try {
      await compare(theirs !== undefined);
    } catch (error) {
      if (theirs === undefined) throw error;
      console.log(`\n(a) Emmett's SQLite store failed during the comparison: ${String(error)}`);
      console.log('    Comparing the adapter with raw better-sqlite3 only.');
      await compare(false);
    }
  } finally {
    await ours.close();
    raw.db.close();
    await theirs?.close();
  }
}
