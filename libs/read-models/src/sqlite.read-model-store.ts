import Database from 'better-sqlite3';
import type { IncidentState, IncidentStatus, Category } from '@app/domain';

export interface IncidentSummaryRow {
  id: string;
  title: string;
  category: Category;
  status: IncidentStatus;
  updatedAt: string;
  version: number;
}

export interface ListFilter {
  status?: IncidentStatus;
  category?: Category;
  q?: string;
  limit: number;
  /** Keyset cursor: items strictly after this (updatedAt desc, id asc). */
  after?: { updatedAt: string; id: string };
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS incidents (
  id         TEXT PRIMARY KEY,
  title      TEXT NOT NULL,
  category   TEXT NOT NULL,
  status     TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version    INTEGER NOT NULL,
  search     TEXT NOT NULL,
  state      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_by_update ON incidents (updated_at DESC, id);
CREATE TABLE IF NOT EXISTS checkpoints (
  name     TEXT PRIMARY KEY,
  position TEXT NOT NULL
);
`;

interface IncidentRow {
  id: string;
  title: string;
  category: string;
  status: string;
  updated_at: string;
  version: number;
  state: string;
}

export class CheckpointMovedError extends Error {
  constructor(
    readonly projection: string,
    readonly expected: bigint,
    readonly actual: bigint,
  ) {
    super(`Checkpoint of ${projection} moved from ${expected} to ${actual} under this runner`);
    this.name = 'CheckpointMovedError';
  }
}

function searchText(state: IncidentState): string {
  return [state.id, state.title, state.summary, ...state.victims, ...state.threatActors].join('\n').toLowerCase();
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The read models' own SQLite file: derived, disposable, rebuilt from the log at will. A batch of changes and the
 * projection's checkpoint commit in one transaction.
 */
export class SqliteReadModelStore {
  private readonly db: Database.Database;
  private readonly statements;

  constructor(filename: string) {
    this.db = new Database(filename);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(SCHEMA);
    this.statements = {
      get: this.db.prepare<[string], IncidentRow>('SELECT * FROM incidents WHERE id = ?'),
      upsert: this.db.prepare(
        `INSERT INTO incidents (id, title, category, status, updated_at, version, search, state)
         VALUES (@id, @title, @category, @status, @updatedAt, @version, @search, @state)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, category = excluded.category, status = excluded.status,
           updated_at = excluded.updated_at, version = excluded.version, search = excluded.search, state = excluded.state`,
      ),
      checkpoint: this.db.prepare<[string], { position: string }>('SELECT position FROM checkpoints WHERE name = ?'),
      saveCheckpoint: this.db.prepare(
        'INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position',
      ),
    };
  }

  loadIncident(id: string): IncidentState | null {
    const row = this.statements.get.get(id);
    return row ? (JSON.parse(row.state) as IncidentState) : null;
  }

  checkpoint(name: string): bigint {
    const row = this.statements.checkpoint.get(name);
    return row ? BigInt(row.position) : 0n;
  }

  /**
   * Writes changed incidents and the checkpoint atomically. `expected` is the checkpoint the caller built on; if
   * another process moved it (a rebuild, a second runner), nothing is written and CheckpointMovedError is thrown.
   */
  commit(name: string, changed: Iterable<IncidentState>, position: bigint, expected: bigint): void {
    this.db.transaction(() => {
      const current = this.checkpoint(name);
      if (current !== expected) throw new CheckpointMovedError(name, expected, current);
      for (const state of changed) {
        this.statements.upsert.run({
          id: state.id,
          title: state.title,
          category: state.category,
          status: state.status,
          updatedAt: state.updatedAt,
          version: state.version,
          search: searchText(state),
          state: JSON.stringify(state),
        });
      }
      this.statements.saveCheckpoint.run(name, position.toString());
    })();
  }

  list(filter: ListFilter): IncidentSummaryRow[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: filter.limit };
    if (filter.status) {
      where.push('status = @status');
      params.status = filter.status;
    }
    if (filter.category) {
      where.push('category = @category');
      params.category = filter.category;
    }
    if (filter.q) {
      where.push("search LIKE @q ESCAPE '\\'");
      params.q = `%${escapeLike(filter.q.toLowerCase())}%`;
    }
    if (filter.after) {
      where.push('(updated_at < @afterUpdatedAt OR (updated_at = @afterUpdatedAt AND id > @afterId))');
      params.afterUpdatedAt = filter.after.updatedAt;
      params.afterId = filter.after.id;
    }
    const sql = `SELECT id, title, category, status, updated_at, version FROM incidents
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY updated_at DESC, id LIMIT @limit`;
    return (this.db.prepare(sql).all(params) as IncidentRow[]).map((row) => ({
      id: row.id,
      title: row.title,
      category: row.category as Category,
      status: row.status as IncidentStatus,
      updatedAt: row.updated_at,
      version: row.version,
    }));
  }

  /** Every incident's state, for comparing a rebuild with the incremental build. */
  dump(): IncidentState[] {
    return (this.db.prepare('SELECT state FROM incidents ORDER BY id').all() as { state: string }[]).map(
      (row) => JSON.parse(row.state) as IncidentState,
    );
  }

  /** Empties every read model and checkpoint, so projections start again from the beginning of the log. */
  reset(): void {
    this.db.exec('DELETE FROM incidents; DELETE FROM checkpoints;');
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
