import type { INestApplication, LoggerService } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintLocalToken, SCOPES, type Scope } from '@app/auth';
import { loadConfig, type AppConfig } from '@app/config';
import { createApp } from '../../../apps/api/src/app.factory';

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  baseUrl: string;
  dataDir: string;
  /**
   * A token with every scope from the app's local issuer (its key pair lives in the test's DATA_DIR); empty when the
   * app trusts no local issuer (AUTH=off, AUTH_LOCAL_ISSUER=false).
   */
  adminToken: string;
  /** A token from the local issuer: every scope unless given, subject `tester` unless given. */
  token(scopes?: Scope[], sub?: string, ttlSeconds?: number): Promise<string>;
  /** Closes the app; removes the data directory unless it was given. */
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Reuse a data directory (to test restarts); a fresh temporary one otherwise. */
  dataDir?: string;
  env?: Record<string, string>;
  /** Receives the application's logs (none by default). */
  logger?: LoggerService;
}

/** The real application on a free loopback port, with its own data directory. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'incident-timeline-'));
  const config = loadConfig({
    ...(process.env.EVENT_STORE && { EVENT_STORE: process.env.EVENT_STORE }),
    ...(process.env.DATABASE_URL && { DATABASE_URL: process.env.DATABASE_URL }),
    // On a shared PostgreSQL database each data directory gets a schema of its own, so every app starts empty and a
    // restart on the same directory finds its events again.
    DATABASE_SCHEMA: `e2e_${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`,
    ...(process.env.EVENTSTORE_CONNECTION_STRING && {
      EVENTSTORE_CONNECTION_STRING: process.env.EVENTSTORE_CONNECTION_STRING,
    }),
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    // Generous: on PostgreSQL a writing transaction anywhere on the server (another suite's) delays what readers see.
    READ_MODEL_WAIT_MS: '20000',
    // Suites fire many requests with one token; the rate-limit suite turns the limit on.
    RATE_LIMIT_PER_MINUTE: '0',
    ANONYMOUS_RATE_LIMIT_PER_MINUTE: '0',
    ...options.env,
  });
  const app = await createApp(config, { logger: options.logger ?? false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const token = (scopes: Scope[] = [...SCOPES], sub = 'tester', ttlSeconds = 3600) =>
    mintLocalToken({ dataDir, audience: config.auth.audience, sub, scopes, ttlSeconds });
  return {
    app,
    config,
    baseUrl: `http://127.0.0.1:${address.port}`,
    dataDir,
    adminToken: config.auth.enabled && config.auth.localIssuer ? await token([...SCOPES], 'test-admin') : '',
    token,
    close: async () => {
      await app.close();
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
