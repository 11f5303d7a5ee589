import Database from 'better-sqlite3';
import type { Client } from 'pg';
import { quoteIdentifier } from '../../libs/event-store/src/postgres.event-store';

/** Every row of every table, each table's rows ordered by its primary key. */
export type TableRows = Record<string, Record<string, unknown>[]>;

/** The tables of a SQLite read-model file, read through a read-only connection of its own. */
export function sqliteTables(filename: string): TableRows {
  const db = new Database(filename, { readonly: true, fileMustExist: true });
  try {
    const names = (
      db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .all() as { name: string }[]
    ).map((row) => row.name);
    const tables: TableRows = {};
    for (const name of names) {
      const table = `"${name.replace(/"/g, '""')}"`;
      const key = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string; pk: number }[])
        .filter((column) => column.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((column) => `"${column.name}"`);
      const order = key.length > 0 ? key.join(', ') : 'rowid';
      tables[name] = db.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all() as Record<string, unknown>[];
    }
    return tables;
  } finally {
    db.close();
  }
}

/** The names of the tables in a PostgreSQL schema. */
export async function postgresTableNames(client: Client, schema: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
     WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`,
    [schema],
  );
  return rows.map((row) => row.name);
}

/** The named tables of a PostgreSQL schema. */
export async function postgresTables(client: Client, schema: string, names: readonly string[]): Promise<TableRows> {
  const tables: TableRows = {};
  for (const name of names) {
    const table = `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`;
    const { rows: keyRows } = await client.query<{ column: string }>(
      `SELECT a.attname AS column FROM pg_index i
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
       WHERE i.indrelid = $1::regclass AND i.indisprimary
       ORDER BY array_position(i.indkey::int2[], a.attnum)`,
      [table],
    );
    const order = keyRows.map((row) => quoteIdentifier(row.column)).join(', ');
    const { rows } = await client.query(`SELECT * FROM ${table}${order ? ` ORDER BY ${order}` : ''}`);
    tables[name] = rows;
  }
  return tables;
}

export interface TableDifference {
  table: string;
  rows: { live: number; rebuilt: number };
  /** The first rows (by key order) that differ, as [live, rebuilt]; undefined where one side has fewer rows. */
  first: [unknown, unknown][];
}

/** Table by table and row by row: the tables that differ, each with its first few differing rows. */
export function differences(live: TableRows, rebuilt: TableRows, shown = 3): TableDifference[] {
  const found: TableDifference[] = [];
  const plain = (row: unknown) => JSON.stringify(row);
  for (const table of [...new Set([...Object.keys(live), ...Object.keys(rebuilt)])].sort()) {
    const a = live[table] ?? [];
    const b = rebuilt[table] ?? [];
    const first: [unknown, unknown][] = [];
    for (let i = 0; i < Math.max(a.length, b.length) && first.length < shown; i += 1)
      if (plain(a[i]) !== plain(b[i])) first.push([a[i], b[i]]);
    if (first.length > 0 || !(table in live) || !(table in rebuilt))
      found.push({ table, rows: { live: a.length, rebuilt: b.length }, first });
  }
  return found;
}
