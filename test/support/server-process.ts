import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(__dirname, '..', '..');
const run = promisify(execFile);

/**
 * A fresh build of the API into a temporary folder under `.cache/` (inside the repository, so `node_modules`
 * resolves; git-ignored), never touching `dist/`. Returns the entry point and a cleanup.
 */
export async function buildServer(prefix: string): Promise<{ entry: string; dispose: () => void }> {
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  const outDir = mkdtempSync(join(ROOT, '.cache', `${prefix}-build-`));
  const tsc = require.resolve('typescript/bin/tsc');
  const tscAlias = require.resolve('tsc-alias/dist/bin/index.js');
  const compiled = await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], {
    cwd: ROOT,
  }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }));
  const entry = join(outDir, 'apps', 'api', 'src', 'main.js');
  if (!existsSync(entry)) throw new Error(`tsc emitted no ${entry}:\n${compiled.stdout}`);
  await run(process.execPath, [tscAlias, '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: ROOT });
  return { entry, dispose: () => rmSync(outDir, { recursive: true, force: true }) };
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

/** The real API as a child process, started with the given environment and polled until ready. */
export class ServerProcess {
  private output = '';
  readonly exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output = (this.output + chunk.toString('utf8')).slice(-20_000)));
    child.stderr?.on('data', (chunk: Buffer) => (this.output = (this.output + chunk.toString('utf8')).slice(-20_000)));
    this.exited = new Promise((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get log(): string {
    return this.output.slice(-4000);
  }

  static async start(entry: string, env: Record<string, string>): Promise<ServerProcess> {
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const child = spawn(process.execPath, [entry], {
        cwd: ROOT,
        env: {
          ...process.env,
          HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
          RATE_LIMIT_PER_MINUTE: '0',
          ...env,
          PORT: String(port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const server = new ServerProcess(child, `http://127.0.0.1:${port}`);
      try {
        await server.ready();
        return server;
      } catch (error) {
        await server.kill();
        if (attempt === 3 || !server.log.includes('EADDRINUSE')) throw error;
      }
    }
  }

  private async ready(timeoutMs = 60_000): Promise<void> {
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

  async health(): Promise<{ status: number; body: { checks?: { projections?: { projector?: boolean } } } }> {
    const response = await fetch(`${this.baseUrl}/health/ready`);
    return { status: response.status, body: (await response.json()) as never };
  }

  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }
}
