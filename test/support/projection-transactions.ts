import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from 'pg';
import { INCIDENT_PROJECTION } from '@app/read-models';

const READ_MODEL_TABLES = ['incident', 'status_period', 'link', 'fact', 'fact_technique', 'parked']
  .map((name) => `${name}_v${INCIDENT_PROJECTION.version}`)
  .concat('read_model_checkpoints');

/**
 * A projection commit in progress on PostgreSQL, as pg_stat_activity shows it: a session holding a transaction id
 * (it has locked the checkpoint row or written) whose last statement touched the read-model tables of `schema`.
 * Returns the transaction's full 64-bit id, so its fate can be asked once it has ended.
 */
export async function openProjectionTransaction(client: Client, schema: string): Promise<bigint | undefined> {
  const { rows } = await client.query<{ xid: string; xmax: string }>(
    `SELECT backend_xid::text AS xid, pg_snapshot_xmax(pg_current_snapshot())::text AS xmax
     FROM pg_stat_activity
     WHERE datname = current_database() AND backend_xid IS NOT NULL AND query ~ $1
     LIMIT 1`,
    [`"${schema}"\\.(${READ_MODEL_TABLES.join('|')})\\M`],
  );
  if (rows.length === 0) return undefined;
  // backend_xid holds the low 32 bits; the full id is the one with those bits nearest to the current snapshot's.
  const xmax = BigInt(rows[0].xmax);
  const epoch = 1n << 32n;
  let xid = ((xmax >> 32n) << 32n) | BigInt(rows[0].xid);
  if (xid - xmax > epoch / 2n) xid -= epoch;
  else if (xmax - xid > epoch / 2n) xid += epoch;
  return xid;
}

/** 'committed' or 'aborted', once no session runs the transaction any more. */
export async function transactionFate(client: Client, xid: bigint, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await client.query<{ fate: string }>('SELECT pg_xact_status($1::xid8) AS fate', [xid.toString()]);
    if (rows[0].fate !== 'in progress') return rows[0].fate;
    if (Date.now() > deadline) throw new Error(`transaction ${xid} still in progress after ${timeoutMs} ms`);
    await delay(25);
  }
}
