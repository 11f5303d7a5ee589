import type { JSONWebKeySet } from 'jose';
import { Pool } from 'pg';
import { usableKeys, JwksLoadError, type JwksSource } from './jwks-source';

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The public keys of the local issuer, shared through PostgreSQL so that every API replica verifies a token minted
 * by any of them. Each process that holds a private key publishes its public key; verification reads them all. The
 * private keys never leave their files.
 */
export class PostgresIssuerKeys {
  private readonly table: string;

  private constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.table = `${quoteIdentifier(schema)}.issuer_keys`;
  }

  static async open(connectionString: string, schema: string): Promise<PostgresIssuerKeys> {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid PostgreSQL schema name: ${schema}`);
    const pool = new Pool({ connectionString, max: 2, connectionTimeoutMillis: 10_000 });
    pool.on('error', () => undefined);
    const keys = new PostgresIssuerKeys(pool, schema);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // The event store's migration lock: CREATE SCHEMA IF NOT EXISTS races with the other migrations otherwise.
      await client.query(`SELECT pg_advisory_xact_lock(${0x45564e54}, 0)`);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${keys.table} (
           issuer TEXT NOT NULL, kid TEXT NOT NULL, jwk JSONB NOT NULL,
           published_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (issuer, kid))`,
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
      await pool.end().catch(() => undefined);
      throw error;
    }
    client.release();
    return keys;
  }

  async publish(issuer: string, jwks: JSONWebKeySet): Promise<void> {
    for (const key of usableKeys(jwks, 'local issuer').keys) {
      await this.pool.query(
        `INSERT INTO ${this.table} (issuer, kid, jwk) VALUES ($1, $2, $3) ON CONFLICT (issuer, kid) DO NOTHING`,
        [issuer, key.kid, JSON.stringify(key)],
      );
    }
  }

  source(issuer: string): JwksSource {
    const location = `postgresql ${this.table} (${issuer})`;
    return {
      location,
      load: async () => {
        try {
          const { rows } = await this.pool.query<{ jwk: unknown }>(
            `SELECT jwk FROM ${this.table} WHERE issuer = $1 ORDER BY published_at DESC LIMIT 100`,
            [issuer],
          );
          return usableKeys({ keys: rows.map((row) => row.jwk) }, location);
        } catch (error) {
          if (error instanceof JwksLoadError) throw error;
          throw new JwksLoadError(location, 'cannot be read');
        }
      },
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
