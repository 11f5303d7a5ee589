/**
 * `npm run bench [section...]`: throughput and latency of the paths that matter, on the embedded defaults, in a
 * temporary directory. Numbers are printed, never asserted: compare runs on the same machine. Without a section, every
 * section runs; `npm run bench -- rebuild` runs one alone.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@app/config';
import { SqliteEventStore } from '@app/event-store';
import { rebuildReadModels, SqliteReadModelStore } from '@app/read-models';
import { createApp } from '../apps/api/src/app.factory';
import { benchEvent } from './events';
import { compareWithBaseline } from './baseline-release';
import { compareGroupCommit } from './group-commit';
import { compareHttpWrites, fillOneIncident } from './http-writes';
import { compareKnownAt } from './known-at';
import { comparePostgres } from './postgres-store';
import { compareProjectionCost } from './projection-cost';
import { compareRebuild } from './rebuild';
import { compareSqliteStores } from './sqlite-stores';
import { sseFanOutBenchmarks } from './sse-fanout';

interface Result {
  name: string;
  operations: number;
  seconds: number;
  p50?: number;
  p99?: number;
}

const results: Result[] = [];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(name: string, operations: number, run: (i: number) => Promise<void>, concurrency = 1) {
  const latencies: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < operations) {
        const i = next++;
        const t0 = process.hrtime.bigint();
        await run(i);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  results.push({ name, operations, seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) });
}

async function storeBenchmarks(dir: string) {
  const store = new SqliteEventStore({ filename: join(dir, 'store.db') });
  await measure('store: append 1 event (fsync each)', 2000, async (i) => {
    await store.append(`incident-s${i % 50}`, [benchEvent()], 'any');
  });
  await measure('store: append batch of 10', 300, async (i) => {
    await store.append(
      `incident-b${i % 50}`,
      Array.from({ length: 10 }, () => benchEvent()),
      'any',
    );
  });
  await measure('store: read a 40-event stream', 2000, async (i) => {
    await store.readStream(`incident-s${i % 50}`);
  });
  const readModels = new SqliteReadModelStore(join(dir, 'rm.db'));
  const started = process.hrtime.bigint();
  const rebuilt = await rebuildReadModels(store, readModels);
  results.push({
    name: 'read models: rebuild from log (events)',
    operations: rebuilt.applied,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  });
  readModels.close();
  await store.close();
}

async function httpBenchmarks(dir: string) {
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: join(dir, 'api'),
    LOG_LEVEL: 'error',
    AUTH: 'off',
    // The bench is one client sending thousands of requests a minute: the per-principal limit would answer 429.
    RATE_LIMIT_PER_MINUTE: '0',
  });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const base = `http://127.0.0.1:${port}`;
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (response) => {
      if (response.status >= 300) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return response.json() as Promise<{ position: number }>;
    });
  await measure(
    'http: open incident',
    200,
    async (i) => {
      await post('/v1/incidents', { id: `bench-${i}`, title: `Bench ${i}`, category: 'other' });
    },
    8,
  );
  let last = 0;
  await measure(
    'http: record fact (8 concurrent clients)',
    1000,
    async (i) => {
      const { position } = await post(`/v1/incidents/bench-${i % 200}/facts`, {
        kind: 'other',
        occurredAt: '2023-06',
        summary: `fact ${i}`,
      });
      last = Math.max(last, position);
    },
    8,
  );
  await fetch(`${base}/v1/incidents/bench-0?minPosition=${last}`);
  await measure(
    'http: get record (read model)',
    1000,
    async (i) => {
      await fetch(`${base}/v1/incidents/bench-${i % 200}`).then((r) => r.arrayBuffer());
    },
    8,
  );
  await measure(
    'http: get timeline knownAt (fold from log)',
    500,
    async (i) => {
      await fetch(`${base}/v1/incidents/bench-${i % 200}/timeline?knownAt=2024-01-01`).then((r) => r.arrayBuffer());
    },
    8,
  );
  await measure(
    'http: list incidents (50 per page)',
    300,
    async () => {
      await fetch(`${base}/v1/incidents?limit=50`).then((r) => r.arrayBuffer());
    },
    8,
  );
  await app.close();
}

async function basics(dir: string) {
  await storeBenchmarks(dir);
  await httpBenchmarks(dir);
  results.push(...(await sseFanOutBenchmarks(dir)));
  const rows = results.map((r) => ({
    benchmark: r.name,
    ops: r.operations,
    'ops/s': Math.round(r.operations / r.seconds),
    'p50 ms': r.p50 === undefined ? '' : r.p50.toFixed(2),
    'p99 ms': r.p99 === undefined ? '' : r.p99.toFixed(2),
  }));
  console.table(rows);
}

/** Each section in its own temporary directory; the side-by-side comparisons each print their table and ratios. */
const SECTIONS: Record<string, (dir: string) => Promise<void>> = {
  basics,
  'sqlite-stores': compareSqliteStores, // (a)
  'group-commit': compareGroupCommit, // (b)
  projection: compareProjectionCost, // (d)
  rebuild: compareRebuild, // (e)
  'known-at': compareKnownAt, // (f)
  postgres: () => comparePostgres(), // (g)
  'http-writes': compareHttpWrites, // (c)
  fill: fillOneIncident, // (c), one incident filled with 10,000 facts
  baseline: compareWithBaseline, // (h), with BENCH_BASELINE
};

async function main() {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((name) => !(name in SECTIONS));
  if (unknown.length > 0) {
    console.error(`unknown section(s): ${unknown.join(', ')}; sections: ${Object.keys(SECTIONS).join(', ')}`);
    process.exitCode = 2;
    return;
  }
  for (const name of asked.length > 0 ? asked : Object.keys(SECTIONS)) {
    const at = mkdtempSync(join(tmpdir(), 'bench-'));
    try {
      await SECTIONS[name](at);
    } catch (error) {
      // One failed section does not hide the others; the run still ends with a failure.
      console.error(`\nSection ${name} failed: ${String(error)}`);
      process.exitCode = 1;
    } finally {
      rmSync(at, { recursive: true, force: true });
    }
  }
}

void main();
