import Database from 'better-sqlite3';
import { LeaseLostError, RelayCheckpointMovedError, type Lease, type RelayStateStore } from './relay-state.port';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS relay_checkpoints (
  name     TEXT PRIMARY KEY,
  position TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS relay_leases (
  name       TEXT PRIMARY KEY,
  owner      TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
`;

interface LeaseRow {
  owner: string;
  expires_at: number;
}

/**
 * The relay's own small SQLite file (`relay.db` under DATA_DIR): its checkpoint and its lease. Every change runs in
 * a write transaction (BEGIN IMMEDIATE), so two relays on the same file never both believe they hold the lease, and
 * the checkpoint moves only while its writer still holds it.
 */
export class SqliteRelayCheckpoint implements RelayStateStore {
  private readonly db: Database.Database;
  private readonly statements;

  constructor(
    filename: string,
    private readonly name: string,
  ) {
    this.db = new Database(filename);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(SCHEMA);
    this.statements = {
      checkpoint: this.db.prepare<[string], { position: string }>(
        'SELECT position FROM relay_checkpoints WHERE name = ?',
      ),
      saveCheckpoint: this.db.prepare(
        'INSERT INTO relay_checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position',
      ),
      lease: this.db.prepare<[string], LeaseRow>('SELECT owner, expires_at FROM relay_leases WHERE name = ?'),
      saveLease: this.db.prepare(
        `INSERT INTO relay_leases (name, owner, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at`,
      ),
      deleteLease: this.db.prepare('DELETE FROM relay_leases WHERE name = ? AND owner = ?'),
    };
  }

  async checkpoint(): Promise<bigint> {
    return this.read();
  }

  private read(): bigint {
    const row = this.statements.checkpoint.get(this.name);
    return row ? BigInt(row.position) : 0n;
  }

  async tryAcquire(
    owner: string,
    ttlMs: number,
    nowMs: number,
    holderGone: (holder: string) => boolean,
  ): Promise<Lease> {
    return this.db
      .transaction((): Lease => {
        const current = this.statements.lease.get(this.name);
        const free =
          current === undefined || current.owner === owner || current.expires_at <= nowMs || holderGone(current.owner);
        if (!free) return { held: false, holder: current.owner, expiresAt: current.expires_at };
        this.statements.saveLease.run(this.name, owner, nowMs + ttlMs);
        return { held: true, holder: owner, expiresAt: nowMs + ttlMs };
      })
      .immediate();
  }

  async renew(owner: string, ttlMs: number, nowMs: number): Promise<boolean> {
    return this.db
      .transaction((): boolean => {
        const current = this.statements.lease.get(this.name);
        if (current?.owner !== owner || current.expires_at <= nowMs) return false;
        this.statements.saveLease.run(this.name, owner, nowMs + ttlMs);
        return true;
      })
      .immediate();
  }

  async release(owner: string): Promise<void> {
    this.statements.deleteLease.run(this.name, owner);
  }

  async advance(owner: string, expected: bigint, position: bigint, nowMs: number): Promise<void> {
    this.db
      .transaction(() => {
        const lease = this.statements.lease.get(this.name);
        if (lease?.owner !== owner || lease.expires_at <= nowMs) throw new LeaseLostError(lease?.owner);
        const current = this.read();
        if (current !== expected) throw new RelayCheckpointMovedError(expected, current);
        this.statements.saveCheckpoint.run(this.name, position.toString());
      })
      .immediate();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
