import { ApiClient, startTestApp, type ApiResponse, type TestApp } from '@app/testing';
import {
  describePostgres,
  dropSchema,
  freshSchemaName,
  TEST_DATABASE_URL,
} from '../libs/event-store/src/contract/postgres.fixture';
import { readEventLog } from './support/event-log';

const RACERS = 50;

/**
 * 50 requests to open the same incident id, all in flight at once, each with its own title: exactly one is created
 * (201), the other 49 are 409 `already-exists`, and the log holds exactly one event for the id, the winner's.
 */
async function raceOpens(clients: ApiClient[], id: string): Promise<void> {
  const responses: ApiResponse[] = await Promise.all(
    Array.from({ length: RACERS }, (_, n) =>
      clients[n % clients.length].post('/v1/incidents', { id, title: `Racer ${n}`, category: 'other' }),
    ),
  );
  const statuses = responses.map((response) => response.status);
  expect({
    created: statuses.filter((s) => s === 201).length,
    conflicts: statuses.filter((s) => s === 409).length,
  }).toEqual({
    created: 1,
    conflicts: RACERS - 1,
  });
  for (const response of responses.filter((r) => r.status === 409)) {
    expect(response.contentType).toContain('application/problem+json');
    expect(response.body).toMatchObject({ status: 409, rule: 'already-exists', id });
  }
  const winner = responses.findIndex((response) => response.status === 201);
  expect(responses[winner].body).toMatchObject({ id, version: 0 });

  const log = (await readEventLog(clients[0])).filter((event) => event.streamId === `incident-${id}`);
  expect(log.map(({ type, version, data }) => ({ type, version, title: data.title }))).toEqual([
    { type: 'IncidentOpened', version: 0, title: `Racer ${winner}` },
  ]);
  expect(log[0].position).toBe(responses[winner].body.position);
}

describe('racing opens of one id on SQLite (e2e)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ env: { EVENT_STORE: 'sqlite' } });
  });

  afterAll(async () => {
    await app?.close();
  });

  it(`opens it once: 1 × 201, ${RACERS - 1} × 409, one event`, async () => {
    await raceOpens([new ApiClient(app.baseUrl, app.adminToken)], 'race-sqlite');
  });
});

describePostgres('racing opens of one id on PostgreSQL, through two API instances (e2e)', () => {
  const schema = freshSchemaName();
  const apps: TestApp[] = [];

  beforeAll(async () => {
    // Two instances on one schema, as two replicas would be: each its own pool and stream cache.
    const env = { EVENT_STORE: 'postgres', DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema };
    apps.push(await startTestApp({ env }));
    apps.push(await startTestApp({ env }));
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await dropSchema(schema);
  });

  it(`opens it once: 1 × 201, ${RACERS - 1} × 409, one event`, async () => {
    // Each instance trusts its own local issuer, so each client carries its instance's token.
    await raceOpens(
      apps.map((app) => new ApiClient(app.baseUrl, app.adminToken)),
      'race-postgres',
    );
  });
});
