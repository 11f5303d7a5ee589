import Database from 'better-sqlite3';
import { PersistentMap, type FactState, type IncidentState, type LinkState, type StatusPeriod } from '@app/domain';
import { INCIDENT_PROJECTION } from './incident.projection';
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

/** Tables of this projection version; a new version gets new tables, built beside the old ones. */
const V = `v${INCIDENT_PROJECTION.version}`;
const T = {
  incident: `incident_${V}`,
  period: `status_period_${V}`,
  link: `link_${V}`,
  fact: `fact_${V}`,
  technique: `fact_technique_${V}`,
  parked: `parked_${V}`,
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ${T.incident} (
  id         TEXT PRIMARY KEY,
  title      TEXT NOT NULL,
  category   TEXT NOT NULL,
  status     TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version    INTEGER NOT NULL,
  search     TEXT NOT NULL,
  header     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ${T.incident}_by_update ON ${T.incident} (updated_at DESC, id);
CREATE TABLE IF NOT EXISTS ${T.period} (
  incident_id TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  period      TEXT NOT NULL,
  PRIMARY KEY (incident_id, seq)
);
CREATE TABLE IF NOT EXISTS ${T.link} (
  incident_id TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  link        TEXT NOT NULL,
  PRIMARY KEY (incident_id, seq)
);
CREATE TABLE IF NOT EXISTS ${T.fact} (
  incident_id TEXT NOT NULL,
  fact_id     TEXT NOT NULL,
  sort_ms     REAL NOT NULL,
  latest_ms   REAL NOT NULL,
  position    INTEGER NOT NULL,
  retracted   INTEGER NOT NULL,
  fact        TEXT NOT NULL,
  PRIMARY KEY (incident_id, fact_id)
);
-- No index on the sort keys: an incident's facts are found by the primary key and sorted in memory, which cost less
-- than keeping a second index on every fact write (a fifth of a rebuild's fact writing). Earlier files had one.
DROP INDEX IF EXISTS ${T.fact}_timeline;
CREATE TABLE IF NOT EXISTS ${T.technique} (
  incident_id TEXT NOT NULL,
  fact_id     TEXT NOT NULL,
  technique   TEXT NOT NULL,
  PRIMARY KEY (incident_id, fact_id, technique)
);
CREATE INDEX IF NOT EXISTS ${T.technique}_by_technique ON ${T.technique} (technique, incident_id);
CREATE TABLE IF NOT EXISTS parked_${V} (
  incident_id TEXT PRIMARY KEY,
  event_id    TEXT NOT NULL,
  position    TEXT NOT NULL,
  error       TEXT NOT NULL,
  parked_at   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
  name     TEXT PRIMARY KEY,
  position TEXT NOT NULL
);
`;

/** The document table of the first projection version, dropped once this version serves. */
const LEGACY_TABLES = ['incidents'];

interface HeaderRow {
  id: string;
  header: string;
}

/**
 * The embedded read models: their own SQLite file under DATA_DIR, derived and disposable. Synchronous underneath;
 * the port is asynchronous so the PostgreSQL adapter can share it.
 */
export class SqliteReadModelStore implements ReadModelStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements;

  constructor(filename: string) {
    this.db = new Database(filename);
    // Takes effect only in a new file. Larger pages made a rebuild's row writing about a third faster (far fewer page
    // splits in the fact indexes); an older file keeps its page size until the read models are dropped.
    this.db.pragma('page_size = 16384');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(SCHEMA);
    this.statements = {
      header: this.db.prepare<[string], HeaderRow>(`SELECT id, header FROM ${T.incident} WHERE id = ?`),
      periods: this.db.prepare<[string], { period: string }>(
        `SELECT period FROM ${T.period} WHERE incident_id = ? ORDER BY seq`,
      ),
      links: this.db.prepare<[string], { link: string }>(
        `SELECT link FROM ${T.link} WHERE incident_id = ? ORDER BY seq`,
      ),
      fact: this.db.prepare<[string, string], { fact: string }>(
        `SELECT fact FROM ${T.fact} WHERE incident_id = ? AND fact_id = ?`,
      ),
      // Sorted here rather than by SQLite, which without an index on the sort keys would carry every fact's JSON
      // through its sorter.
      facts: this.db.prepare<[string], { sort_ms: number; latest_ms: number; position: number; fact: string }>(
        `SELECT sort_ms, latest_ms, position, fact FROM ${T.fact} WHERE incident_id = ?`,
      ),
      upsertHeader: this.db.prepare(
        `INSERT INTO ${T.incident} (id, title, category, status, updated_at, version, search, header)
         VALUES (@id, @title, @category, @status, @updatedAt, @version, @search, @header)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, category = excluded.category, status = excluded.status,
           updated_at = excluded.updated_at, version = excluded.version, search = excluded.search, header = excluded.header`,
      ),
      deletePeriods: this.db.prepare(`DELETE FROM ${T.period} WHERE incident_id = ?`),
      insertPeriod: this.db.prepare(`INSERT INTO ${T.period} (incident_id, seq, period) VALUES (?, ?, ?)`),
      deleteLinks: this.db.prepare(`DELETE FROM ${T.link} WHERE incident_id = ?`),
      insertLink: this.db.prepare(`INSERT INTO ${T.link} (incident_id, seq, link) VALUES (?, ?, ?)`),
      // Positional parameters: binding an object by name per row was a fifth of a rebuild's row writing.
      upsertFact: this.db.prepare<[string, string, number, number, number, number, string]>(
        `INSERT INTO ${T.fact} (incident_id, fact_id, sort_ms, latest_ms, position, retracted, fact)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (incident_id, fact_id) DO UPDATE SET sort_ms = excluded.sort_ms, latest_ms = excluded.latest_ms,
           position = excluded.position, retracted = excluded.retracted, fact = excluded.fact`,
      ),
      deleteTechniques: this.db.prepare(`DELETE FROM ${T.technique} WHERE incident_id = ? AND fact_id = ?`),
      insertTechnique: this.db.prepare(
        `INSERT OR IGNORE INTO ${T.technique} (incident_id, fact_id, technique) VALUES (?, ?, ?)`,
      ),
      park: this.db.prepare(
        `INSERT INTO ${T.parked} (incident_id, event_id, position, error, parked_at)
         VALUES (@incidentId, @eventId, @position, @error, @parkedAt)
         ON CONFLICT (incident_id) DO UPDATE SET event_id = excluded.event_id, position = excluded.position,
           error = excluded.error, parked_at = excluded.parked_at`,
      ),
      unpark: this.db.prepare(`DELETE FROM ${T.parked} WHERE incident_id = ?`),
      deleteIncidentFacts: this.db.prepare(`DELETE FROM ${T.fact} WHERE incident_id = ?`),
      deleteIncidentTechniques: this.db.prepare(`DELETE FROM ${T.technique} WHERE incident_id = ?`),
      checkpoint: this.db.prepare<[string], { position: string }>('SELECT position FROM checkpoints WHERE name = ?'),
      saveCheckpoint: this.db.prepare(
        'INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position',
      ),
    };
  }

  async checkpoint(projection: string): Promise<bigint> {
    return this.checkpointNow(projection);
  }

  private checkpointNow(projection: string): bigint {
    const row = this.statements.checkpoint.get(projection);
    return row ? BigInt(row.position) : 0n;
  }

  async loadHeaders(incidentIds: readonly string[]): Promise<Map<string, IncidentHeader>> {
    const headers = new Map<string, IncidentHeader>();
    for (const id of incidentIds) {
      const header = this.headerOf(id);
      if (header !== null) headers.set(id, header);
    }
    return headers;
  }

  private headerOf(id: string): IncidentHeader | null {
    const row = this.statements.header.get(id);
    if (!row) return null;
    const stored = JSON.parse(row.header) as StoredHeader;
    return {
      ...stored,
      statusHistory: this.statements.periods.all(id).map((r) => JSON.parse(r.period) as StatusPeriod),
      links: this.statements.links.all(id).map((r) => JSON.parse(r.link) as LinkState),
    };
  }

  async loadFacts(keys: readonly FactKey[]): Promise<Map<string, FactState>> {
    const facts = new Map<string, FactState>();
    for (const { incidentId, factId } of keys) {
      const row = this.statements.fact.get(incidentId, factId);
      if (row) facts.set(factKeyOf(incidentId, factId), decodeFact(row.fact));
    }
    return facts;
  }

  async commit(projection: string, changes: RowChanges, position: bigint, expected: bigint): Promise<void> {
    this.db.transaction(() => {
      const current = this.checkpointNow(projection);
      if (current !== expected) throw new CheckpointMovedError(projection, expected, current);
      this.writeRows(changes);
      for (const parked of changes.parked ?? [])
        this.statements.park.run({ ...parked, position: parked.position.toString() });
      this.statements.saveCheckpoint.run(projection, position.toString());
    })();
    if (changes.headers.length > 0) this.dropLegacyTables();
  }

  async replaceIncident(_projection: string, state: IncidentState): Promise<void> {
    const { facts, ...header } = state;
    this.db.transaction(() => {
      this.statements.deleteIncidentFacts.run(state.id);
      this.statements.deleteIncidentTechniques.run(state.id);
      this.writeRows({
        headers: [{ header, statusChanged: true, linksChanged: true }],
        facts: [...facts.values()].map((fact) => factRowOf(state.id, fact)),
      });
      this.statements.unpark.run(state.id);
    })();
  }

  async parked(incidentIds?: readonly string[]): Promise<ParkedIncident[]> {
    const rows = this.db.prepare(`SELECT * FROM ${T.parked} ORDER BY position`).all() as {
      incident_id: string;
      event_id: string;
      position: string;
      error: string;
      parked_at: string;
    }[];
    const wanted = incidentIds === undefined ? undefined : new Set(incidentIds);
    return rows
      .filter((row) => wanted === undefined || wanted.has(row.incident_id))
      .map((row) => ({
        incidentId: row.incident_id,
        eventId: row.event_id,
        position: BigInt(row.position),
        error: row.error,
        parkedAt: row.parked_at,
      }));
  }

  /**
   * Writes rows in key order: in a batch of many incidents (a rebuild's flush), neighbouring writes then touch the
   * same index pages.
   */
  private writeRows(changes: RowChanges): void {
    {
      for (const { header, statusChanged, linksChanged } of inKeyOrder(changes.headers, (h) => h.header.id)) {
        const { stored, ...columns } = headerColumns(header);
        this.statements.upsertHeader.run({ ...columns, header: JSON.stringify(stored) });
        if (statusChanged) {
          this.statements.deletePeriods.run(header.id);
          header.statusHistory.forEach((period, seq) =>
            this.statements.insertPeriod.run(header.id, seq, JSON.stringify(period)),
          );
        }
        if (linksChanged) {
          this.statements.deleteLinks.run(header.id);
          header.links.forEach((link, seq) => this.statements.insertLink.run(header.id, seq, JSON.stringify(link)));
        }
      }
      for (const row of inKeyOrder(changes.facts, (f) => factKeyOf(f.incidentId, f.factId))) {
        this.statements.upsertFact.run(
          row.incidentId,
          row.factId,
          row.sortMs,
          row.latestMs,
          row.position,
          row.retracted ? 1 : 0,
          row.json,
        );
        this.statements.deleteTechniques.run(row.incidentId, row.factId);
        for (const technique of row.techniques)
          this.statements.insertTechnique.run(row.incidentId, row.factId, technique);
      }
    }
  }

  private legacyDropped = false;

  /** The first version kept each incident as one JSON document; once this version writes, that table goes. */
  private dropLegacyTables(): void {
    if (this.legacyDropped) return;
    for (const table of LEGACY_TABLES) this.db.exec(`DROP TABLE IF EXISTS ${table}`);
    this.db.prepare("DELETE FROM checkpoints WHERE name = 'incidents'").run();
    this.legacyDropped = true;
  }

  async loadIncident(incidentId: string): Promise<IncidentState | null> {
    const header = this.headerOf(incidentId);
    if (header === null) return null;
    const facts = this.statements.facts
      .all(incidentId)
      .sort((a, b) => a.sort_ms - b.sort_ms || a.latest_ms - b.latest_ms || a.position - b.position)
      .map((row) => decodeFact(row.fact));
    return { ...header, facts: PersistentMap.from(facts.map((fact) => [fact.factId, fact])) };
  }

  async list(filter: ListFilter): Promise<IncidentSummaryRow[]> {
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
    if (filter.technique) {
      where.push(
        `EXISTS (SELECT 1 FROM ${T.technique} t WHERE t.incident_id = i.id AND (t.technique = @technique OR t.technique LIKE @subTechnique))`,
      );
      params.technique = filter.technique;
      params.subTechnique = `${filter.technique}.%`;
    }
    if (filter.after) {
      where.push('(updated_at < @afterUpdatedAt OR (updated_at = @afterUpdatedAt AND id > @afterId))');
      params.afterUpdatedAt = filter.after.updatedAt;
      params.afterId = filter.after.id;
    }
    const sql = `SELECT id, title, category, status, updated_at, version FROM ${T.incident} i
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY updated_at DESC, id LIMIT @limit`;
    return (
      this.db.prepare(sql).all(params) as {
        id: string;
        title: string;
        category: IncidentSummaryRow['category'];
        status: IncidentSummaryRow['status'];
        updated_at: string;
        version: number;
      }[]
    ).map((row) => ({
      id: row.id,
      title: row.title,
      category: row.category,
      status: row.status,
      updatedAt: row.updated_at,
      version: row.version,
    }));
  }

  async dump(): Promise<IncidentState[]> {
    const ids = (this.db.prepare(`SELECT id FROM ${T.incident} ORDER BY id`).all() as { id: string }[]).map(
      (r) => r.id,
    );
    const states: IncidentState[] = [];
    for (const id of ids) states.push((await this.loadIncident(id))!);
    return states;
  }

  async reset(projection: string): Promise<void> {
    this.db.transaction(() => {
      for (const table of Object.values(T)) this.db.exec(`DELETE FROM ${table}`);
      this.db.prepare('DELETE FROM checkpoints WHERE name = ?').run(projection);
    })();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** The items in the order of their keys, when there are more than a few; as given otherwise. */
function inKeyOrder<T>(items: readonly T[], keyOf: (item: T) => string): readonly T[] {
  if (items.length < 16) return items;
  return items
    .map((item) => ({ key: keyOf(item), item }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ item }) => item);
}
