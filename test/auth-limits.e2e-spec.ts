import { LIMITS } from '@app/domain';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { ApiClient, startTestApp, type TestApp } from '@app/testing';

const LIMIT = 5;

describe('rate limit per principal (e2e)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
  });

  afterAll(async () => {
    await app.close();
  });

  const headPosition = async () => Number(await app.app.get<EventStore>(EVENT_STORE).headPosition());

  it('answers 429 with Retry-After past the limit, across routes, appending nothing; another principal is unaffected', async () => {
    const alice = new ApiClient(app.baseUrl, await app.token(['incidents:read', 'incidents:write'], 'alice'));
    const bob = new ApiClient(app.baseUrl, await app.token(['incidents:read', 'incidents:write'], 'bob'));
    expect((await alice.post('/v1/incidents', { id: 'limited', title: 'Limited', category: 'other' })).status).toBe(
      201,
    );
    for (let i = 1; i < LIMIT; i += 1) {
      const response = i % 2 === 0 ? await alice.get('/v1/events') : await alice.get('/v1/incidents');
      expect(response.status).toBe(200);
    }
    const before = await headPosition();
    const refused = await alice.post('/v1/incidents/limited/status', { status: 'investigating' });
    expect(refused.status).toBe(429);
    expect(refused.contentType).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ status: 429, type: 'urn:incident-timeline:problem:too-many-requests' });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 60).toBe(true);
    expect(await headPosition()).toBe(before);
    expect((await alice.get('/v1/incidents')).status).toBe(429);

    // Same address, another principal: its own budget.
    expect((await bob.get('/v1/incidents')).status).toBe(200);
    expect((await bob.post('/v1/incidents/limited/status', { status: 'investigating' })).status).toBe(200);
  });

  it('is counted per issuer and subject, not per token: a fresh token for the same subject is still limited', async () => {
    const carol = () => app.token(['incidents:read'], 'carol');
    for (let i = 0; i < LIMIT; i += 1) {
      expect((await new ApiClient(app.baseUrl, await carol()).get('/v1/events')).status).toBe(200);
    }
    expect((await new ApiClient(app.baseUrl, await carol()).get('/v1/events')).status).toBe(429);
  });

  it('does not limit the open health probes', async () => {
    const anonymous = new ApiClient(app.baseUrl);
    for (let i = 0; i < LIMIT + 3; i += 1) expect((await anonymous.get('/health/live')).status).toBe(200);
  });
});

describe('bounded arrays and page sizes (e2e)', () => {
  let app: TestApp;
  let api: ApiClient;

  beforeAll(async () => {
    app = await startTestApp();
    api = new ApiClient(app.baseUrl, app.adminToken);
    await api.post('/v1/incidents', { id: 'bounded', title: 'Bounded', category: 'other' });
  });

  afterAll(async () => {
    await app.close();
  });

  const names = (count: number) => Array.from({ length: count }, (_, i) => `name ${i}`);
  const fields = (body: { errors?: { field: string }[] }) => (body.errors ?? []).map((error) => error.field);

  it.each([
    ['victims', LIMITS.victims],
    ['threatActors', LIMITS.threatActors],
  ])(
    'refuses more than the allowed %s (%i) when opening an incident, and accepts exactly that many',
    async (field, max) => {
      const over = await api.post('/v1/incidents', {
        id: `over-${field.toLowerCase()}`,
        title: 't',
        category: 'other',
        [field]: names(max + 1),
      });
      expect(over.status).toBe(400);
      expect(fields(over.body)).toContain(field);
      const at = await api.post('/v1/incidents', {
        id: `at-${field.toLowerCase()}`,
        title: 't',
        category: 'other',
        [field]: names(max),
      });
      expect(at.status).toBe(201);
    },
  );

  it(`refuses more than ${LIMITS.sourcesPerFact} sources and ${LIMITS.actorsPerFact} actors per fact`, async () => {
    const fact = { kind: 'other', occurredAt: '2023', summary: 'x' };
    const sources = (count: number) => Array.from({ length: count }, (_, i) => ({ url: `https://example.org/${i}` }));
    const tooManySources = await api.post('/v1/incidents/bounded/facts', {
      ...fact,
      sources: sources(LIMITS.sourcesPerFact + 1),
    });
    expect(tooManySources.status).toBe(400);
    expect(fields(tooManySources.body)).toContain('sources');
    const tooManyActors = await api.post('/v1/incidents/bounded/facts', {
      ...fact,
      actors: names(LIMITS.actorsPerFact + 1),
    });
    expect(tooManyActors.status).toBe(400);
    expect(fields(tooManyActors.body)).toContain('actors');
    const atLimits = await api.post('/v1/incidents/bounded/facts', {
      ...fact,
      sources: sources(LIMITS.sourcesPerFact),
      actors: names(LIMITS.actorsPerFact),
    });
    expect(atLimits.status).toBe(201);
  });

  it.each(['/v1/incidents', '/v1/incidents/bounded/history', '/v1/events'])(
    `refuses a page size over ${LIMITS.pageSize} on %s, naming limit`,
    async (path) => {
      const over = await api.get(`${path}?limit=${LIMITS.pageSize + 1}`);
      expect(over.status).toBe(400);
      expect(fields(over.body)).toEqual(['limit']);
      expect((await api.get(`${path}?limit=${LIMITS.pageSize}`)).status).toBe(200);
    },
  );
});
