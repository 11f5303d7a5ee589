import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient, type ApiResponse } from '@app/testing';
import { dropSchema, freshSchemaName, TEST_DATABASE_URL } from '../libs/event-store/src/contract/postgres.fixture';
import { ApiProcess, buildProject, localAdminToken, lostConnection } from './support/api-process';
import { readEventLog } from './support/event-log';

const WORKERS = 8;
const PER_WORKER = 10;
const KILL_AFTER = 30;
const ON_POSTGRES = process.env.EVENT_STORE === 'postgres';

interface Keyed {
  key: string;
  path: string;
  body: Record<string, unknown>;
  /** How to find its event in the log. */
  matches: (event: { type: string; streamId: string; data: Record<string, unknown> }) => boolean;
}

/**
 * Idempotency-Key retries across a crash: 8 clients send keyed commands (opens, and facts on an incident of their
 * own) to the real server process, which is killed with SIGKILL mid-stream, so some requests were in flight: written
 * or not, their answer is lost. After a restart every request is sent again with its key and body: each answers 201,
 * an acknowledged one replays its first answer, and the log holds exactly one event per key.
 */
describe(`Idempotency-Key retried after kill -9 on ${ON_POSTGRES ? 'PostgreSQL' : 'SQLite'} (e2e, real process)`, () => {
  let buildDir: string;
  let dataDir: string;
  let entry: string;
  const schema = freshSchemaName();
  const env: Record<string, string> = ON_POSTGRES
    ? { EVENT_STORE: 'postgres', DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema }
    : { EVENT_STORE: 'sqlite' };
  const servers: ApiProcess[] = [];

  beforeAll(async () => {
    ({ dir: buildDir, apiEntry: entry } = await buildProject('idempotency'));
    dataDir = mkdtempSync(join(tmpdir(), 'incident-idempotency-'));
  }, 300_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.kill()));
    if (ON_POSTGRES) await dropSchema(schema);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  });

  async function start(): Promise<ApiProcess> {
    const server = await ApiProcess.start(entry, dataDir, env);
    servers.push(server);
    return server;
  }

  it('appends exactly one event per key, and replays every acknowledged answer', async () => {
    const first = await start();
    const token = await localAdminToken(dataDir, 'idempotent-writer');
    let api = new ApiClient(first.baseUrl, token);
    const run = randomUUID().slice(0, 8);

    // Worker w opens incidents of its own and records facts on idem-<run>-w, so no two workers contend for a stream.
    const work: Keyed[][] = [];
    for (let w = 0; w < WORKERS; w += 1) {
      const home = `idem-${run}-${w}`;
      expect((await api.post('/v1/incidents', { id: home, title: `Home ${w}`, category: 'other' })).status).toBe(201);
      work.push(
        Array.from({ length: PER_WORKER }, (_, n): Keyed => {
          const key = `key-${run}-${w}-${n}`;
          if (n % 3 === 0) {
            const id = `idem-${run}-${w}-open-${n}`;
            return {
              key,
              path: '/v1/incidents',
              body: { id, title: `Opened ${w}.${n}`, category: 'other' },
              matches: (event) => event.type === 'IncidentOpened' && event.streamId === `incident-${id}`,
            };
          }
          const summary = `worker ${w} fact ${n} (${run})`;
          return {
            key,
            path: `/v1/incidents/${home}/facts`,
            body: { kind: 'other', occurredAt: '2024', summary },
            matches: (event) => event.type === 'FactRecorded' && event.data.summary === summary,
          };
        }),
      );
    }

    const send = (request: Keyed) =>
      api.post(request.path, request.body, { headers: { 'idempotency-key': request.key } });
    const acknowledged = new Map<string, ApiResponse>();
    /** Requests whose connection the kill cut or refused: written or not, their answer is lost. */
    const lost: Keyed[] = [];
    let killed: Promise<void> | undefined;

    // Each worker keeps sending until the dead process fails one of its requests, so the kill always cuts some off,
    // however quickly the requests in flight when it was sent are answered.
    await Promise.all(
      work.map(async (requests) => {
        for (const request of requests) {
          let response: ApiResponse;
          try {
            response = await send(request);
          } catch (error) {
            if (killed && lostConnection(error)) {
              lost.push(request);
              return;
            }
            throw error;
          }
          expect({ key: request.key, status: response.status }).toEqual({ key: request.key, status: 201 });
          acknowledged.set(request.key, response);
          if (acknowledged.size === KILL_AFTER) killed = first.kill();
        }
      }),
    );
    await killed;
    expect(first.alive).toBe(false);
    expect(lost.length).toBeGreaterThan(0);

    const second = await start();
    api = new ApiClient(second.baseUrl, token);
    const all = work.flat();
    // Every request again, all at once: each answers 201; an acknowledged one replays its first answer exactly.
    const retried = await Promise.all(all.map(send));
    const wrong = all.flatMap((request, i): unknown[] => {
      const response = retried[i];
      const before = acknowledged.get(request.key);
      if (response.status !== 201) return [{ key: request.key, status: response.status, body: response.body }];
      if (
        before &&
        (JSON.stringify(response.body) !== JSON.stringify(before.body) ||
          response.headers.get('idempotent-replayed') !== 'true')
      )
        return [{ key: request.key, before: before.body, after: response.body }];
      return [];
    });
    expect(wrong).toEqual([]);
    // And once more: now every one of them replays.
    const again = await Promise.all(all.map(send));
    expect(again.map((response) => response.headers.get('idempotent-replayed'))).toEqual(all.map(() => 'true'));
    expect(again.map((response) => response.body)).toEqual(retried.map((response) => response.body));

    const log = await readEventLog(api);
    const counts = all.map((request) => ({ key: request.key, events: log.filter(request.matches).length }));
    expect(counts.filter((count) => count.events !== 1)).toEqual([]);
  }, 180_000);
});
