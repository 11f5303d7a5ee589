/**
 * (e) Rebuilding the read models from a log of many incidents, against the least that reading the same log and
 * inserting a row per event into SQLite costs, each case in a process of its own (for its peak RSS). The size is
 * BENCH_REBUILD_EVENTS events (1,000,000 by default) over BENCH_REBUILD_INCIDENTS incidents (10,000 by default).
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteEventStore } from '@app/event-store';
import { REBUILD_DEFAULTS } from '@app/read-models';
import { interleavedLog } from './events';

// Five rounds of the two cases rather than three of three (an earlier raw copy into 16 KiB pages is gone): on this
// class of machine a case's rate moved by a quarter from one round to the next, and the ratio is of medians.
const ROUNDS = 5;
const CASES = ['rebuild', 'raw'] as const;
const GOAL = { ratio: 0.7, rssBytes: 300 * 1024 * 1024 };

interface Sample {
  events: number;
  seconds: number;
  maxRss: number;
}

function sizeFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

function runCase(which: (typeof CASES)[number], logFile: string, outFile: string): Promise<Sample> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [join(__dirname, 'rebuild-worker.js'), which, logFile, outFile],
      { maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${which}: ${stderr || error.message}`)) : resolve(JSON.parse(stdout) as Sample),
    ),
  );
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const mb = (bytes: number) => Math.round(bytes / (1024 * 1024));

export async function compareRebuild(dir: string): Promise<void> {
  const events = sizeFromEnv('BENCH_REBUILD_EVENTS', 1_000_000);
  const incidents = Math.min(sizeFromEnv('BENCH_REBUILD_INCIDENTS', 10_000), events);
  const perIncident = Math.ceil(events / incidents);
  const logFile = join(dir, 'e-events.db');
  const store = new SqliteEventStore({ filename: logFile });
  const writing = process.hrtime.bigint();
  for (const chunk of interleavedLog(incidents, perIncident)) await store.copyIn(chunk);
  const total = Number(await store.headPosition());
  await store.close();
  const written = Number(process.hrtime.bigint() - writing) / 1e9;

  const samples = new Map<string, Sample[]>(CASES.map((c) => [c, []]));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (let i = 0; i < CASES.length; i += 1) {
      const which = CASES[(i + round) % CASES.length];
      const outFile = join(dir, `e-${which}-${round}.db`);
      samples.get(which)!.push(await runCase(which, logFile, outFile));
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${outFile}${suffix}`, { force: true });
    }
  }

  const rate = (which: string) => median(samples.get(which)!.map((s) => s.events / s.seconds));
  const rss = (which: string) => Math.max(...samples.get(which)!.map((s) => s.maxRss));
  console.log(
    `\n(e) Rebuild of ${total.toLocaleString('en')} events over ${incidents.toLocaleString('en')} incidents vs raw read-and-insert (events/s, SQLite)`,
  );
  console.log(
    `  log: ${incidents} incidents, each opened then ${perIncident - 1} facts, interleaved round by round; written in ${written.toFixed(0)} s`,
  );
  console.log(
    `  rebuild: rebuildReadModels with its defaults (pages of ${REBUILD_DEFAULTS.pageSize} events, working set of ${REBUILD_DEFAULTS.maxFacts} facts / ${REBUILD_DEFAULTS.maxIncidents} incidents)`,
  );
  console.log(
    '  raw: the same pages read with one SELECT each, each event decoded and inserted as one row, one transaction per page,',
  );
  console.log("    into a file of SQLite's default page size (4 KiB)");
  console.log(
    `  each case in a process of its own; ${ROUNDS} rounds, order alternating; peak RSS is the largest of the rounds`,
  );
  console.table(
    CASES.map((which) => ({
      case: which,
      'median events/s': Math.round(rate(which)),
      'min..max events/s': `${Math.round(Math.min(...samples.get(which)!.map((s) => s.events / s.seconds)))}..${Math.round(Math.max(...samples.get(which)!.map((s) => s.events / s.seconds)))}`,
      'median s': median(samples.get(which)!.map((s) => s.seconds)).toFixed(1),
      'peak RSS MB': mb(rss(which)),
    })),
  );
  const ratio = rate('rebuild') / rate('raw');
  console.log(
    `  rebuild vs raw: ${ratio.toFixed(2)}×  (goal ≥ ${GOAL.ratio}×: ${ratio >= GOAL.ratio ? 'met' : 'MISSED'})`,
  );
  console.log(
    `  rebuild peak RSS: ${mb(rss('rebuild'))} MB  (goal < ${mb(GOAL.rssBytes)} MB: ${rss('rebuild') < GOAL.rssBytes ? 'met' : 'MISSED'})`,
  );
}
