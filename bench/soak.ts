/**
 * `npm run soak -- --minutes 5` (or `--seconds 30`): the API as a child process on loopback, driven at a steady rate
 * by mixed reads and writes, with SSE readers following the event feed and, when KAFKA_BROKERS is set, the API's own
 * Kafka relay publishing to topics of this run. The API is killed with SIGKILL and restarted twice (at a third and two
 * thirds of the run). At the end it prints requests, answers by status, p50/p99 latency, the API's RSS at the start
 * and at the end, how the SSE readers and the relay kept up, and whether every acknowledged write is in the log.
 *
 * Bounded: at most 60 minutes and 200 requests a second; `--json` prints the summary as one JSON line as well (the
 * smoke test in test/soak.e2e-spec.ts reads it). Exit code 1 when an acknowledged write is missing, or a 5xx or a
 * refused connection came outside the kill windows (from a kill to the restarted API's readiness).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { mintLocalToken, SCOPES } from '@app/auth';
import { loadConfig } from '@app/config';
import { freePort } from './services';

const MAX_SECONDS = 60 * 60;
const MAX_RATE = 200;
const MAX_IN_FLIGHT = 32;
const MAX_INCIDENTS = 300;
const SEED_INCIDENTS = 20;
/** Least time the API serves between a restart and the next kill. */
const STEADY_MS = 3_000;
const API_ENTRY = join(__dirname, '..', 'apps', 'api', 'src', 'main.js');

interface Options {
  seconds: number;
  rate: number;
  readers: number;
  json: boolean;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { seconds: 300, rate: 50, readers: 2, json: false };
  for (let i = 0; i < argv.length; i += 1) {
    const [name, value] = [argv[i], argv[i + 1]];
    const number = () => {
      const parsed = Number(value);
      if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${name} needs a positive number`);
      i += 1;
      return parsed;
    };
    if (name === '--minutes') options.seconds = number() * 60;
    else if (name === '--seconds') options.seconds = number();
    else if (name === '--rate') options.rate = number();
    else if (name === '--readers') options.readers = Math.floor(number());
    else if (name === '--json') options.json = true;
    else throw new Error(`unknown option ${name} (--minutes N | --seconds N, --rate N, --readers N, --json)`);
  }
  options.seconds = Math.min(options.seconds, MAX_SECONDS);
  options.rate = Math.min(options.rate, MAX_RATE);
  return options;
}

/** The API child process; restarted on the same port and data directory after each kill. */
class Api {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private output = '';
  readonly baseUrl: string;

  constructor(
    private readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.baseUrl = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [API_ENTRY], {
      env: { ...this.env, HOST: '127.0.0.1', PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => (this.output = (this.output + chunk.toString('utf8')).slice(-4000)));
    child.stderr?.on('data', (chunk: Buffer) => (this.output = (this.output + chunk.toString('utf8')).slice(-4000)));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      const status = await fetch(`${this.baseUrl}/health/ready`).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) return;
      await delay(100);
    }
    throw new Error(`the API did not become ready:\n${this.output}`);
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }

  /** A value of the API's Prometheus text, or undefined. */
  async metric(name: string): Promise<number | undefined> {
    const text = await fetch(`${this.baseUrl}/metrics`).then(
      (response) => response.text(),
      () => '',
    );
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  }
}

interface Ack {
  kind: 'opened' | 'fact';
  incidentId: string;
  position: number;
  factId?: string;
}

/** One SSE reader of /v1/feeds/events, resuming with Last-Event-ID after every disconnect. */
class SseReader {
  lastId = 0;
  received = 0;
  reconnects = 0;
  outOfOrder = 0;
  private readonly controller = new AbortController();
  private loop?: Promise<void>;

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    while (!signal.aborted) {
      try {
        // The first connection reads from the start of the log; every reconnection resumes with Last-Event-ID.
        const resume: Record<string, string> = this.lastId > 0 ? { 'last-event-id': String(this.lastId) } : {};
        const response = await fetch(`${this.baseUrl}/v1/feeds/events${this.lastId > 0 ? '' : '?after=0'}`, {
          headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream', ...resume },
          signal,
        });
        if (response.status !== 200 || !response.body) throw new Error(`feed answered ${response.status}`);
        let buffer = '';
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += Buffer.from(chunk).toString('utf8');
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const id = /^id: (\d+)$/m.exec(frame)?.[1];
            if (id === undefined) continue;
            const position = Number(id);
            if (position <= this.lastId) this.outOfOrder += 1;
            this.lastId = Math.max(this.lastId, position);
            this.received += 1;
          }
        }
      } catch {
        // The API was killed, or the run is over: resume from the last id seen.
      }
      if (signal.aborted) return;
      this.reconnects += 1;
      await delay(200, undefined, { signal }).catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.loop;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const dataDir = mkdtempSync(join(tmpdir(), 'incident-soak-'));
  const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'error',
    RATE_LIMIT_PER_MINUTE: '0',
    METRICS_PUBLIC: 'true',
  };
  if (env.EVENT_STORE === 'postgres' && !process.env.DATABASE_SCHEMA)
    env.DATABASE_SCHEMA = `soak_${run.replace(/-/g, '_')}`;
  const kafka = Boolean(process.env.KAFKA_BROKERS);
  if (kafka) {
    Object.assign(env, {
      RELAY: 'true',
      KAFKA_CLIENT_ID: `soak-${run}`,
      KAFKA_TOPIC_EVENTS: `soak-incident-events-${run}`,
      KAFKA_TOPIC_STATUS_CHANGES: `soak-incident-status-changes-${run}`,
    });
  }
  const api = new Api(await freePort(), env);
  const readers: SseReader[] = [];
  try {
    await api.start();
    const token = await mintLocalToken({
      dataDir,
      audience: loadConfig({ DATA_DIR: dataDir }).auth.audience,
      sub: 'soak',
      scopes: [...SCOPES],
      ttlSeconds: options.seconds + 600,
    });
    const rssStart = await api.metric('process_resident_memory_bytes');
    for (let n = 0; n < options.readers; n += 1) readers.push(new SseReader(api.baseUrl, token));
    readers.forEach((reader) => reader.start());

    const statuses = new Map<string, number>();
    const latencies: number[] = [];
    const acks: Ack[] = [];
    const incidents: string[] = [];
    const killWindows: Array<{ from: number; to: number }> = [];
    let fivexxOutsideKills = 0;
    let connectionErrorsOutsideKills = 0;
    let inFlight = 0;
    let skipped = 0;
    let requests = 0;
    const count = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);
    const inKillWindow = (from: number, to: number) =>
      killWindows.some((window) => from <= window.to && to >= window.from);
    let killing: { from: number } | undefined;

    const call = async (method: string, path: string, body?: unknown) => {
      const started = Date.now();
      requests += 1;
      try {
        const response = await fetch(`${api.baseUrl}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body !== undefined && { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        const ended = Date.now();
        latencies.push(ended - started);
        count(String(response.status));
        if (response.status >= 500 && !killing && !inKillWindow(started, ended)) fivexxOutsideKills += 1;
        return { status: response.status, body: text.length > 0 ? JSON.parse(text) : undefined };
      } catch {
        count('connection-error');
        if (!killing && !inKillWindow(started, Date.now())) connectionErrorsOutsideKills += 1;
        return undefined;
      }
    };

    const operation = async (n: number) => {
      const choice = n % 10;
      const incident = incidents.length > 0 ? incidents[Math.floor(Math.random() * incidents.length)] : undefined;
      if (incident === undefined || (choice === 0 && incidents.length < MAX_INCIDENTS)) {
        const id = `soak-${run}-${n}`;
        const response = await call('POST', '/v1/incidents', { id, title: `Soak ${n}`, category: 'other' });
        if (response?.status === 201) {
          incidents.push(id);
          acks.push({ kind: 'opened', incidentId: id, position: response.body.position });
        }
      } else if (choice <= 3) {
        const response = await call('POST', `/v1/incidents/${incident}/facts`, {
          kind: 'other',
          occurredAt: '2024-05',
          summary: `soak fact ${n}`,
        });
        if (response?.status === 201) {
          acks.push({
            kind: 'fact',
            incidentId: incident,
            position: response.body.position,
            factId: response.body.factId,
          });
        }
      } else if (choice === 4) await call('GET', `/v1/incidents/${incident}/timeline`);
      else if (choice === 5) await call('GET', `/v1/incidents/${incident}?knownAt=2025-01-01`);
      else if (choice === 6) await call('GET', '/v1/incidents?limit=20');
      else if (choice === 7) await call('GET', `/v1/incidents/${incident}/history?limit=50`);
      else if (choice === 8)
        await call('GET', `/v1/events?after=${Math.max(0, (acks.at(-1)?.position ?? 0) - 50)}&limit=50`);
      else await call('GET', `/v1/incidents/${incident}`);
    };

    // A few incidents first, one at a time, so that concurrent facts spread over several streams from the start.
    for (let n = 0; n < SEED_INCIDENTS; n += 1) {
      const id = `soak-${run}-seed-${n}`;
      const response = await call('POST', '/v1/incidents', { id, title: `Soak seed ${n}`, category: 'other' });
      if (response?.status !== 201) throw new Error(`opening ${id} answered ${response?.status}`);
      incidents.push(id);
      acks.push({ kind: 'opened', incidentId: id, position: response.body.position });
    }

    const started = Date.now();
    const endAt = started + options.seconds * 1000;
    const killAt = [started + (options.seconds * 1000) / 3, started + (2 * options.seconds * 1000) / 3];
    const maxOperations = Math.ceil(options.seconds * options.rate);
    const pending = new Set<Promise<void>>();
    let next = 0;
    let kills = 0;
    const restarts: Promise<void>[] = [];
    // Each kill waits for the API to have served a while since the last restart; a slow restart on a busy machine
    // delays the next kill, and the run goes on past its end (at most 2 minutes) until both kills have happened.
    let servingSince = started;
    const hardEnd = endAt + 120_000;
    const killsPending = () => kills < killAt.length || killing !== undefined;
    while ((Date.now() < endAt && next < maxOperations) || (killsPending() && Date.now() < hardEnd)) {
      const killDue = kills < killAt.length && Date.now() >= Math.max(killAt[kills], servingSince + STEADY_MS);
      if (killDue && !killing) {
        kills += 1;
        const window = { from: Date.now() };
        killing = window;
        restarts.push(
          (async () => {
            await api.kill('SIGKILL');
            await api.start();
            killWindows.push({ from: window.from, to: Date.now() });
            servingSince = Date.now();
            killing = undefined;
          })(),
        );
      }
      if (inFlight >= MAX_IN_FLIGHT) skipped += 1;
      else {
        inFlight += 1;
        const task = operation(next).finally(() => {
          inFlight -= 1;
          pending.delete(task);
        });
        pending.add(task);
      }
      next += 1;
      // Steady rate: the n-th operation is due at n / rate seconds, whatever the last one cost.
      const due = started + (next * 1000) / options.rate;
      if (due > Date.now()) await delay(due - Date.now());
    }
    await Promise.all(restarts);
    await Promise.all(pending);
    const seconds = (Date.now() - started) / 1000;

    // Every acknowledged write must be in the log, at the position it was acknowledged with.
    const log = new Map<number, { type: string; streamId: string; data: Record<string, unknown> }>();
    for (let after = 0; ;) {
      const page = await call('GET', `/v1/events?after=${after}&limit=200`);
      if (page?.status !== 200) throw new Error(`reading the log answered ${page?.status}`);
      for (const event of page.body.items) log.set(event.position, event);
      if (page.body.next === null) break;
      after = page.body.next;
    }
    const missing = acks.filter((ack) => {
      const event = log.get(ack.position);
      return (
        event === undefined ||
        event.streamId !== `incident-${ack.incidentId}` ||
        event.type !== (ack.kind === 'opened' ? 'IncidentOpened' : 'FactRecorded') ||
        (ack.factId !== undefined && event.data.factId !== ack.factId)
      );
    });
    const head = Math.max(0, ...log.keys());

    // Give the SSE readers and the relay a bounded time (a minute) to reach the head.
    const catchUpBy = Date.now() + 60_000;
    let relayLag = kafka ? await api.metric('relay_lag_events') : undefined;
    while (Date.now() < catchUpBy) {
      relayLag = kafka ? await api.metric('relay_lag_events') : undefined;
      if (readers.every((reader) => reader.lastId >= head) && (!kafka || relayLag === 0)) break;
      await delay(200);
    }
    const rssEnd = await api.metric('process_resident_memory_bytes');
    await Promise.all(readers.map((reader) => reader.stop()));

    latencies.sort((a, b) => a - b);
    const summary = {
      seconds: Math.round(seconds),
      rate: options.rate,
      requests,
      skippedAtConcurrencyLimit: skipped,
      statuses: Object.fromEntries([...statuses].sort()),
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      kills: killWindows.length,
      killWindowsMs: killWindows.map((window) => window.to - window.from),
      fivexxOutsideKills,
      connectionErrorsOutsideKills,
      rssStartMb: rssStart === undefined ? null : Math.round(rssStart / 1048576),
      rssEndMb: rssEnd === undefined ? null : Math.round(rssEnd / 1048576),
      acknowledgedWrites: acks.length,
      missingAcknowledgedWrites: missing.length,
      logHead: head,
      sse: readers.map((reader) => ({
        lastId: reader.lastId,
        received: reader.received,
        reconnects: reader.reconnects,
        outOfOrder: reader.outOfOrder,
        caughtUp: reader.lastId >= head,
      })),
      relay: kafka ? { lag: relayLag ?? null, topic: env.KAFKA_TOPIC_EVENTS } : 'off (KAFKA_BROKERS not set)',
      store: env.EVENT_STORE === 'postgres' ? `postgres, schema ${env.DATABASE_SCHEMA}` : (env.EVENT_STORE ?? 'sqlite'),
    };
    print(summary);
    if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (missing.length > 0 || fivexxOutsideKills > 0 || connectionErrorsOutsideKills > 0) process.exitCode = 1;
  } finally {
    await Promise.all(readers.map((reader) => reader.stop()));
    await api.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function print(summary: Record<string, unknown>): void {
  const lines = [
    `soak: ${summary.seconds} s at ${summary.rate} requests/s, ${summary.kills} kills of the API, store ${summary.store}`,
    `requests: ${summary.requests} (skipped at the concurrency limit: ${summary.skippedAtConcurrencyLimit})`,
    `answers by status: ${JSON.stringify(summary.statuses)}`,
    `latency: p50 ${summary.p50Ms} ms, p99 ${summary.p99Ms} ms`,
    `outside the kill windows (${JSON.stringify(summary.killWindowsMs)} ms): ${summary.fivexxOutsideKills} 5xx, ` +
      `${summary.connectionErrorsOutsideKills} connection errors`,
    `API RSS: ${summary.rssStartMb} MiB at the start, ${summary.rssEndMb} MiB at the end (after the last restart)`,
    `acknowledged writes: ${summary.acknowledgedWrites}, missing from the log: ${summary.missingAcknowledgedWrites}` +
      (summary.missingAcknowledgedWrites === 0 ? ' (every acknowledged write is present)' : ''),
    `SSE readers: ${JSON.stringify(summary.sse)}`,
    `relay: ${JSON.stringify(summary.relay)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
