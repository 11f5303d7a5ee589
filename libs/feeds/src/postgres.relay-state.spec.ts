import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import {
  connectRaw,
  describePostgres,
  dropSchema,
  freshSchemaName,
  TEST_DATABASE_URL,
} from '../../event-store/src/contract/postgres.fixture';
import { relayStateContract } from './contract/relay-state.contract';
import { PostgresRelayState } from './postgres.relay-state';
import { LeaseLostError } from './relay-state.port';

/** Polls a condition with a deadline. */
async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describePostgres('PostgreSQL relay state', () => {
  let schema = freshSchemaName();
  let name = 'kafka:contract';
  const open = (pollMs?: number) =>
    PostgresRelayState.open({ connectionString: TEST_DATABASE_URL, schema, name, pollMs });

  relayStateContract(
    'PostgreSQL',
    async () => {
      schema = freshSchemaName();
      name = `kafka:${randomBytes(4).toString('hex')}`;
    },
    () => open(),
    () => dropSchema(schema),
  );

  describe('the lock lives as long as the holder session', () => {
    const states: PostgresRelayState[] = [];
    let raw: Client;

    beforeEach(async () => {
      schema = freshSchemaName();
      name = `kafka:${randomBytes(4).toString('hex')}`;
      raw = await connectRaw();
    });

    afterEach(async () => {
      for (const state of states.splice(0)) await state.close();
      await raw.end();
      await dropSchema(schema);
    });

    async function handle(pollMs?: number): Promise<PostgresRelayState> {
      const state = await open(pollMs);
      states.push(state);
      return state;
    }

    /** The server processes holding the relay's lock. */
    async function holders(state: PostgresRelayState): Promise<number[]> {
      const { classid, objid } = state.lockInPgLocks;
      const { rows } = await raw.query<{ pid: number }>(
        `SELECT pid FROM pg_locks
          WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND objsubid = 2 AND granted
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        [classid, objid],
      );
      return rows.map((row) => row.pid);
    }

    it('passes to a standby as soon as the holder session ends, and the old holder can no longer move the checkpoint', async () => {
      const [a, b] = [await handle(), await handle()];
      const lease = await a.tryAcquire('relay-a', 10_000, Date.now());
      expect(lease).toMatchObject({ held: true, lost: expect.objectContaining({ aborted: false }) });
      expect((await b.tryAcquire('relay-b', 10_000, Date.now())).held).toBe(false);
      const [holder] = await holders(a);
      expect(await holders(a)).toHaveLength(1);

      // What a killed process or a cut connection amounts to, seen from the server: the session is gone.
      await raw.query('SELECT pg_terminate_backend($1)', [holder]);
      // The holder learns it from its connection, without having to ask.
      await until(async () => lease.lost!.aborted, 'the lease reported lost');
      await until(async () => (await b.tryAcquire('relay-b', 10_000, Date.now())).held, 'b takes the lock');

      expect(await a.renew('relay-a')).toBe(false);
      await expect(a.advance('relay-a', 0n, 5n)).rejects.toThrow(LeaseLostError);
      await b.advance('relay-b', 0n, 3n);
      expect(await a.checkpoint()).toBe(3n);
      expect(await a.tryAcquire('relay-a', 10_000, Date.now())).toMatchObject({
        held: false,
        holder: 'relay-b',
      });
      expect(await holders(a)).toHaveLength(1);
    });

    it('is ended by the server when its holder falls silent for the lease time, and the holder then knows it lost', async () => {
      const ttlMs = 2_000;
      const [a, b] = [await handle(200), await handle(200)];
      expect((await a.tryAcquire('relay-a', ttlMs, Date.now())).held).toBe(true);
      // A frozen process: nothing runs in it, not even the pings that keep its session alive.
      const thawAt = Date.now() + ttlMs * 2.5;
      while (Date.now() < thawAt);
      await until(async () => (await b.tryAcquire('relay-b', ttlMs, Date.now())).held, 'b takes the lock');
      expect(await a.renew('relay-a')).toBe(false);
      await expect(a.advance('relay-a', 0n, 5n)).rejects.toThrow(LeaseLostError);
      expect(await a.checkpoint()).toBe(0n);
    });
  });
});
