/**
 * (g) PostgreSQL: this project's adapter vs raw `pg` doing the least a durable append needs (one INSERT ... RETURNING
 * per transaction), one at a time and 64 at once, with pools of the same size on the same server. Skipped without
 * DATABASE_URL.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { PostgresEventStore } from '../libs/event-store/src/postgres.event-store';
import { compareInterleaved } from './compare';
import { benchEvent } from './events';

const ROUNDS = 5;
const POOL_SIZE = 10;

export async function comparePostgres(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.log('\n(g) PostgreSQL adapter vs raw pg: skipped, DATABASE_URL is not set.');
    return;
  }
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const store = await PostgresEventStore.open({ connectionString: url, schema, poolSize: POOL_SIZE });
  const pool = new Pool({ connectionString: url, max: POOL_SIZE });
  try {
    await pool.query(`CREATE TABLE ${schema}.raw_events (
      position BIGSERIAL PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, stream_id TEXT NOT NULL, version INTEGER NOT NULL,
      type TEXT NOT NULL, data JSONB NOT NULL, metadata JSONB NOT NULL, recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      UNIQUE (stream_id, version))`);
    const { rows } = await pool.query<{ server_version: string }>('SHOW server_version');
    const adapter = async () => {
      await store.append(`incident-${randomUUID()}`, [benchEvent()], 'no-stream');
    };
    const raw = async () => {
      const e = benchEvent();
      await pool.query(
        `INSERT INTO ${schema}.raw_events (event_id, stream_id, version, type, data, metadata)
         VALUES ($1, $2, 0, $3, $4, $5) RETURNING position`,
        [e.eventId, `incident-${randomUUID()}`, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)],
      );
    };
    await compareInterleaved({
      title: '(g) PostgreSQL: single-event appends, adapter vs raw pg (rates are appends/s)',
      conditions: [
        `PostgreSQL ${rows[0].server_version} on 127.0.0.1, pg 8, pools of ${POOL_SIZE} connections each, server settings as found`,
        'adapter: append_events() (stream lock, id and version checks, transaction-id positions), NOTIFY after commit',
        'raw: one INSERT ... RETURNING per transaction (autocommit) into a table of the same columns, no checks',
        'a new stream per append; 64 concurrent: 64 callers, each waiting for its append before the next',
      ],
      rounds: ROUNDS,
      cases: [
        { name: 'adapter, serial', operations: 300, prepare: async () => adapter },
        { name: 'raw pg, serial', operations: 300, prepare: async () => raw },
        { name: 'adapter, 64 concurrent', operations: 1500, concurrency: 64, prepare: async () => adapter },
        { name: 'raw pg, 64 concurrent', operations: 1500, concurrency: 64, prepare: async () => raw },
      ],
      ratios: [
        {
          label: 'adapter / raw pg, 64 concurrent',
          numerator: 'adapter, 64 concurrent',
          denominator: 'raw pg, 64 concurrent',
          goal: 0.7,
        },
        { label: 'adapter / raw pg, serial', numerator: 'adapter, serial', denominator: 'raw pg, serial' },
        {
          label: 'adapter 64 concurrent / serial',
          numerator: 'adapter, 64 concurrent',
          denominator: 'adapter, serial',
        },
        { label: 'raw pg 64 concurrent / serial', numerator: 'raw pg, 64 concurrent', denominator: 'raw pg, serial' },
      ],
    });
  } finally {
    await pool.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await pool.end();
    await store.close();
  }
}
