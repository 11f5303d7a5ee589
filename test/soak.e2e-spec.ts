import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { dropSchema, freshSchemaName } from '../libs/event-store/src/contract/postgres.fixture';
import { buildProject } from './support/api-process';

const SECONDS = 30;
const ON_POSTGRES = process.env.EVENT_STORE === 'postgres';

/**
 * The soak run (`npm run soak`), 30 s of it: the compiled bench/soak.js drives the real API process on loopback
 * (mixed reads and writes, two SSE readers, the relay when KAFKA_BROKERS is set) and kills and restarts it twice.
 * Its JSON summary must show no 5xx and no refused connection outside the two kill windows, every acknowledged
 * write in the log, and SSE readers that resumed through both kills to the head of the log in order.
 */
describe(`soak smoke: ${SECONDS} s with two kills of the API (e2e, real process)`, () => {
  let buildDir: string;
  let soak: string;
  // On PostgreSQL the run writes to a schema of its own, dropped afterwards.
  const schema = freshSchemaName();

  beforeAll(async () => {
    ({ dir: buildDir } = await buildProject('soak'));
    soak = join(buildDir, 'bench', 'soak.js');
    if (!existsSync(soak)) throw new Error(`tsc emitted no ${soak}`);
  }, 300_000);

  afterAll(async () => {
    if (ON_POSTGRES) await dropSchema(schema);
    if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  });

  it('loses no acknowledged write and answers no 5xx outside the kill windows', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        execFile(
          process.execPath,
          [soak, '--seconds', String(SECONDS), '--rate', '40', '--json'],
          {
            timeout: 240_000,
            maxBuffer: 16 * 1024 * 1024,
            env: { ...process.env, ...(ON_POSTGRES && { DATABASE_SCHEMA: schema }) },
          },
          (error, out, err) =>
            resolve({ code: error ? ((error.code as number | null) ?? 1) : 0, stdout: out, stderr: err }),
        );
      },
    );
    const last = stdout.trim().split('\n').pop() ?? '';
    expect({ code, stderr: stderr.slice(-2000), summary: last.startsWith('{') }).toEqual({
      code: 0,
      stderr: expect.any(String),
      summary: true,
    });
    const summary = JSON.parse(last);
    expect(summary).toMatchObject({
      kills: 2,
      fivexxOutsideKills: 0,
      connectionErrorsOutsideKills: 0,
      missingAcknowledgedWrites: 0,
    });
    expect(summary.acknowledgedWrites).toBeGreaterThan(0);
    expect(summary.statuses['200']).toBeGreaterThan(0);
    for (const reader of summary.sse) expect(reader).toMatchObject({ caughtUp: true, outOfOrder: 0 });
    if (process.env.KAFKA_BROKERS) expect(summary.relay).toMatchObject({ lag: 0 });
  }, 360_000);
});
