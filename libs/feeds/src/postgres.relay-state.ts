import { createHash } from 'node:crypto';
import { Client, Pool } from 'pg';
import { LeaseLostError, RelayCheckpointMovedError, type Lease, type RelayStateStore } from './relay-state.port';

export interface PostgresRelayStateOptions {
  connectionString: string;
  /** Schema holding the checkpoint table (the event store's, by default); created when missing. */
  schema?: string;
  /** Names the checkpoint and the lock: relays of the same name take turns, others do not meet. */
  name: string;
  /** How often a standby asks for the lock, and how often the holder's session proves it is alive. */
  pollMs?: number;
}

/** First key of the relay's advisory lock; the second is derived from the schema and the checkpoint's name. */
const LOCK_SPACE = 0x524c4159;
/** The event store adapter's migration lock (its advisory lock space, key 0). */
const MIGRATION_LOCK = [0x45564e54, 0] as const;
const CONNECT_TIMEOUT_MS = 10_000;
/** SQLSTATE of an unknown setting: a server older than PostgreSQL 14 has no idle_session_timeout. */
const UNDEFINED_OBJECT = '42704';

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A stable 32-bit key for a name; the same on every process and every server version. */
function lockKey(name: string): number {
  return createHash('sha256').update(name, 'utf8').digest().readInt32BE(0);
}

/**
 * The relay's state in PostgreSQL, shared by every replica: the checkpoint in a table, and the lease as a
 * session-level advisory lock held on a connection of its own. The lock lives exactly as long as that session, so
 * when the holder dies its connection closes and a standby takes it at its next try (every `pollMs`).
 *
 * A holder that falls silent keeps its lock until the server notices: its session therefore tells the server to end
 * it after `ttlMs` without a query (idle_session_timeout), while the holder pings every `pollMs`. A holder cut off from
 * the server gives the lock up itself as soon as a query takes more than a third of `ttlMs`, so it stops before the
 * lock can pass on; `lost` tells the relay at once. A frozen holder cannot stop itself: when it wakes its session is
 * gone, and as the checkpoint moves only through the session that holds the lock, it can no longer move it; the Kafka
 * transactional id has fenced its producer.
 */
export class PostgresRelayState implements RelayStateStore {
  private readonly table: string;
  private readonly key: number;
  private readonly pollMs: number;
  private session?: Client;
  /** The owner that holds the lock through `session`. */
  private holding?: string;
  /** Aborted when the lock held through `session` is lost. */
  private lost?: AbortController;
  private keepAlive?: NodeJS.Timeout;
  private pinging?: { session: Client; answer: Promise<boolean> };

  private constructor(
    private readonly pool: Pool,
    private readonly options: PostgresRelayStateOptions,
    schema: string,
  ) {
    this.table = `${quoteIdentifier(schema)}.relay_checkpoints`;
    this.key = lockKey(`${schema}:${options.name}`);
    this.pollMs = options.pollMs ?? 1000;
  }

  static async open(options: PostgresRelayStateOptions): Promise<PostgresRelayState> {
    const schema = options.schema ?? 'public';
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid PostgreSQL schema name: ${schema}`);
    const pool = new Pool({
      connectionString: options.connectionString,
      max: 2,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    // An idle client that loses its server must not take the process down; the next query reports it.
    pool.on('error', () => undefined);
    const state = new PostgresRelayState(pool, options, schema);
    try {
      await state.migrate(schema);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return state;
  }

  private async migrate(schema: string): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Concurrent CREATE ... IF NOT EXISTS can collide: the event store's migration lock makes them one at a time.
      await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK[0]}, ${MIGRATION_LOCK[1]})`);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (name TEXT PRIMARY KEY, position BIGINT NOT NULL, holder TEXT)`,
      );
      await client.query(`INSERT INTO ${this.table} (name, position) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING`, [
        this.options.name,
      ]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** How the lock shows in pg_locks (locktype 'advisory', objsubid 2): the way to find the session holding it. */
  get lockInPgLocks(): { classid: number; objid: number } {
    return { classid: LOCK_SPACE >>> 0, objid: this.key >>> 0 };
  }

  async checkpoint(): Promise<bigint> {
    const { rows } = await this.pool.query<{ position: string }>(`SELECT position FROM ${this.table} WHERE name = $1`, [
      this.options.name,
    ]);
    return rows.length > 0 ? BigInt(rows[0].position) : 0n;
  }

  /** `holderGone` is not needed here: the server itself frees the lock of a session whose process is gone. */
  async tryAcquire(owner: string, ttlMs: number, nowMs: number): Promise<Lease> {
    if (this.holding === owner && this.session && this.lost) {
      return { held: true, holder: owner, expiresAt: nowMs + ttlMs, lost: this.lost.signal };
    }
    const session = this.session ?? (await this.connect(ttlMs));
    try {
      const { rows } = await session.query<{ held: boolean }>('SELECT pg_try_advisory_lock($1::int, $2::int) AS held', [
        LOCK_SPACE,
        this.key,
      ]);
      if (rows[0].held) {
        this.holding = owner;
        this.lost = new AbortController();
        // The row comes back if it was deleted to start over while no relay ran.
        await session.query(
          `INSERT INTO ${this.table} (name, position, holder) VALUES ($1, 0, $2)
           ON CONFLICT (name) DO UPDATE SET holder = excluded.holder`,
          [this.options.name, owner],
        );
        return { held: true, holder: owner, expiresAt: nowMs + ttlMs, lost: this.lost.signal };
      }
      const holder = await session.query<{ holder: string | null }>(
        `SELECT holder FROM ${this.table} WHERE name = $1`,
        [this.options.name],
      );
      return { held: false, holder: holder.rows[0]?.holder ?? 'another relay', expiresAt: nowMs + this.pollMs };
    } catch (error) {
      this.drop(session);
      throw error;
    }
  }

  /** True while the session holding the lock answers; a session that does not is given up (and the lock with it). */
  async renew(owner: string): Promise<boolean> {
    const session = this.session;
    if (this.holding !== owner || !session) return false;
    return this.ping(session);
  }

  async release(owner: string): Promise<void> {
    if (this.holding !== undefined && this.holding !== owner) return;
    const session = this.session;
    if (session) await this.end(session);
  }

  async advance(owner: string, expected: bigint, position: bigint): Promise<void> {
    const session = this.session;
    if (this.holding !== owner || !session) throw new LeaseLostError(undefined);
    let moved: number | null;
    try {
      // Through the session that holds the lock: if that session is gone, so is the right to move the checkpoint.
      const result = await session.query(`UPDATE ${this.table} SET position = $3 WHERE name = $1 AND position = $2`, [
        this.options.name,
        expected.toString(),
        position.toString(),
      ]);
      moved = result.rowCount;
    } catch {
      this.drop(session);
      throw new LeaseLostError(undefined);
    }
    if (moved !== 1) throw new RelayCheckpointMovedError(expected, await this.checkpoint());
  }

  async close(): Promise<void> {
    const session = this.session;
    if (session) await this.end(session);
    await this.pool.end();
  }

  private async connect(ttlMs: number): Promise<Client> {
    const session = new Client({
      connectionString: this.options.connectionString,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      // A query that hangs this long means the server may already count the session as silent.
      query_timeout: Math.max(Math.floor(ttlMs / 3), 1),
      keepAlive: true,
      application_name: 'incident-timeline relay',
    });
    session.on('error', () => this.drop(session));
    session.on('end', () => this.drop(session));
    try {
      await session.connect();
      await session.query(`SELECT set_config('idle_session_timeout', $1, false)`, [`${ttlMs}ms`]).catch((error) => {
        if ((error as { code?: string }).code !== UNDEFINED_OBJECT) throw error;
      });
    } catch (error) {
      await session.end().catch(() => undefined);
      throw error;
    }
    this.session = session;
    this.keepAlive = setInterval(() => void this.ping(session), this.pollMs);
    this.keepAlive.unref();
    return session;
  }

  /** One ping at a time per session: a renewal during a keep-alive ping waits for its answer. */
  private ping(session: Client): Promise<boolean> {
    if (this.pinging?.session === session) return this.pinging.answer;
    const answer: Promise<boolean> = session
      .query('SELECT 1')
      .then(
        () => this.session === session,
        () => {
          this.drop(session);
          return false;
        },
      )
      .finally(() => {
        if (this.pinging?.answer === answer) this.pinging = undefined;
      });
    this.pinging = { session, answer };
    return answer;
  }

  private forget(): void {
    this.session = undefined;
    this.holding = undefined;
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
    this.lost?.abort();
    this.lost = undefined;
  }

  /** Forgets a session that failed; ending it makes the server free its lock if it has not already. */
  private drop(session: Client): void {
    if (this.session !== session) return;
    this.forget();
    void session.end().catch(() => undefined);
  }

  private async end(session: Client): Promise<void> {
    if (this.session === session) this.forget();
    // A server that cannot be reached does not answer the goodbye; the socket is closed all the same.
    const ended = session.end().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, CONNECT_TIMEOUT_MS).unref()));
    await Promise.race([ended, gaveUp]);
    clearTimeout(timer);
  }
}
