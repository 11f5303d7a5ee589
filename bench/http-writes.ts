/**
 * (c) `POST .../facts` at 64 connections, the service vs a bare NestJS route doing the same body validation, on a
 * fresh incident and on one that already holds 300 facts; and the time to fill one incident with 10,000 facts.
 * Load comes from autocannon in this process; every server is a child process.
 */
import autocannon from 'autocannon';
import { Client } from 'pg';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { send, startApi, startService, stopService, type Service } from './services';

const ROUNDS = 5;
const SECONDS = 4;
const CONNECTIONS = 64;

const FACT = JSON.stringify({ kind: 'other', occurredAt: '2023-06', summary: 'A fact under load' });

interface Sample {
  rate: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(url: string): Promise<Sample> {
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { 'content-type': 'application/json' },
    body: FACT,
  });
  return {
    rate: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function openIncident(api: Service, id: string, facts: number): Promise<string> {
  await send(api.base, 'POST', '/v1/incidents', { id, title: id, category: 'other' });
  for (let i = 0; i < facts; i += 1) {
    await send(api.base, 'POST', `/v1/incidents/${id}/facts`, { kind: 'other', occurredAt: '2022', summary: `${i}` });
  }
  return `${api.base}/v1/incidents/${id}/facts`;
}

export async function compareHttpWrites(dir: string): Promise<void> {
  const bare = await startService(join(process.cwd(), 'dist/bench/bare-nest.js'), { cwd: process.cwd() });
  const api = await startApi(process.cwd(), mkdtempSync(join(dir, 'api-')));
  const databaseUrl = process.env.DATABASE_URL;
  const onPostgres =
    databaseUrl === undefined || databaseUrl === ''
      ? undefined
      : await startApi(process.cwd(), mkdtempSync(join(dir, 'api-pg-')), {
          EVENT_STORE: 'postgres',
          DATABASE_URL: databaseUrl,
          DATABASE_SCHEMA: `bench_http_${process.pid}`,
        });
  try {
    const cases: { name: string; url: (round: number) => Promise<string> }[] = [
      { name: 'bare NestJS route', url: async () => `${bare.base}/v1/incidents/bare/facts` },
      { name: 'service, fresh incident', url: (round) => openIncident(api, `fresh-${round}`, 0) },
      { name: 'service, 300-fact incident', url: (round) => openIncident(api, `full-${round}`, 300) },
    ];
    if (onPostgres !== undefined) {
      cases.push({
        name: 'service on PostgreSQL, fresh incident',
        url: (round) => openIncident(onPostgres, `pg-${round}`, 0),
      });
    }
    const samples = new Map<string, Sample[]>(cases.map((c) => [c.name, []]));
    for (let round = 0; round < ROUNDS; round += 1) {
      for (let i = 0; i < cases.length; i += 1) {
        const c = cases[(i + round) % cases.length];
        samples.get(c.name)!.push(await load(await c.url(round)));
      }
    }
    const summary = cases.map((c) => {
      const s = samples.get(c.name)!;
      return {
        name: c.name,
        rate: median(s.map((x) => x.rate)),
        p50: median(s.map((x) => x.p50)),
        p99: median(s.map((x) => x.p99)),
        errors: s.reduce((sum, x) => sum + x.errors, 0),
        range: `${Math.round(Math.min(...s.map((x) => x.rate)))}..${Math.round(Math.max(...s.map((x) => x.rate)))}`,
      };
    });
    console.log(`\n(c) HTTP POST fact, ${CONNECTIONS} connections (autocannon), ${ROUNDS} rounds of ${SECONDS} s`);
    console.log(
      '  service: SQLite, AUTH=off, its whole edge (JSON parsing, validation, problem+json), fsync per commit',
    );
    console.log('  bare: NestJS 11, one route, the same DTO and validation pipe, answers 201 without storing');
    console.log('  the incident starts each round fresh, or with 300 facts, and grows during the round');
    if (onPostgres !== undefined) console.log(`  PostgreSQL: DATABASE_URL, schema bench_http_${process.pid}`);
    console.table(
      summary.map((s) => ({
        case: s.name,
        'median req/s': Math.round(s.rate),
        'min..max req/s': s.range,
        'p50 ms': s.p50,
        'p99 ms': s.p99,
        'non-2xx/errors': s.errors,
      })),
    );
    const bareRate = summary[0].rate;
    for (const s of summary.slice(1)) {
      const ratio = s.rate / bareRate;
      const tail = s.p99 / Math.max(s.p50, 1);
      console.log(
        `  ${s.name} / bare: ${ratio.toFixed(2)}× (goal ≥ 0.5×: ${ratio >= 0.5 ? 'met' : 'MISSED'}); ` +
          `p99/p50 ${tail.toFixed(1)} (goal < 10: ${tail < 10 ? 'met' : 'MISSED'})`,
      );
    }
  } finally {
    await stopService(api);
    if (onPostgres !== undefined) {
      await stopService(onPostgres);
      const client = new Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS bench_http_${process.pid} CASCADE`);
      await client.end();
    }
    await stopService(bare);
  }
}

/** One sequential client fills one incident with 10,000 facts; prints the time of each thousand. */
export async function fillOneIncident(
  dir: string,
  facts = Number(process.env.BENCH_FILL_FACTS ?? 10_000),
): Promise<void> {
  const api = await startApi(process.cwd(), mkdtempSync(join(dir, 'fill-')));
  try {
    await send(api.base, 'POST', '/v1/incidents', { id: 'fill', title: 'Fill', category: 'other' });
    const thousands: number[] = [];
    const started = process.hrtime.bigint();
    let mark = started;
    for (let i = 0; i < facts; i += 1) {
      await send(api.base, 'POST', '/v1/incidents/fill/facts', { kind: 'other', occurredAt: '2022', summary: `${i}` });
      if ((i + 1) % 1000 === 0) {
        const now = process.hrtime.bigint();
        thousands.push(Number(now - mark) / 1e9);
        mark = now;
      }
    }
    const total = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`\n(c′) Filling one incident with ${facts} facts over HTTP, one sequential client (SQLite)`);
    console.log(`  total ${total.toFixed(1)} s (goal < 60 s for 10,000: ${total < 60 ? 'met' : 'MISSED'})`);
    console.log(`  seconds per thousand: ${thousands.map((t) => t.toFixed(1)).join(', ')}`);
  } finally {
    await stopService(api);
  }
}
