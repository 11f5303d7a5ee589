import { EventEmitter } from 'node:events';
import { Client, DatabaseError, Pool, type PoolClient } from 'pg';
import { DuplicateEventIdError, EventStoreUnavailableError, WrongExpectedVersionError } from './errors';
import type {
  AppendResult,
  EventStore,
  EventToAppend,
  ExpectedVersion,
  ReadAllOptions,
  ReadStreamOptions,
  StoredEvent,
  SubscribeOptions,
} from './event-store.port';
import { earlierAppend } from './earlier-append';
import { unreadableBody } from './stored-event-body';
import { waitForWake } from './wake';

export interface PostgresEventStoreOptions {
  /** Usually DATABASE_URL. Never echoed with its password. */
  connectionString: string;
  /** Schema holding the events table; created when missing. */
  schema?: string;
  /** Connections of this instance's pool (the LISTEN connection comes on top). */
  poolSize?: number;
  /** How often a waiting subscriber reads again when no notification arrives. */
  pollIntervalMs?: number;
}

interface EventRow {
  position: string;
  event_id: string;
  stream_id: string;
  version: number;
  type: string;
  data: unknown;
  metadata: unknown;
  recorded_at: Date;
}

/** First key of every advisory lock this adapter takes; the second names what is locked (0: migrations). */
const ADVISORY_LOCK_SPACE = 0x45564e54;
const CONNECT_TIMEOUT_MS = 10_000;
const STREAM_VERSION_KEY = 'events_stream_version_key';
const EVENT_ID_KEY = 'events_event_id_key';

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * The SQL of this adapter, for one schema. Exported so that a test can run the adapter's own append inside a
 * transaction it holds open, instead of imitating it.
 */
export function postgresEventStoreSql(schema: string) {
  const name = quoteIdentifier(schema);
  const events = `${name}.events`;
  const channel = `event_store.${schema}`.slice(0, 63);
  return {
    channel: quoteIdentifier(channel),
    /** Serialises migrations of every schema in the database: concurrent CREATE ... IF NOT EXISTS can still collide. */
    lockMigrations: `SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_SPACE}, 0)`,
    schemaExists: 'SELECT 1 FROM pg_namespace WHERE nspname = $1',
    createSchema: `CREATE SCHEMA IF NOT EXISTS ${name}`,
    createTable: `
      CREATE TABLE IF NOT EXISTS ${events} (
        position    BIGINT      NOT NULL,
        event_id    TEXT        NOT NULL,
        stream_id   TEXT        NOT NULL,
        version     INTEGER     NOT NULL CHECK (version >= 0),
        type        TEXT        NOT NULL,
        data        JSONB       NOT NULL,
        metadata    JSONB       NOT NULL,
        recorded_at TIMESTAMPTZ NOT NULL,
        CONSTRAINT events_pkey PRIMARY KEY (position),
        CONSTRAINT ${EVENT_ID_KEY} UNIQUE (event_id),
        CONSTRAINT ${STREAM_VERSION_KEY} UNIQUE (stream_id, version)
      )`,
    /**
     * The whole append, server-side, so the position lock is never held across a round trip to a client.
     * p_expected: NULL for any, -1 for no stream, else the exact version. Returns {outcome: 'written', version,
     * position}, {outcome: 'wrong-version', actual} or {outcome: 'seen', events: [...]} when some ids are already stored
     * (the caller decides between a replay and a conflict). The advisory lock, keyed by the schema's oid so that other
     * schemas write independently, is held until the transaction ends: positions are taken and committed one append
     * after another. Under READ COMMITTED every statement after the lock sees all earlier appends.
     */
    createAppendFunction: `
      CREATE OR REPLACE FUNCTION ${name}.append_events(p_stream_id text, p_expected integer, p_events jsonb)
      RETURNS jsonb LANGUAGE plpgsql
      -- Planned afresh on every call: a plan cached while the table was tiny would keep scanning it whole.
      SET plan_cache_mode = force_custom_plan
      AS $fn$
      DECLARE
        v_seen jsonb;
        v_current integer;
        v_last_position bigint;
        v_last_recorded_at timestamptz;
        v_recorded_at timestamptz;
        v_count integer := jsonb_array_length(p_events);
        -- An array, not a subquery: the planner then looks the ids up in their index instead of scanning the table.
        v_ids text[] := ARRAY(SELECT value->>'eventId' FROM jsonb_array_elements(p_events));
      BEGIN
        IF current_setting('transaction_isolation') <> 'read committed' THEN
          RAISE EXCEPTION 'append_events needs READ COMMITTED, not %', current_setting('transaction_isolation');
        END IF;
        PERFORM pg_advisory_xact_lock(${ADVISORY_LOCK_SPACE}, (SELECT oid::int FROM pg_namespace WHERE nspname = ${quoteLiteral(schema)}));

        SELECT jsonb_agg(jsonb_build_object('eventId', e.event_id, 'streamId', e.stream_id, 'version', e.version,
                                            'position', e.position::text))
          INTO v_seen
          FROM ${events} e
         WHERE e.event_id = ANY (v_ids);
        IF v_seen IS NOT NULL THEN
          RETURN jsonb_build_object('outcome', 'seen', 'events', v_seen);
        END IF;

        SELECT coalesce(max(e.version), -1) INTO v_current FROM ${events} e WHERE e.stream_id = p_stream_id;
        IF p_expected IS NOT NULL AND p_expected <> v_current THEN
          RETURN jsonb_build_object('outcome', 'wrong-version', 'actual', v_current);
        END IF;

        SELECT e.position, e.recorded_at INTO v_last_position, v_last_recorded_at
          FROM ${events} e ORDER BY e.position DESC LIMIT 1;
        v_last_position := coalesce(v_last_position, 0);
        v_recorded_at := greatest(v_last_recorded_at, date_trunc('milliseconds', clock_timestamp()));
        INSERT INTO ${events} (position, event_id, stream_id, version, type, data, metadata, recorded_at)
        SELECT v_last_position + ordinality, value->>'eventId', p_stream_id, v_current + ordinality::integer,
               value->>'type', value->'data', value->'metadata', v_recorded_at
          FROM jsonb_array_elements(p_events) WITH ORDINALITY;
        PERFORM pg_notify(${quoteLiteral(channel)}, '');
        RETURN jsonb_build_object('outcome', 'written', 'version', v_current + v_count,
                                  'position', (v_last_position + v_count)::text);
      END
      $fn$`,
    /** The lock append_events takes, for the migration copy. */
    lockPositions: `SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_SPACE}, (SELECT oid::int FROM pg_namespace WHERE nspname = ${quoteLiteral(schema)}))`,
    /** Migration: the first copied stream whose first copied version does not continue the stored stream, if any. */
    copyCheck: `
      WITH copied AS (
        SELECT value->>'streamId' AS stream_id, min((value->>'version')::int) AS first_version
          FROM jsonb_array_elements($1::jsonb) GROUP BY 1
      )
      SELECT min(c.stream_id) AS bad FROM copied c
       WHERE c.first_version <> (SELECT coalesce(max(e.version), -1) + 1 FROM ${events} e WHERE e.stream_id = c.stream_id)`,
    /** Migration: events with their own versions and recorded times, positions continuing this store's log. */
    copyInsert: `
      INSERT INTO ${events} (position, event_id, stream_id, version, type, data, metadata, recorded_at)
      SELECT (SELECT coalesce(max(position), 0) FROM ${events}) + ordinality, value->>'eventId', value->>'streamId',
             (value->>'version')::int, value->>'type', value->'data', value->'metadata', (value->>'recordedAt')::timestamptz
        FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY`,
    /** $1 stream id, $2 expected version (see append_events), $3 JSON array of {eventId, type, data, metadata}. */
    append: `SELECT ${name}.append_events($1, $2, $3::jsonb) AS result`,
    streamVersion: `SELECT coalesce(max(version), -1) AS version FROM ${events} WHERE stream_id = $1`,
    readStream: `
      SELECT * FROM ${events}
      WHERE stream_id = $1 AND version >= $2 AND version <= $3 AND ($4::timestamptz IS NULL OR recorded_at <= $4)
      ORDER BY version LIMIT $5`,
    readAll: `SELECT * FROM ${events} WHERE position > $1 ORDER BY position LIMIT $2`,
    head: `SELECT coalesce(max(position), 0)::text AS position FROM ${events}`,
  };
}

type AppendOutcome =
  | { outcome: 'written'; version: number; position: string }
  | { outcome: 'wrong-version'; actual: number }
  | { outcome: 'seen'; events: SeenEvent[] };

interface SeenEvent {
  eventId: string;
  streamId: string;
  version: number;
  position: string;
}

/** JSONB holds only valid JSON, so what cannot be decoded here is JSON of the wrong kind (see unreadableBody). */
function toStored(row: EventRow): StoredEvent {
  const event: StoredEvent = {
    eventId: row.event_id,
    type: row.type,
    streamId: row.stream_id,
    version: row.version,
    position: BigInt(row.position),
    recordedAt: row.recorded_at.toISOString(),
    data: row.data,
    metadata: row.metadata as Record<string, unknown>,
  };
  const unreadable = unreadableBody(row.data, row.metadata);
  if (unreadable === undefined) return event;
  return { ...event, data: null, metadata: {}, unreadable };
}

/**
 * PostgreSQL adapter: one `events` table per schema, data and metadata as JSONB, appends through a PL/pgSQL function.
 *
 * Positions never skip. An append takes a transaction-scoped advisory lock for its schema before it reads the newest
 * position, and keeps it until its transaction ends; the next append cannot read the newest position before the
 * previous one is committed (or rolled back) and visible. Positions become visible in order, so a reader that has seen
 * position P never later finds a smaller one. The price: appends to one schema commit one at a time, and write
 * throughput is bounded by commit latency (batch events into one append to go faster). NOTIFY already serialises
 * commits on PostgreSQL's notification-queue lock, so the position lock adds little. The lock is taken inside the
 * function and the append is one statement, so it is never held across a round trip to a client.
 *
 * Rejected: a transaction-id horizon (`pg_snapshot_xmin(pg_current_snapshot())`). It lets writers commit in
 * parallel, but transactions then commit in transaction-id order, not position order, so a `position > after` cursor
 * can still pass over a lower position that commits later; recorded times would not follow positions either; and any
 * long transaction anywhere in the cluster would stall every subscriber.
 *
 * Subscribers are woken by NOTIFY (sent in the appending transaction, so only on commit) through one LISTEN
 * connection per instance, and poll as a fallback (writers that do not notify, a lost LISTEN connection).
 */
export class PostgresEventStore implements EventStore {
  readonly kind = 'postgres';
  private readonly sql;
  private readonly pollIntervalMs: number;
  private readonly wakeups = new EventEmitter().setMaxListeners(0);
  /** Counts wake-ups, so a subscriber can tell that one arrived while it was reading. */
  private wakeCount = 0;
  private listening?: Promise<void>;
  private listener?: Client;
  private closed = false;

  private constructor(
    private readonly options: PostgresEventStoreOptions,
    private readonly pool: Pool,
    readonly schema: string,
  ) {
    this.sql = postgresEventStoreSql(schema);
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    // An idle connection that breaks is replaced on the next checkout; the error reaches whoever uses it next.
    pool.on('error', () => undefined);
  }

  /** Connects, then creates or migrates the schema; safe when several processes open the same database at once. */
  static async open(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
    const schema = options.schema ?? 'public';
    // Plain names only: the schema is spliced into SQL and into the body of append_events.
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid PostgreSQL schema name: ${schema}`);
    let pool: Pool;
    try {
      pool = new Pool({
        connectionString: options.connectionString,
        max: options.poolSize ?? 10,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      });
    } catch (error) {
      throw openError(options.connectionString, error);
    }
    const store = new PostgresEventStore(options, pool, schema);
    try {
      await store.migrate();
    } catch (error) {
      await store.close().catch(() => undefined);
      throw openError(options.connectionString, error);
    }
    return store;
  }

  async append(streamId: string, events: EventToAppend[], expectedVersion: ExpectedVersion): Promise<AppendResult> {
    if (events.length === 0) throw new Error('append needs at least one event');
    const expected = expectedVersion === 'any' ? null : expectedVersion === 'no-stream' ? -1 : expectedVersion;
    const payload = JSON.stringify(
      events.map(({ eventId, type, data, metadata }) => ({ eventId, type, data, metadata })),
    );
    let outcome: AppendOutcome;
    try {
      const { rows } = await this.query<{ result: AppendOutcome }>(this.sql.append, [streamId, expected, payload]);
      outcome = rows[0].result;
    } catch (error) {
      if (!(error instanceof DatabaseError && error.code === '23505')) throw error;
      // An id given twice in one append; or, for versions, only a writer that bypasses append_events and its lock.
      if (error.constraint === EVENT_ID_KEY) {
        const ids = events.map((event) => event.eventId);
        throw new DuplicateEventIdError(streamId, [...new Set(ids.filter((id, index) => ids.indexOf(id) !== index))]);
      }
      if (error.constraint === STREAM_VERSION_KEY) {
        throw new WrongExpectedVersionError(streamId, expectedVersion, await this.currentVersion(streamId));
      }
      throw error;
    }
    switch (outcome.outcome) {
      case 'written':
        this.wake();
        return { version: outcome.version, position: BigInt(outcome.position), written: true };
      case 'wrong-version':
        throw new WrongExpectedVersionError(streamId, expectedVersion, outcome.actual);
      case 'seen': {
        const byId = new Map(outcome.events.map((row) => [row.eventId, row]));
        return earlierAppend(streamId, events, (eventId) => byId.get(eventId))!;
      }
      default: {
        const unexpected: never = outcome;
        throw new Error(`append_events returned ${JSON.stringify(unexpected)}`);
      }
    }
  }

  async copyIn(events: StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    const payload = JSON.stringify(
      events.map(({ eventId, streamId, version, type, data, metadata, recordedAt }) => ({
        eventId,
        streamId,
        version,
        type,
        data,
        metadata,
        recordedAt,
      })),
    );
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw mapError(error);
    }
    try {
      await client.query('BEGIN');
      await client.query(this.sql.lockPositions);
      const { rows } = await client.query<{ bad: string | null }>(this.sql.copyCheck, [payload]);
      const bad = rows[0]?.bad;
      if (bad) throw new WrongExpectedVersionError(bad, 'any', await this.currentVersion(bad));
      await client.query(this.sql.copyInsert, [payload]);
      await client.query(`NOTIFY ${this.sql.channel}`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw mapError(error);
    } finally {
      client.release();
    }
    this.wake();
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    const { rows } = await this.query<EventRow>(this.sql.readStream, [
      streamId,
      options.fromVersion ?? 0,
      options.toVersion ?? 2_147_483_647,
      options.toRecordedAt ?? null,
      options.limit ?? null,
    ]);
    return rows.map(toStored);
  }

  async readAll(options: ReadAllOptions): Promise<StoredEvent[]> {
    const { rows } = await this.query<EventRow>(this.sql.readAll, [String(options.after ?? 0n), options.limit]);
    return rows.map(toStored);
  }

  async headPosition(): Promise<bigint> {
    const { rows } = await this.query<{ position: string }>(this.sql.head);
    return BigInt(rows[0].position);
  }

  async *subscribe(options: SubscribeOptions): AsyncIterable<StoredEvent[]> {
    let after = options.after ?? 0n;
    const batchSize = options.batchSize ?? 500;
    await this.ensureListening();
    while (!options.signal?.aborted && !this.closed) {
      const seen = this.wakeCount;
      let batch: StoredEvent[];
      try {
        batch = await this.readAll({ after, limit: batchSize });
      } catch (error) {
        if (this.closed) return;
        throw error;
      }
      if (batch.length > 0) {
        after = batch[batch.length - 1].position;
        yield batch;
        continue;
      }
      if (this.wakeCount !== seen) continue;
      await waitForWake(this.wakeups, 'wake', this.pollIntervalMs, options.signal);
    }
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    await this.listening;
    await this.stopListening();
    await this.pool.end();
  }

  private async migrate(): Promise<void> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw mapError(error);
    }
    try {
      await client.query('BEGIN');
      await client.query(this.sql.lockMigrations);
      const { rowCount } = await client.query(this.sql.schemaExists, [this.schema]);
      // Skipped when the schema exists, so a role without CREATE on the database can use a prepared schema.
      if (rowCount === 0) await client.query(this.sql.createSchema);
      await client.query(this.sql.createTable);
      await client.query(this.sql.createAppendFunction);
      await client.query('COMMIT');
      client.release();
    } catch (error) {
      // Not worth saving: the store is not opened, and the pool is ended right after.
      client.release(true);
      throw error;
    }
  }

  private async currentVersion(streamId: string): Promise<number> {
    const { rows } = await this.query<{ version: number }>(this.sql.streamVersion, [streamId]);
    return rows[0].version;
  }

  private async query<Row extends object>(text: string, values?: unknown[]) {
    try {
      return await this.pool.query<Row>(text, values);
    } catch (error) {
      throw mapError(error);
    }
  }

  private wake(): void {
    this.wakeCount += 1;
    this.wakeups.emit('wake');
  }

  /** Starts the shared LISTEN connection once; if it cannot, subscribers simply poll. */
  private ensureListening(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.listening ??= this.startListening().catch(() => {
      this.listening = undefined;
    });
    return this.listening;
  }

  private async startListening(): Promise<void> {
    const client = new Client({
      connectionString: this.options.connectionString,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    client.on('notification', () => this.wake());
    client.on('error', () => {
      // Lost: notifications sent meanwhile are gone, so read again now, and listen anew on the next wait.
      if (this.listener === client) {
        this.listener = undefined;
        this.listening = undefined;
      }
      client.end().catch(() => undefined);
      this.wake();
    });
    await client.connect();
    try {
      await client.query(`LISTEN ${this.sql.channel}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.listener = client;
  }

  private async stopListening(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * Lost connections, a server shutting down or out of connections, a cancelled statement: the outcome is unknown to
 * the caller. SQLSTATE classes 08, 53, 57 and 58; anything else (constraint, syntax) is a bug or a conflict and passes
 * through unchanged.
 */
function mapError(error: unknown): unknown {
  if (error instanceof EventStoreUnavailableError || error instanceof WrongExpectedVersionError) return error;
  if (error instanceof DuplicateEventIdError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const unavailable =
    error instanceof DatabaseError
      ? /^(08|53|57|58)/.test(error.code ?? '')
      : (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) ||
        /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end/.test(
          message,
        );
  return unavailable ? new EventStoreUnavailableError(`PostgreSQL event store: ${message}`, { cause: error }) : error;
}

/** Names the database without its password and points at the setting to fix. */
function openError(connectionString: string, error: unknown): EventStoreUnavailableError {
  const secrets: string[] = [];
  let where = 'an unparseable connection string';
  try {
    const url = new URL(connectionString);
    if (url.password) secrets.push(url.password, decodeURIComponent(url.password));
    where = `${url.protocol}//${url.username ? `${decodeURIComponent(url.username)}@` : ''}${url.host}${url.pathname}`;
  } catch {
    // Not a URL (or a malformed one): it is not repeated, it may hold a password.
  }
  const cause = error instanceof EventStoreUnavailableError ? error.cause : error;
  const reason = cause instanceof Error ? cause.message : String(cause);
  const scrub = (text: string) => secrets.reduce((scrubbed, secret) => scrubbed.split(secret).join('***'), text);
  return new EventStoreUnavailableError(
    scrub(`Cannot open the PostgreSQL event store at ${where}: ${reason}. Check DATABASE_URL.`),
    { cause },
  );
}
