import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
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

/**
 * First key of the two-integer advisory locks this adapter takes; the second names what is locked (0: migrations; a
 * schema's oid: the earlier version's position lock, taken once on upgrade). Stream locks use one-bigint keys.
 */
const ADVISORY_LOCK_SPACE = 0x45564e54;
const CONNECT_TIMEOUT_MS = 10_000;
/** First pause of a subscriber whose next events wait for an older transaction; doubles up to the poll interval. */
const MIN_PENDING_PAUSE_MS = 5;
/** How long `readAll` waits for events committed before it was called to become final. */
const READ_SETTLE_MS = 1_000;
/** Commits within this window after the first share one NOTIFY. */
const NOTIFY_COALESCE_MS = 20;
const STREAM_VERSION_KEY = 'events_stream_version_key';
const EVENT_ID_KEY = 'events_event_id_key';

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * Room for the positions of one transaction: a position is `base + ((xid - xidBase) << 16) + n`, where `xid` is the
 * writing transaction's id and `n` counts the events that transaction wrote. See {@link PostgresEventStore}.
 */
const POSITION_BITS = 16;
export const MAX_EVENTS_PER_TRANSACTION = 2 ** POSITION_BITS;

/** Fixed when the store is created (or upgraded from the version that numbered positions 1, 2, 3, ...). */
export interface PositionOrigin {
  /** The first position this numbering hands out: 1 on a new store, above every stored position on an upgraded one. */
  base: string;
  /** The transaction id (xid8) of the migration that fixed the origin. */
  xidBase: string;
}

/** SQL for the first position of the range of the transaction whose id (a bigint) `xid` gives. */
function rangeStart(origin: PositionOrigin, xid: string): string {
  return `${origin.base} + ((${xid} - ${origin.xidBase}) << ${POSITION_BITS})`;
}

/**
 * PL/pgSQL statements that set `v_xid` to the calling transaction's id and `v_first` to the first position of its
 * range (declared by the caller: `v_xid`, `v_first` bigint). Taking the id gives the transaction one if it had none.
 */
function startOfRange(origin: PositionOrigin): string {
  return `
        v_xid := pg_current_xact_id()::text::bigint;
        IF v_xid < ${origin.xidBase} THEN
          RAISE EXCEPTION 'this transaction (%) is older than the event store''s position origin; retry the append', v_xid
            USING ERRCODE = '40001';
        END IF;
        v_first := ${rangeStart(origin, 'v_xid')};`;
}

/** SQL for the newest position in the range that starts at `v_first`, NULL if none (or if `v_first` is NULL). */
function usedOfRange(events: string): string {
  return `(SELECT max(e.position) FROM ${events} e
                 WHERE e.position >= v_first AND e.position < v_first + ${MAX_EVENTS_PER_TRANSACTION})`;
}

/**
 * PL/pgSQL statements that move `v_first` (see `startOfRange`) past the positions the transaction has already written
 * (`v_used`, from `usedOfRange`), refusing an append of `count` events that would leave its range.
 */
function claimRange(count: string): string {
  return `
        IF coalesce(v_used + 1, v_first) + ${count} > v_first + ${MAX_EVENTS_PER_TRANSACTION} THEN
          RAISE EXCEPTION 'at most ${MAX_EVENTS_PER_TRANSACTION} events can be written in one transaction';
        END IF;
        v_first := coalesce(v_used + 1, v_first);`;
}

/**
 * PL/pgSQL statements that set `v_first` to the first of `count` positions for the calling transaction (declared by the
 * caller: `v_xid`, `v_first`, `v_used` bigint): the next free one in the transaction's range, after any it has
 * already written.
 */
function reservePositions(events: string, origin: PositionOrigin, count: string): string {
  return `${startOfRange(origin)}
        v_used := ${usedOfRange(events)};${claimRange(count)}`;
}

/**
 * The SQL of this adapter, for one schema. Exported so that a test can run the adapter's own append inside a
 * transaction it holds open, instead of imitating it.
 */
export function postgresEventStoreSql(schema: string) {
  const name = quoteIdentifier(schema);
  const events = `${name}.events`;
  const channel = `event_store.${schema}`.slice(0, 63);
  /** Per-stream lock key: one bigint, so it never meets the two-integer keys below. */
  const streamLock = (streamId: string) =>
    `pg_advisory_xact_lock(hashtextextended(${quoteLiteral(`${schema}/`)} || ${streamId}, 0))`;
  return {
    channel: quoteIdentifier(channel),
    notify: `NOTIFY ${quoteIdentifier(channel)}`,
    /** Serialises migrations of every schema in the database: concurrent CREATE ... IF NOT EXISTS can still collide. */
    lockMigrations: `SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_SPACE}, 0)`,
    /**
     * The lock every append of the earlier version held until it committed. The upgrade takes it so that no append of
     * a process still running the earlier version is in flight while the position origin is fixed.
     */
    lockEarlierAppends: `SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_SPACE}, (SELECT oid::int FROM pg_namespace WHERE nspname = ${quoteLiteral(schema)}))`,
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
    createOriginTable: `
      CREATE TABLE IF NOT EXISTS ${name}.event_positions (
        single   BOOLEAN PRIMARY KEY DEFAULT true CHECK (single),
        base     BIGINT  NOT NULL,
        xid_base XID8    NOT NULL
      )`,
    /** Fixes the origin once: above every stored position, at the migration's own transaction id. */
    insertOrigin: `
      INSERT INTO ${name}.event_positions (base, xid_base)
      SELECT coalesce(max(position), 0) + 1, pg_current_xact_id() FROM ${events}
      ON CONFLICT (single) DO NOTHING`,
    selectOrigin: `SELECT base::text AS base, xid_base::text AS "xidBase" FROM ${name}.event_positions`,
    /**
     * Functions that carry the origin as constants: `event_positions_reserve(n)` returns the first of n positions for
     * the calling transaction, `event_positions_final()` the bound below which every position is final (written by a
     * transaction that has ended: any transaction still running, or yet to start, has a larger id, hence larger
     * positions), and `append_events` (below) reserves its positions the same way, inline.
     */
    createPositionFunctions: (origin: PositionOrigin) => [
      `
      CREATE OR REPLACE FUNCTION ${name}.event_positions_reserve(p_count integer) RETURNS bigint
      LANGUAGE plpgsql AS $fn$
      DECLARE
        v_xid bigint;
        v_first bigint;
        v_used bigint;
      BEGIN
        ${reservePositions(events, origin, 'p_count')}
        RETURN v_first;
      END
      $fn$`,
      `
      CREATE OR REPLACE FUNCTION ${name}.event_positions_final() RETURNS bigint
      LANGUAGE sql STABLE AS $fn$
        SELECT ${rangeStart(origin, 'pg_snapshot_xmin(pg_current_snapshot())::text::bigint')}
      $fn$`,
      /*
       * The whole append, server-side, so no lock is ever held across a round trip to a client. p_expected: NULL for
       * any, -1 for no stream, else the exact version. Returns {outcome: 'written', version, position},
       * {outcome: 'wrong-version', actual} or {outcome: 'seen', events: [...]} when some ids are already stored (the
       * caller decides between a replay and a conflict). A lock on the stream alone, held until the transaction ends,
       * orders appends to one stream; appends to other streams run and commit in parallel. Under READ COMMITTED every
       * statement after the lock sees all earlier appends to the stream. Few statements: each costs an executor run
       * and a snapshot, so the checks and the look-up of positions this transaction already wrote are one statement,
       * and the positions are reserved inline, not by a call.
       */
      `
      CREATE OR REPLACE FUNCTION ${name}.append_events(p_stream_id text, p_expected integer, p_events jsonb)
      RETURNS jsonb LANGUAGE plpgsql
      -- Every statement here is an index lookup. Without this, a generic plan cached while the table was tiny would keep
      -- scanning it whole; planning each call afresh instead (force_custom_plan) cost a third of the append's time.
      SET enable_seqscan = off
      AS $fn$
      DECLARE
        v_seen jsonb;
        v_current integer;
        v_stream_recorded_at timestamptz;
        v_last_recorded_at timestamptz;
        v_xid bigint;
        v_first bigint;
        v_used bigint;
        v_count integer := jsonb_array_length(p_events);
      BEGIN
        IF current_setting('transaction_isolation') <> 'read committed' THEN
          RAISE EXCEPTION 'append_events needs READ COMMITTED, not %', current_setting('transaction_isolation');
        END IF;
        PERFORM ${streamLock('p_stream_id')};
        -- NULL in a transaction without an id yet, which has written nothing: its range is then not looked up.
        v_first := ${rangeStart(origin, 'pg_current_xact_id_if_assigned()::text::bigint')};

        -- The ids already stored (looked up as an array, which uses their index; a subquery in IN scanned the table),
        -- the stream's newest version and time, the newest event's time, and the last position this transaction wrote.
        SELECT (SELECT jsonb_agg(jsonb_build_object('eventId', e.event_id, 'streamId', e.stream_id, 'version', e.version,
                                                    'position', e.position::text))
                  FROM ${events} e
                 WHERE e.event_id = ANY (ARRAY(SELECT value->>'eventId' FROM jsonb_array_elements(p_events)))),
               s.version, s.recorded_at,
               (SELECT l.recorded_at FROM ${events} l ORDER BY l.position DESC LIMIT 1),
               ${usedOfRange(events)}
          INTO v_seen, v_current, v_stream_recorded_at, v_last_recorded_at, v_used
          FROM (SELECT 1) one
          LEFT JOIN LATERAL (SELECT e.version, e.recorded_at FROM ${events} e
                              WHERE e.stream_id = p_stream_id ORDER BY e.version DESC LIMIT 1) s ON true;
        IF v_seen IS NOT NULL THEN
          RETURN jsonb_build_object('outcome', 'seen', 'events', v_seen);
        END IF;
        v_current := coalesce(v_current, -1);
        IF p_expected IS NOT NULL AND p_expected <> v_current THEN
          RETURN jsonb_build_object('outcome', 'wrong-version', 'actual', v_current);
        END IF;

        ${startOfRange(origin)}${claimRange('v_count')}
        INSERT INTO ${events} (position, event_id, stream_id, version, type, data, metadata, recorded_at)
        SELECT v_first + ordinality - 1, value->>'eventId', p_stream_id, v_current + ordinality::integer,
               value->>'type', value->'data', value->'metadata',
               greatest(v_stream_recorded_at, v_last_recorded_at, date_trunc('milliseconds', clock_timestamp()))
          FROM jsonb_array_elements(p_events) WITH ORDINALITY;
        RETURN jsonb_build_object('outcome', 'written', 'version', v_current + v_count,
                                  'position', (v_first + v_count - 1)::text);
      END
      $fn$`,
    ],
    /** Migration: the locks of every stream in the copy, in one order, so that two copies cannot deadlock. */
    copyLockStreams: `
      SELECT ${streamLock('s.stream_id')} FROM (
        SELECT DISTINCT value->>'streamId' AS stream_id FROM jsonb_array_elements($1::jsonb) ORDER BY 1
      ) s`,
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
      WITH first AS (SELECT ${name}.event_positions_reserve(jsonb_array_length($1::jsonb)) AS position)
      INSERT INTO ${events} (position, event_id, stream_id, version, type, data, metadata, recorded_at)
      SELECT first.position + ordinality - 1, value->>'eventId', value->>'streamId',
             (value->>'version')::int, value->>'type', value->'data', value->'metadata', (value->>'recordedAt')::timestamptz
        FROM first, jsonb_array_elements($1::jsonb) WITH ORDINALITY`,
    /** The first of $1 positions for the calling transaction (for a writer that inserts without append_events). */
    reserve: `SELECT ${name}.event_positions_reserve($1::int)::text AS position`,
    /** $1 stream id, $2 expected version (see append_events), $3 JSON array of {eventId, type, data, metadata}. */
    append: `SELECT ${name}.append_events($1, $2, $3::jsonb) AS result`,
    streamVersion: `SELECT coalesce(max(version), -1) AS version FROM ${events} WHERE stream_id = $1`,
    storedIds: `SELECT event_id, stream_id, version, position::text FROM ${events} WHERE event_id = ANY ($1::text[])`,
    readStream: `
      SELECT * FROM ${events}
      WHERE stream_id = $1 AND version >= $2 AND version <= $3 AND ($4::timestamptz IS NULL OR recorded_at <= $4)
      ORDER BY version LIMIT $5`,
    /** Final positions only: a transaction still running may yet commit a smaller position than one already visible. */
    readAll: `SELECT * FROM ${events} WHERE position > $1 AND position < ${name}.event_positions_final() ORDER BY position LIMIT $2`,
    /** Whether committed events wait beyond the final bound for an older transaction to end. */
    pendingBeyondFinal: `SELECT EXISTS (SELECT 1 FROM ${events} WHERE position >= ${name}.event_positions_final()) AS pending`,
    headAndFinal: `SELECT coalesce(max(position), 0)::text AS head, ${name}.event_positions_final()::text AS final FROM ${events}`,
    final: `SELECT ${name}.event_positions_final()::text AS final`,
    /** The newest final position: a reader that starts after it misses nothing still being written. */
    head: `SELECT coalesce(max(position), 0)::text AS position FROM ${events} WHERE position < ${name}.event_positions_final()`,
    /** Events after $1, counted up to $2: how far behind a reader at $1 is (positions are not dense). */
    countAfter: `SELECT count(*)::text AS count FROM (SELECT 1 FROM ${events} WHERE position > $1 LIMIT $2) behind`,
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
 * Appends commit concurrently: an append locks only its stream (until its transaction ends), so appends to different
 * streams share WAL flushes instead of queueing for one lock.
 *
 * Positions never skip, because a position is derived from the id of the transaction that writes it:
 * `base + ((xid - xidBase) << 16) + n`, n counting the events of that transaction. Transaction ids are handed out in
 * increasing order, so every transaction that is still running, or has not started, will write positions above
 * `base + ((xmin - xidBase) << 16)`, where xmin is the oldest transaction id still running in the cluster
 * (`pg_snapshot_xmin(pg_current_snapshot())`). Readers of the global log (`readAll`, `subscribe`) return only
 * positions below that bound, read in the same snapshot: those can no longer be joined by a smaller one. Positions are
 * sparse (jumps of 65,536 between transactions) and stay below 2^53 for 137 billion transactions after the store's
 * creation, so they survive the conversion to a JavaScript number that the API does.
 *
 * The price: any transaction that has written something and stays open, in any database of the cluster, holds the
 * bound back, so subscribers see later events only once it ends (they are delayed, never given a gap). A transaction
 * that has only read holds nothing back. `headPosition` reports the newest final position, so that a reader starting
 * after it misses nothing; `eventsAfter` counts events, since the distance between positions does not.
 *
 * Subscribers of other instances are woken by a NOTIFY sent after the appends have committed, one for all the commits
 * of a 20 ms window, through one LISTEN connection per instance (subscribers of the same instance are woken at once). When
 * committed events wait beyond the bound, a caught-up subscriber reads again after a short, growing pause; otherwise it
 * polls at `pollIntervalMs` as a fallback (writers that do not notify, a lost LISTEN connection).
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
  private notifying?: Promise<void>;
  private notifyWanted = false;
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
      const { rows } = await this.query<{ result: AppendOutcome }>(
        this.sql.append,
        [streamId, expected, payload],
        'append',
      );
      outcome = rows[0].result;
    } catch (error) {
      if (!(error instanceof DatabaseError && error.code === '23505')) throw error;
      if (error.constraint === EVENT_ID_KEY) return this.explainIdConflict(streamId, events);
      // Only a writer that bypasses append_events and its stream lock.
      if (error.constraint === STREAM_VERSION_KEY) {
        throw new WrongExpectedVersionError(streamId, expectedVersion, await this.currentVersion(streamId));
      }
      throw error;
    }
    switch (outcome.outcome) {
      case 'written':
        this.committed();
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
      await client.query(this.sql.copyLockStreams, [payload]);
      const { rows } = await client.query<{ bad: string | null }>(this.sql.copyCheck, [payload]);
      const bad = rows[0]?.bad;
      if (bad) throw new WrongExpectedVersionError(bad, 'any', await this.currentVersion(bad));
      await client.query(this.sql.copyInsert, [payload]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw mapError(error);
    } finally {
      client.release();
    }
    this.committed();
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

  /**
   * Only final positions (see the class comment). Events committed before the call but held back by a transaction
   * still running are waited for, up to READ_SETTLE_MS, so that a caller reads its own acknowledged appends; past
   * that, the final prefix is returned.
   */
  async readAll(options: ReadAllOptions): Promise<StoredEvent[]> {
    await this.settle();
    return this.readFinal(options);
  }

  /**
   * Waits, up to `timeoutMs`, until every event committed before the call is final: until no transaction that was
   * running then, in any database of the cluster, still holds the bound back. Whether they all are.
   */
  async awaitFinal(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const { rows } = await this.query<{ head: string; final: string }>(this.sql.headAndFinal);
    const head = BigInt(rows[0].head);
    let final = BigInt(rows[0].final);
    for (let pause = 1; final <= head && Date.now() < deadline; pause = Math.min(pause * 2, 50)) {
      await delay(pause);
      final = BigInt((await this.query<{ final: string }>(this.sql.final)).rows[0].final);
    }
    return final > head;
  }

  private async settle(): Promise<void> {
    await this.awaitFinal(READ_SETTLE_MS);
  }

  private async readFinal(options: ReadAllOptions): Promise<StoredEvent[]> {
    const { rows } = await this.query<EventRow>(this.sql.readAll, [String(options.after ?? 0n), options.limit]);
    return rows.map(toStored);
  }

  /**
   * The newest final position, after waiting (as `readAll` does) for the events committed before the call: a feed or
   * subscription that starts after it cannot pass over an event still being written below it.
   */
  async headPosition(): Promise<bigint> {
    await this.settle();
    const { rows } = await this.query<{ position: string }>(this.sql.head);
    return BigInt(rows[0].position);
  }

  /** Counted: positions jump between transactions, so the head's distance is no count of events. */
  async eventsAfter(position: bigint, cap: number): Promise<number> {
    const { rows } = await this.query<{ count: string }>(this.sql.countAfter, [String(position), cap]);
    return Number(rows[0].count);
  }

  async *subscribe(options: SubscribeOptions): AsyncIterable<StoredEvent[]> {
    let after = options.after ?? 0n;
    const batchSize = options.batchSize ?? 500;
    let pause = MIN_PENDING_PAUSE_MS;
    await this.ensureListening();
    while (!options.signal?.aborted && !this.closed) {
      const seen = this.wakeCount;
      let batch: StoredEvent[];
      let pending: boolean;
      try {
        batch = await this.readFinal({ after, limit: batchSize });
        pending = batch.length === 0 && (await this.pendingBeyondFinal());
      } catch (error) {
        if (this.closed) return;
        throw error;
      }
      if (batch.length > 0) {
        after = batch[batch.length - 1].position;
        pause = MIN_PENDING_PAUSE_MS;
        yield batch;
        continue;
      }
      if (this.wakeCount !== seen) continue;
      if (pending) {
        // Committed, but behind an older transaction that has not ended: its end sends no notification.
        await waitForWake(this.wakeups, 'wake', pause, options.signal);
        pause = Math.min(pause * 2, this.pollIntervalMs);
        continue;
      }
      this.wakeups.emit('waiting');
      await waitForWake(this.wakeups, 'wake', this.pollIntervalMs, options.signal);
    }
  }

  /**
   * Resolves when a subscription of this instance next finds nothing to read and starts waiting for a notification
   * or its poll interval. For diagnostics and tests that must know a subscriber is idle before they write.
   */
  nextIdleSubscriber(): Promise<void> {
    return new Promise((resolve) => this.wakeups.once('waiting', () => resolve()));
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    await this.listening;
    await this.notifying;
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
      await client.query(this.sql.createOriginTable);
      let origin = (await client.query<PositionOrigin>(this.sql.selectOrigin)).rows[0];
      if (origin === undefined) {
        // A store of the earlier version: wait for its appends in flight, then number from above its last position.
        await client.query(this.sql.lockEarlierAppends);
        await client.query(this.sql.insertOrigin);
        origin = (await client.query<PositionOrigin>(this.sql.selectOrigin)).rows[0];
      }
      for (const statement of this.sql.createPositionFunctions(origin)) await client.query(statement);
      await client.query('COMMIT');
      client.release();
    } catch (error) {
      // Not worth saving: the store is not opened, and the pool is ended right after.
      client.release(true);
      throw error;
    }
  }

  /**
   * A concurrent append in another stream stored one of the ids first (the unique index made this append wait for it,
   * then refused). Decided as if the appends had run one after the other; an id given twice in this append is the
   * other way to get here.
   */
  private async explainIdConflict(streamId: string, events: EventToAppend[]): Promise<AppendResult> {
    const ids = events.map((event) => event.eventId);
    const repeated = [...new Set(ids.filter((id, index) => ids.indexOf(id) !== index))];
    if (repeated.length > 0) throw new DuplicateEventIdError(streamId, repeated);
    const { rows } = await this.query<{ event_id: string; stream_id: string; version: number; position: string }>(
      this.sql.storedIds,
      [ids],
    );
    const byId = new Map(rows.map((row) => [row.event_id, { ...row, streamId: row.stream_id }]));
    const earlier = earlierAppend(streamId, events, (eventId) => byId.get(eventId));
    if (earlier) return earlier;
    throw new DuplicateEventIdError(streamId, ids);
  }

  private async currentVersion(streamId: string): Promise<number> {
    const { rows } = await this.query<{ version: number }>(this.sql.streamVersion, [streamId]);
    return rows[0].version;
  }

  private async pendingBeyondFinal(): Promise<boolean> {
    const { rows } = await this.query<{ pending: boolean }>(this.sql.pendingBeyondFinal);
    return rows[0].pending;
  }

  /** A named query is parsed once per connection (a prepared statement), not on every call. */
  private async query<Row extends object>(text: string, values?: unknown[], name?: string) {
    try {
      return await this.pool.query<Row>(name ? { name: `${name}:${this.schema}`, text, values } : { text, values });
    } catch (error) {
      throw mapError(error);
    }
  }

  /** After a commit: wakes this instance's subscribers at once, and other instances' by a NOTIFY soon after. */
  private committed(): void {
    this.wake();
    this.notifyWanted = true;
    this.notifying ??= this.notifyOthers().finally(() => (this.notifying = undefined));
  }

  /**
   * One NOTIFY for all the commits of a short window: a NOTIFY is a transaction of its own, and one per append took
   * a pool connection and a round trip per append, a quarter of the throughput of 64 concurrent appends.
   */
  private async notifyOthers(): Promise<void> {
    while (this.notifyWanted && !this.closed) {
      await delay(NOTIFY_COALESCE_MS);
      this.notifyWanted = false;
      // Lost notifications only delay subscribers until their next poll.
      await this.pool.query(this.sql.notify).catch(() => undefined);
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
