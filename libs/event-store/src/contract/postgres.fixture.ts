import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { quoteIdentifier } from '../postgres.event-store';

/**
 * What the PostgreSQL specs run against. Tests bring their own raw client (schemas, a transaction held open); the
 * application itself reaches PostgreSQL only through the adapter.
 */
export const TEST_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Connects from a separate process, because jest decides what to skip before any async work can run. */
function reachable(url: string): boolean {
  const probe = `
    const { Client } = require(${JSON.stringify(require.resolve('pg'))});
    const client = new Client({ connectionString: process.env.PROBE_URL, connectionTimeoutMillis: 3000 });
    client.connect().then(() => client.end()).then(() => process.exit(0), () => process.exit(1));`;
  const result = spawnSync(process.execPath, ['-e', probe], {
    env: { ...process.env, PROBE_URL: url },
    timeout: 10_000,
  });
  return result.status === 0;
}

/**
 * `describe` when PostgreSQL is there or asked for (DATABASE_URL set, or REQUIRE_POSTGRES=1: then an unreachable
 * server fails the tests); otherwise a skipped `describe` whose name says why.
 */
export function describePostgres(name: string, body: () => void): void {
  const required = process.env.REQUIRE_POSTGRES === '1' || process.env.DATABASE_URL !== undefined;
  if (required || reachable(TEST_DATABASE_URL)) {
    describe(name, body);
    return;
  }
  const why = `PostgreSQL not reachable at ${TEST_DATABASE_URL}; set DATABASE_URL, or REQUIRE_POSTGRES=1 to fail instead`;
  describe.skip(`${name} (skipped: ${why})`, body);
}

/** A schema name no other test uses, so tests and parallel jest workers never see each other's events. */
export function freshSchemaName(): string {
  return `es_test_${randomBytes(6).toString('hex')}`;
}

export async function connectRaw(): Promise<Client> {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  return client;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = await connectRaw();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}
