import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { mintLocalToken, SCOPES } from '@app/auth';
import { loadConfig } from '@app/config';
import { ApiClient } from '@app/testing';
import { readEventLog, type LoggedEvent } from './support/event-log';

/**
 * Durability under kill -9: the real server process (built with tsc, started with node) takes a stream of sequential
 * and concurrent writes, is killed without warning mid-stream, and restarted on the same DATA_DIR. Every write it
 * acknowledged (2xx with a position) must be in the log at that position, and the read models must catch up to it.
 *
 * Build: always a fresh `tsc -p tsconfig.build.json` + `tsc-alias` into a temporary outDir under `.cache/` (inside
 * the repository, so `node_modules` resolves; git-ignored). It never reads or replaces `dist/`, which `npm run build`
 * deletes first (a race with anything else using it) and which an mtime check can wrongly call fresh (new untracked
 * files, changed config or dependencies). Type errors do not stop tsc from emitting; they are the typecheck's to
 * report, so the suite runs whatever tsc emitted.
 */

const ROOT = resolve(__dirname, '..');
const run = promisify(execFile);

interface Ack {
  kind: 'opened' | 'fact';
  incidentId: string;
  version: number;
  position: number;
  factId?: string;
}

class ServerProcess {
  private output = '';
  readonly exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    this.exited = new Promise((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Its output, for failure messages. */
  get log(): string {
    return this.output.slice(-4000);
  }

  static async start(entry: string, dataDir: string): Promise<ServerProcess> {
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const child = spawn(process.execPath, [entry], {
        cwd: ROOT,
        env: {
          ...process.env,
          HOST: '127.0.0.1',
          PORT: String(port),
          DATA_DIR: dataDir,
          LOG_LEVEL: 'warn',
          // The writers share one principal and write as fast as they can.
          RATE_LIMIT_PER_MINUTE: '0',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const server = new ServerProcess(child, `http://127.0.0.1:${port}`);
      try {
        await server.ready();
        return server;
      } catch (error) {
        await server.kill();
        // The port was free when probed, but another process may have taken it since: try another one.
        if (attempt === 3 || !server.log.includes('EADDRINUSE')) throw error;
      }
    }
  }

  /** Polls the readiness probe, as an orchestrator would, until it answers 200; fails if the process exits. */
  private async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.alive) throw new Error(`the server exited before it was ready:\n${this.log}`);
      const status = await fetch(`${this.baseUrl}/health/ready`).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) return;
      await Promise.race([new Promise((wake) => setTimeout(wake, 100)), this.exited]);
    }
    throw new Error(`the server was not ready within ${timeoutMs} ms:\n${this.log}`);
  }

  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** A port nothing listens on right now: bind port 0, read what the kernel chose, release it. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolvePort(port));
    });
  });
}

describe('kill -9 mid-stream (e2e, real process)', () => {
  let buildDir: string;
  let dataDir: string;
  let entry: string;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    mkdirSync(join(ROOT, '.cache'), { recursive: true });
    buildDir = mkdtempSync(join(ROOT, '.cache', 'crash-build-'));
    dataDir = mkdtempSync(join(tmpdir(), 'incident-crash-'));
    const tsc = require.resolve('typescript/bin/tsc');
    const tscAlias = require.resolve('tsc-alias/dist/bin/index.js');
    const compiled = await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', buildDir], {
      cwd: ROOT,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }));
    entry = join(buildDir, 'apps', 'api', 'src', 'main.js');
    if (!existsSync(entry)) throw new Error(`tsc emitted no ${entry}:\n${compiled.stdout}`);
    await run(process.execPath, [tscAlias, '-p', 'tsconfig.build.json', '--outDir', buildDir], { cwd: ROOT });
  }, 300_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.kill()));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  });

  async function start(): Promise<ServerProcess> {
    const server = await ServerProcess.start(entry, dataDir);
    servers.push(server);
    return server;
  }

  it('keeps every acknowledged write and catches the read models up after a restart', async () => {
    const first = await start();
    // A token of the local issuer, whose key pair the first start created under DATA_DIR.
    const token = await mintLocalToken({
      dataDir,
      audience: loadConfig({ DATA_DIR: dataDir }).auth.audience,
      sub: 'crash-writer',
      scopes: [...SCOPES],
      ttlSeconds: 3600,
    });
    const api = new ApiClient(first.baseUrl, token);
    const killAfter = 50 + Math.floor(Math.random() * 101);
    const acks: Ack[] = [];
    let killed: Promise<void> | undefined;
    let inFlightAtKill = 0;
    let inFlight = 0;

    const acknowledged = (ack: Ack) => {
      acks.push(ack);
      if (acks.length === killAfter) {
        inFlightAtKill = inFlight - 1;
        killed = first.kill();
      }
    };

    /** One write; false once the server is gone (an unacknowledged write, which may or may not have landed). */
    async function write(kind: Ack['kind'], incidentId: string, summary: string): Promise<boolean> {
      if (killed) return false;
      inFlight += 1;
      try {
        const response =
          kind === 'opened'
            ? await api.post('/v1/incidents', { id: incidentId, title: `Crash ${incidentId}`, category: 'other' })
            : await api.post(`/v1/incidents/${incidentId}/facts`, { kind: 'other', occurredAt: '2024', summary });
        // A 503 (four writers kept racing for the shared stream) is an honest "not written, retry": no ack.
        if (response.status === 503) return true;
        if (response.status !== 201)
          throw new Error(`${kind} ${incidentId}: ${response.status} ${JSON.stringify(response.body)}`);
        acknowledged({
          kind,
          incidentId,
          version: response.body.version,
          position: response.body.position,
          ...(kind === 'fact' && { factId: response.body.factId }),
        });
        return true;
      } catch (error) {
        if (killed) return false;
        throw error;
      } finally {
        inFlight -= 1;
      }
    }

    expect(await write('opened', 'crash-shared', '')).toBe(true);
    /** Each worker opens its own incidents and records facts on them, and on the shared one that all contend for. */
    async function worker(w: number): Promise<void> {
      for (let n = 0; !killed; n += 1) {
        const own = `crash-w${w}-${n}`;
        if (!(await write('opened', own, ''))) return;
        for (let f = 0; f < 4; f += 1) {
          if (!(await write('fact', own, `worker ${w} incident ${n} fact ${f}`))) return;
          if (!(await write('fact', 'crash-shared', `worker ${w} shared ${n}.${f}`))) return;
        }
      }
    }
    await Promise.all([0, 1, 2, 3].map(worker));
    await killed;
    expect(first.alive).toBe(false);
    // Responses already on their way when the signal went out are acknowledgements too.
    expect(acks.length).toBeGreaterThanOrEqual(killAfter);

    const second = await start();
    const after = new ApiClient(second.baseUrl, token);
    // Only this suite's streams: a server store (EVENT_STORE=postgres) may hold other suites' events as well.
    const log = (await readEventLog(after)).filter((event) => event.streamId.startsWith('incident-crash-'));
    const byPosition = new Map<number, LoggedEvent>(log.map((event) => [event.position, event]));

    const missing = acks.filter((ack) => {
      const event = byPosition.get(ack.position);
      return (
        event === undefined ||
        event.streamId !== `incident-${ack.incidentId}` ||
        event.version !== ack.version ||
        event.type !== (ack.kind === 'opened' ? 'IncidentOpened' : 'FactRecorded') ||
        (ack.factId !== undefined && event.data.factId !== ack.factId)
      );
    });
    expect({ killAfter, missing }).toEqual({ killAfter, missing: [] });

    // The log itself is whole: positions strictly increase, each stream's versions are 0..n without gaps.
    expect(log.map((event) => event.position)).toEqual([...log.map((event) => event.position)].sort((a, b) => a - b));
    expect(new Set(log.map((event) => event.position)).size).toBe(log.length);
    const versions = new Map<string, number[]>();
    for (const event of log) versions.set(event.streamId, [...(versions.get(event.streamId) ?? []), event.version]);
    for (const [streamId, list] of versions)
      expect({ streamId, list }).toEqual({ streamId, list: list.map((_, i) => i) });
    // At most the writes in flight at the kill landed without an acknowledgement.
    expect(log.length - acks.length).toBeLessThanOrEqual(inFlightAtKill);
    expect(log.length).toBeGreaterThanOrEqual(acks.length);

    const maxPosition = Math.max(...acks.map((ack) => ack.position));
    const incidents = [...new Set(acks.map((ack) => ack.incidentId))];
    for (const id of incidents) {
      const record = await after.get(`/v1/incidents/${id}?minPosition=${maxPosition}`);
      expect({ id, status: record.status }).toEqual({ id, status: 200 });
      const ackedFacts = acks.filter((ack) => ack.incidentId === id && ack.kind === 'fact').map((ack) => ack.factId);
      const timeline = (record.body.timeline as Array<{ factId: string }>).map((fact) => fact.factId);
      expect({ id, missingFromTimeline: ackedFacts.filter((factId) => !timeline.includes(factId!)) }).toEqual({
        id,
        missingFromTimeline: [],
      });
      const ackedVersion = Math.max(...acks.filter((ack) => ack.incidentId === id).map((ack) => ack.version));
      expect(record.body.version).toBeGreaterThanOrEqual(ackedVersion);
    }

    // And the restarted process writes on at the next version.
    const shared = await after.get('/v1/incidents/crash-shared');
    const next = await after.post('/v1/incidents/crash-shared/facts', {
      kind: 'other',
      occurredAt: '2024',
      summary: 'after the restart',
    });
    expect(next.status).toBe(201);
    expect(next.body.version).toBe(shared.body.version + 1);
    expect(next.body.position).toBeGreaterThan(log[log.length - 1].position);
  }, 120_000);
});
