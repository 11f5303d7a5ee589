/**
 * Servers for the HTTP comparisons: each runs as a child process on loopback (so the load generator in the bench
 * process does not share its event loop), with its own data directory, and is stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface Service {
  base: string;
  process: ChildProcess;
}

export const API_MAIN = 'dist/apps/api/src/main.js';

/** A loopback port nothing listens on (free when asked; a server started right after gets it). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/** Starts `node <script>` with the environment given and waits until `readyPath` answers 2xx. */
export async function startService(
  script: string,
  options: { cwd: string; env?: Record<string, string>; readyPath?: string },
): Promise<Service> {
  const port = await freePort();
  const child = spawn(process.execPath, [script], {
    cwd: options.cwd,
    stdio: 'ignore',
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), ...options.env },
  });
  const base = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 300; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`${script}: exited with ${child.exitCode}`);
    const ready = await fetch(`${base}${options.readyPath ?? '/health/ready'}`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return { base, process: child };
    await new Promise((done) => setTimeout(done, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${script}: not ready within 30 s`);
}

/** The service's API (built under `root`) on SQLite in `dataDir`, without authentication or rate limits. */
export function startApi(root: string, dataDir: string, env: Record<string, string> = {}): Promise<Service> {
  return startService(join(root, API_MAIN), {
    cwd: root,
    env: {
      EVENT_STORE: 'sqlite',
      DATA_DIR: dataDir,
      AUTH: 'off',
      LOG_LEVEL: 'error',
      RATE_LIMIT_PER_MINUTE: '0',
      ANONYMOUS_RATE_LIMIT_PER_MINUTE: '0',
      ...env,
    },
  });
}

export async function stopService(service: Service): Promise<void> {
  if (service.process.exitCode !== null || service.process.signalCode !== null) return;
  const exited = new Promise((done) => service.process.once('exit', done));
  service.process.kill('SIGTERM');
  await exited;
}

/** Sends one JSON request; anything but 2xx throws with the answer's start. */
export async function send(base: string, method: string, path: string, body?: unknown): Promise<string> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 200)}`);
  return text;
}
