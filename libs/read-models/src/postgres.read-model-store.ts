import { Client, Pool, type PoolClient } from 'pg';
import { PersistentMap, type FactState, type IncidentState, type LinkState, type StatusPeriod } from '@app/domain';
import { INCIDENT_PROJECTION } from './incident.projection';
import type { ProjectorLock } from './projection-runner';
import {
  CheckpointMovedError,
  factKeyOf,
  type FactKey,
  type IncidentHeader,
  type IncidentSummaryRow,
  type ListFilter,
  type ParkedIncident,
  type ReadModelStore,
  type RowChanges,
} from './read-model.port';
import { decodeFact, escapeLike, factRowOf, headerColumns, type StoredHeader } from './rows';

export interface PostgresReadModelOptions {
  connectionString: string;
  /** Schema holding the read models (the event store's, by default); created when missing. */
  schema?: string;
  poolSize?: number;
}

/** First key of the advisory locks of the read models; the second is derived from the schema. */
const LOCK_SPACE = 0x524d4f44;
const CONNECT_TIMEOUT_MS = 10_000;
/** The event store adapter's migration lock (its advisory lock space, key 0). */
const MIGRATION_LOCK = [0x45564e54, 0] as const;

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** JSON cannot carry an infinite sort key (an open end); PostgreSQL reads the text form. */
function float8(value: number): string {
  return Number.isFinite(value) ? String(value) : value > 0 ? 'Infinity' : '-Infinity';
}

/**
 * Read models in PostgreSQL, so that any number of API processes share them: the same rows as the embedded adapter,
 * written with the checkpoint in one transaction; the projector among the processes is chosen by an advisory lock.
 */
export class PostgresReadModelStore implements ReadModelStore {
  readonly kind = 'postgres' as const;
  private readonly t;

  private constructor(
    private readonly pool: Pool,
    private readonly options: PostgresReadModelOptions,
    private readonly schema: string,
  ) {
    const s = quoteIdentifier(schema);
    const v = `v${INCIDENT_PROJECTION.version}`;
    this.t = {
      incident: `${s}.incident_${v}`,
      period: `${s}.status_period_${v}`,
      link: `${s}.link_${v}`,
      fact: `${s}.fact_${v}`,
      technique: `${s}.fact_technique_${v}`,
      checkpoints: `${s}.read_model_checkpoints`,
      parked: `${s}.parked_${v}`,
      indexPrefix: `incident_${v}`,
    };
  }

  static async open(options: PostgresReadModelOptions): Promise<PostgresReadModelStore> {
    const schema = options.schema ?? 'public';
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid PostgreSQL schema name: ${schema}`);
    const pool = new Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    // An idle client that loses its server must not take the process down; the next query reports it.
    pool.on('error', () => undefined);
    const store = new PostgresReadModelStore(pool, options, schema);
    try {
      await store.migrate();
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return store;
  }

  private async migrate(): Promise<void> {
    const t = this.t;
    await this.transaction(async (client) => {
      // Concurrent CREATE ... IF NOT EXISTS (several replicas, the event store's own migration) can still collide:
      // the same lock as the event store's migrations makes them one at a time.
      await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK[0]}, ${MIGRATION_LOCK[1]})`);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(this.schema)}`);
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${t.incident} (
          id TEXT PRIMARY KEY, title TEXT NOT NULL, category TEXT NOT NULL, status TEXT NOT NULL,
          updated_at TEXT NOT NULL, version INTEGER NOT NULL, search TEXT NOT NULL, header JSONB NOT NULL);
        CREATE INDEX IF NOT EXISTS ${t.indexPrefix}_by_update ON ${t.incident} (updated_at DESC, id);
        CREATE TABLE IF NOT EXISTS ${t.period} (
          incident_id TEXT NOT NULL, seq INTEGER NOT NULL, period JSONB NOT NULL, PRIMARY KEY (incident_id, seq));
        CREATE TABLE IF NOT EXISTS ${t.link} (
          incident_id TEXT NOT NULL, seq INTEGER NOT NULL, link JSONB NOT NULL, PRIMARY KEY (incident_id, seq));
        CREATE TABLE IF NOT EXISTS ${t.fact} (
          incident_id TEXT NOT NULL, fact_id TEXT NOT NULL, sort_ms DOUBLE PRECISION NOT NULL,
          latest_ms DOUBLE PRECISION NOT NULL, position BIGINT NOT NULL, retracted BOOLEAN NOT NULL, fact JSONB NOT NULL,
          PRIMARY KEY (incident_id, fact_id));
        CREATE INDEX IF NOT EXISTS ${t.indexPrefix}_fact_timeline ON ${t.fact} (incident_id, sort_ms, latest_ms, position);
        CREATE TABLE IF NOT EXISTS ${t.technique} (
          incident_id TEXT NOT NULL, fact_id TEXT NOT NULL, technique TEXT NOT NULL,
          PRIMARY KEY (incident_id, fact_id, technique));
        CREATE INDEX IF NOT EXISTS ${t.indexPrefix}_by_technique ON ${t.technique} (technique, incident_id);
        CREATE TABLE IF NOT EXISTS ${t.parked} (
          incident_id TEXT PRIMARY KEY, event_id TEXT NOT NULL, position BIGINT NOT NULL, error TEXT NOT NULL,
          parked_at TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS ${t.checkpoints} (name TEXT PRIMARY KEY, position BIGINT NOT NULL);`);
    });
  }

  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async checkpoint(projection: string): Promise<bigint> {
    const { rows } = await this.pool.query<{ position: string }>(
      `SELECT position FROM ${this.t.checkpoints} WHERE name = $1`,
      [projection],
    );
    return rows.length === 0 ? 0n : BigInt(rows[0].position);
  }

  async loadHeaders(incidentIds: readonly string[]): Promise<Map<string, IncidentHeader>> {
    const headers = new Map<string, IncidentHeader>();
    if (incidentIds.length === 0) return headers;
    const ids = [...incidentIds];
    const [stored, periods, links] = await Promise.all([
      this.pool.query<{ id: string; header: StoredHeader }>(
        `SELECT id, header FROM ${this.t.incident} WHERE id = ANY($1)`,
        [ids],
      ),
      this.pool.query<{ incident_id: string; period: StatusPeriod }>(
        `SELECT incident_id, period FROM ${this.t.period} WHERE incident_id = ANY($1) ORDER BY incident_id, seq`,
        [ids],
      ),
      this.pool.query<{ incident_id: string; link: LinkState }>(
        `SELECT incident_id, link FROM ${this.t.link} WHERE incident_id = ANY($1) ORDER BY incident_id, seq`,
        [ids],
      ),
    ]);
    for (const row of stored.rows) headers.set(row.id, { ...row.header, statusHistory: [], links: [] });
    for (const row of periods.rows) headers.get(row.incident_id)?.statusHistory.push(row.period);
    for (const row of links.rows) headers.get(row.incident_id)?.links.push(row.link);
    return headers;
  }

  async loadFacts(keys: readonly FactKey[]): Promise<Map<string, FactState>> {
    const facts = new Map<string, FactState>();
    if (keys.length === 0) return facts;
    const { rows } = await this.pool.query<{ incident_id: string; fact_id: string; fact: FactState }>(
      `SELECT f.incident_id, f.fact_id, f.fact FROM ${this.t.fact} f
       JOIN unnest($1::text[], $2::text[]) AS k(incident_id, fact_id)
         ON f.incident_id = k.incident_id AND f.fact_id = k.fact_id`,
      [keys.map((key) => key.incidentId), keys.map((key) => key.factId)],
    );
    for (const row of rows) facts.set(factKeyOf(row.incident_id, row.fact_id), decodeFact(row.fact));
    return facts;
  }

  async commit(projection: string, changes: RowChanges, position: bigint, expected: bigint): Promise<void> {
    const t = this.t;
    await this.transaction(async (client) => {
      await client.query(`INSERT INTO ${t.checkpoints} (name, position) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING`, [
        projection,
      ]);
      const { rows } = await client.query<{ position: string }>(
        `SELECT position FROM ${t.checkpoints} WHERE name = $1 FOR UPDATE`,
        [projection],
      );
      const current = BigInt(rows[0].position);
      if (current !== expected) throw new CheckpointMovedError(projection, expected, current);

      await this.writeRows(client, changes);
      for (const parked of changes.parked ?? []) {
        await client.query(
          `INSERT INTO ${t.parked} (incident_id, event_id, position, error, parked_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (incident_id) DO UPDATE SET event_id = excluded.event_id, position = excluded.position,
             error = excluded.error, parked_at = excluded.parked_at`,
          [parked.incidentId, parked.eventId, parked.position.toString(), parked.error, parked.parkedAt],
        );
      }
      await client.query(`UPDATE ${t.checkpoints} SET position = $2 WHERE name = $1`, [
        projection,
        position.toString(),
      ]);
    });
  }

  private async writeRows(client: PoolClient, changes: RowChanges): Promise<void> {
    const t = this.t;
    if (changes.headers.length > 0) {
      const headers = changes.headers.map(({ header }) => {
        const { stored, ...columns } = headerColumns(header);
        return { ...columns, header: stored };
      });
      await client.query(
        `INSERT INTO ${t.incident} (id, title, category, status, updated_at, version, search, header)
         SELECT id, title, category, status, "updatedAt", version, search, header
         FROM jsonb_to_recordset($1::jsonb) AS x(id text, title text, category text, status text, "updatedAt" text,
           version integer, search text, header jsonb)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, category = excluded.category, status = excluded.status,
           updated_at = excluded.updated_at, version = excluded.version, search = excluded.search, header = excluded.header`,
        [JSON.stringify(headers)],
      );
      const statusOf = changes.headers.filter((change) => change.statusChanged).map((change) => change.header);
      if (statusOf.length > 0) {
        await client.query(`DELETE FROM ${t.period} WHERE incident_id = ANY($1)`, [statusOf.map((h) => h.id)]);
        const periods = statusOf.flatMap((h) => h.statusHistory.map((period, seq) => ({ id: h.id, seq, period })));
        await client.query(
          `INSERT INTO ${t.period} (incident_id, seq, period)
           SELECT id, seq, period FROM jsonb_to_recordset($1::jsonb) AS x(id text, seq integer, period jsonb)`,
          [JSON.stringify(periods)],
        );
      }
      const linksOf = changes.headers.filter((change) => change.linksChanged).map((change) => change.header);
      if (linksOf.length > 0) {
        await client.query(`DELETE FROM ${t.link} WHERE incident_id = ANY($1)`, [linksOf.map((h) => h.id)]);
        const links = linksOf.flatMap((h) => h.links.map((link, seq) => ({ id: h.id, seq, link })));
        if (links.length > 0) {
          await client.query(
            `INSERT INTO ${t.link} (incident_id, seq, link)
             SELECT id, seq, link FROM jsonb_to_recordset($1::jsonb) AS x(id text, seq integer, link jsonb)`,
            [JSON.stringify(links)],
          );
        }
      }
    }

    if (changes.facts.length > 0) {
      // Each fact's JSON is spliced in as encoded, not parsed and encoded again.
      const facts = changes.facts
        .map(
          (row) =>
            `{"incidentId":${JSON.stringify(row.incidentId)},"factId":${JSON.stringify(row.factId)},` +
            `"sortMs":"${float8(row.sortMs)}","latestMs":"${float8(row.latestMs)}","position":${row.position},` +
            `"retracted":${row.retracted},"fact":${row.json}}`,
        )
        .join(',');
      await client.query(
        `INSERT INTO ${t.fact} (incident_id, fact_id, sort_ms, latest_ms, position, retracted, fact)
         SELECT "incidentId", "factId", "sortMs"::float8, "latestMs"::float8, position, retracted, fact
         FROM jsonb_to_recordset($1::jsonb) AS x("incidentId" text, "factId" text, "sortMs" text, "latestMs" text,
           position bigint, retracted boolean, fact jsonb)
         ON CONFLICT (incident_id, fact_id) DO UPDATE SET sort_ms = excluded.sort_ms, latest_ms = excluded.latest_ms,
           position = excluded.position, retracted = excluded.retracted, fact = excluded.fact`,
        [`[${facts}]`],
      );
      await client.query(
        `DELETE FROM ${t.technique} t USING unnest($1::text[], $2::text[]) AS k(incident_id, fact_id)
         WHERE t.incident_id = k.incident_id AND t.fact_id = k.fact_id`,
        [changes.facts.map((f) => f.incidentId), changes.facts.map((f) => f.factId)],
      );
      const techniques = changes.facts.flatMap((row) =>
        row.techniques.map((technique) => [row.incidentId, row.factId, technique]),
      );
      if (techniques.length > 0) {
        await client.query(
          `INSERT INTO ${t.technique} (incident_id, fact_id, technique)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`,
          [techniques.map((r) => r[0]), techniques.map((r) => r[1]), techniques.map((r) => r[2])],
        );
      }
    }
  }

  async parked(incidentIds?: readonly string[]): Promise<ParkedIncident[]> {
    const { rows } = await this.pool.query<{
      incident_id: string;
      event_id: string;
      position: string;
      error: string;
      parked_at: string;
    }>(
      incidentIds === undefined
        ? `SELECT * FROM ${this.t.parked} ORDER BY position`
        : `SELECT * FROM ${this.t.parked} WHERE incident_id = ANY($1) ORDER BY position`,
      incidentIds === undefined ? [] : [[...incidentIds]],
    );
    return rows.map((row) => ({
      incidentId: row.incident_id,
      eventId: row.event_id,
      position: BigInt(row.position),
      error: row.error,
      parkedAt: row.parked_at,
    }));
  }

  async replaceIncident(_projection: string, state: IncidentState): Promise<void> {
    const { facts, ...header } = state;
    await this.transaction(async (client) => {
      await client.query(`DELETE FROM ${this.t.fact} WHERE incident_id = $1`, [state.id]);
      await client.query(`DELETE FROM ${this.t.technique} WHERE incident_id = $1`, [state.id]);
      await this.writeRows(client, {
        headers: [{ header, statusChanged: true, linksChanged: true }],
        facts: [...facts.values()].map((fact) => factRowOf(state.id, fact)),
      });
      await client.query(`DELETE FROM ${this.t.parked} WHERE incident_id = $1`, [state.id]);
    });
  }

  async loadIncident(incidentId: string): Promise<IncidentState | null> {
    const header = (await this.loadHeaders([incidentId])).get(incidentId);
    if (header === undefined) return null;
    const { rows } = await this.pool.query<{ fact: FactState }>(
      `SELECT fact FROM ${this.t.fact} WHERE incident_id = $1 ORDER BY sort_ms, latest_ms, position`,
      [incidentId],
    );
    const facts = rows.map((row) => decodeFact(row.fact));
    return { ...header, facts: PersistentMap.from(facts.map((fact) => [fact.factId, fact])) };
  }

  async list(filter: ListFilter): Promise<IncidentSummaryRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (filter.status) where.push(`status = ${param(filter.status)}`);
    if (filter.category) where.push(`category = ${param(filter.category)}`);
    if (filter.q) where.push(`search LIKE ${param(`%${escapeLike(filter.q.toLowerCase())}%`)} ESCAPE '\\'`);
    if (filter.technique) {
      where.push(
        `EXISTS (SELECT 1 FROM ${this.t.technique} t WHERE t.incident_id = i.id AND (t.technique = ${param(filter.technique)} OR t.technique LIKE ${param(`${filter.technique}.%`)}))`,
      );
    }
    if (filter.after) {
      const updatedAt = param(filter.after.updatedAt);
      where.push(
        `(updated_at COLLATE "C" < ${updatedAt} OR (updated_at = ${updatedAt} AND id COLLATE "C" > ${param(filter.after.id)}))`,
      );
    }
    const { rows } = await this.pool.query<{
      id: string;
      title: string;
      category: IncidentSummaryRow['category'];
      status: IncidentSummaryRow['status'];
      updated_at: string;
      version: number;
    }>(
      `SELECT id, title, category, status, updated_at, version FROM ${this.t.incident} i
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY updated_at COLLATE "C" DESC, id COLLATE "C" LIMIT ${param(filter.limit)}`,
      params,
    );
    return rows.map((row) => ({
      id: row.id,
      title: row.title,
      category: row.category,
      status: row.status,
      updatedAt: row.updated_at,
      version: row.version,
    }));
  }

  async dump(): Promise<IncidentState[]> {
    const { rows } = await this.pool.query<{ id: string }>(`SELECT id FROM ${this.t.incident} ORDER BY id COLLATE "C"`);
    const states: IncidentState[] = [];
    for (const { id } of rows) states.push((await this.loadIncident(id))!);
    return states;
  }

  async reset(projection: string): Promise<void> {
    const t = this.t;
    await this.transaction(async (client) => {
      await client.query(`TRUNCATE ${t.incident}, ${t.period}, ${t.link}, ${t.fact}, ${t.technique}, ${t.parked}`);
      await client.query(`DELETE FROM ${t.checkpoints} WHERE name = $1`, [projection]);
    });
  }

  /**
   * The lock that makes one process of all those sharing this schema the projector. Held by a session of its own,
   * so it goes with the process: when the holder dies, its connection closes and another process takes over.
   */
  projectorLock(pollMs = 1000): ProjectorLock {
    const key = `projector:${this.schema}`;
    let client: Client | undefined;
    let holder: Client | undefined;
    let onLost: () => void = () => undefined;
    let lost = Promise.resolve();
    const drop = (session: Client) => {
      if (client === session) client = undefined;
      if (holder === session) {
        holder = undefined;
        onLost();
      }
    };
    return {
      acquire: async (signal) => {
        while (!signal.aborted) {
          try {
            if (client === undefined) {
              const session = new Client({
                connectionString: this.options.connectionString,
                connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
              });
              client = session;
              session.on('error', () => drop(session));
              session.on('end', () => drop(session));
              await session.connect();
            }
            const session = client;
            const { rows } = await session.query<{ held: boolean }>(
              `SELECT pg_try_advisory_lock(${LOCK_SPACE}, hashtext($1)) AS held`,
              [key],
            );
            if (rows[0].held) {
              lost = new Promise<void>((resolve) => (onLost = resolve));
              holder = session;
              return true;
            }
          } catch {
            const failed = client;
            client = undefined;
            await failed?.end().catch(() => undefined);
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, pollMs);
            signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
          });
        }
        return false;
      },
      lost: () => lost,
      release: async () => {
        const session = client;
        client = undefined;
        holder = undefined;
        await session?.end().catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
