import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(__dirname, '..', '..');
const run = promisify(execFile);

/**
 * Compiles the project with tsc + tsc-alias into a fresh directory under .cache/ (inside the repository, so
 * node_modules resolves; git-ignored), never into dist/, which `npm run build` may be rewriting at the same time.
 * Type errors do not stop tsc from emitting; they are the typecheck's to report. Returns the relay's entry point.
 */
export async function buildRelay(): Promise<{ entry: string; dir: string }> {
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, '.cache', 'relay-build-'));
  const tsc = require.resolve('typescript/bin/tsc');
  const tscAlias = require.resolve('tsc-alias/dist/bin/index.js');
  const compiled = await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', dir], {
    cwd: ROOT,
  }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }));
  const entry = join(dir, 'apps', 'relay', 'src', 'main.js');
  if (!existsSync(entry)) throw new Error(`tsc emitted no ${entry}:\n${compiled.stdout}`);
  await run(process.execPath, [tscAlias, '-p', 'tsconfig.build.json', '--outDir', dir], { cwd: ROOT });
  return { entry, dir };
}

/** The relay as its own process (apps/relay), with its health endpoint on a free port. */
export class RelayProcess {
  private output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    this.exited = new Promise((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })));
  }

  static async spawn(entry: string, env: Record<string, string>): Promise<RelayProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, [entry], {
      cwd: ROOT,
      env: { ...process.env, EVENT_STORE: 'sqlite', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new RelayProcess(child, `http://127.0.0.1:${port}`);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get log(): string {
    return this.output.slice(-4000);
  }

  /** The relay's readiness report, or undefined while it does not answer. */
  async health(): Promise<{ status: number; body: any } | undefined> {
    try {
      const response = await fetch(`${this.baseUrl}/health/ready`);
      return { status: response.status, body: await response.json() };
    } catch {
      return undefined;
    }
  }

  /** Polls /health/ready until `condition` holds; fails if the process exits or time runs out. */
  async until(condition: (health: { status: number; body: any }) => boolean, what: string, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    let last: { status: number; body: any } | undefined;
    while (Date.now() < deadline) {
      if (!this.alive) throw new Error(`the relay exited while waiting for ${what}:\n${this.log}`);
      last = await this.health();
      if (last && condition(last)) return last;
      await new Promise((wake) => setTimeout(wake, 100));
    }
    throw new Error(`${what}: not within ${timeoutMs} ms; last ${JSON.stringify(last)}\n${this.log}`);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL') {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }
}

/** A port nothing listens on right now: bind port 0, read what the kernel chose, release it. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolvePort(port));
    });
  });
}
