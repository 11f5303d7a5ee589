import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { mintLocalToken, SCOPES } from '@app/auth';
import { loadConfig } from '@app/config';
import { freePort } from '../kafka/relay-process';

const ROOT = resolve(__dirname, '..', '..');
const run = promisify(execFile);

/**
 * Compiles the project with tsc + tsc-alias into a fresh directory under .cache/ (inside the repository, so
 * node_modules resolves; git-ignored). It never reads or replaces dist/, which `npm run build` deletes first (a race
 * with anything else using it) and which an mtime check can wrongly call fresh. Type errors do not stop tsc from
 * emitting; they are the typecheck's to report, so the suites run whatever tsc emitted. `dir` is the output root
 * (apps/, libs/, bench/ below it).
 */
export async function buildProject(prefix: string): Promise<{ dir: string; apiEntry: string }> {
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, '.cache', `${prefix}-build-`));
  const tsc = require.resolve('typescript/bin/tsc');
  const tscAlias = require.resolve('tsc-alias/dist/bin/index.js');
  const compiled = await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', dir], {
    cwd: ROOT,
  }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }));
  const apiEntry = join(dir, 'apps', 'api', 'src', 'main.js');
  if (!existsSync(apiEntry)) throw new Error(`tsc emitted no ${apiEntry}:\n${compiled.stdout}`);
  await run(process.execPath, [tscAlias, '-p', 'tsconfig.build.json', '--outDir', dir], { cwd: ROOT });
  return { dir, apiEntry };
}

/** The API as a real process (`node apps/api/src/main.js`), on a free loopback port, ready when `start` resolves. */
export class ApiProcess {
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

  static async start(entry: string, dataDir: string, env: Record<string, string> = {}): Promise<ApiProcess> {
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
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const server = new ApiProcess(child, `http://127.0.0.1:${port}`);
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

/** A token with every scope from the local issuer whose key pair a started API created under `dataDir`. */
export function localAdminToken(dataDir: string, sub: string): Promise<string> {
  return mintLocalToken({
    dataDir,
    audience: loadConfig({ DATA_DIR: dataDir }).auth.audience,
    sub,
    scopes: [...SCOPES],
    ttlSeconds: 3600,
  });
}

/**
 * True for a request that never got an answer because the server went away (connection refused, reset or closed
 * mid-response): such a write may or may not have landed. Any other failure is a real error.
 */
export function lostConnection(error: unknown): boolean {
  // By shape, not instanceof: fetch's errors come from Node's own realm, not from the test's.
  const failure = error as { name?: string; message?: string; cause?: { code?: string } } | undefined;
  if (failure?.name !== 'TypeError' || failure.message !== 'fetch failed') return false;
  const code = failure.cause?.code;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE';
}
