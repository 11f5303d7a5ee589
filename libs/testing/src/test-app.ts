import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type AppConfig } from '@app/config';
import { createApp } from '../../../apps/api/src/app.factory';

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  baseUrl: string;
  dataDir: string;
  /** Closes the app; removes the data directory unless it was given. */
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Reuse a data directory (to test restarts); a fresh temporary one otherwise. */
  dataDir?: string;
  env?: Record<string, string>;
}

/** The real application on a free loopback port, with its own data directory. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'incident-timeline-'));
  const config = loadConfig({
    ...(process.env.EVENT_STORE && { EVENT_STORE: process.env.EVENT_STORE }),
    ...(process.env.DATABASE_URL && { DATABASE_URL: process.env.DATABASE_URL }),
    ...(process.env.EVENTSTORE_CONNECTION_STRING && {
      EVENTSTORE_CONNECTION_STRING: process.env.EVENTSTORE_CONNECTION_STRING,
    }),
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    READ_MODEL_WAIT_MS: '5000',
    ...options.env,
  });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    config,
    baseUrl: `http://127.0.0.1:${address.port}`,
    dataDir,
    close: async () => {
      await app.close();
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
