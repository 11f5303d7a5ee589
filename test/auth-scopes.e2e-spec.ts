import { SCOPES, type Scope } from '@app/auth';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { ApiClient, startTestApp, type TestApp } from '@app/testing';

interface Fixture {
  id: string;
  factId: string;
  other: string;
  position: number;
}

interface RouteCase {
  scope: Scope;
  /** The status the route answers a well-formed request made with exactly the scope it needs. */
  ok: number;
  body?: (fixture: Fixture) => Record<string, unknown>;
  query?: (fixture: Fixture) => string;
  /** A Server-Sent Events route: only the status is read, then the stream is closed. */
  stream?: boolean;
}

/** Every /v1 route, with the scope it needs. A route the app serves but this table lacks fails the last test. */
const ROUTES: Record<string, RouteCase> = {
  'POST /v1/incidents': {
    scope: 'incidents:write',
    ok: 201,
    body: (f) => ({ id: `${f.id}-new`, title: 'New', category: 'other' }),
  },
  'PATCH /v1/incidents/:id': { scope: 'incidents:write', ok: 200, body: () => ({ title: 'Revised' }) },
  'POST /v1/incidents/:id/facts': {
    scope: 'incidents:write',
    ok: 201,
    body: () => ({ kind: 'other', occurredAt: '2023', summary: 'A fact' }),
  },
  'PATCH /v1/incidents/:id/facts/:factId': {
    scope: 'incidents:write',
    ok: 200,
    body: () => ({ summary: 'Corrected', reason: 'Better source' }),
  },
  'POST /v1/incidents/:id/facts/:factId/retraction': {
    scope: 'incidents:write',
    ok: 200,
    body: () => ({ reason: 'Wrong incident' }),
  },
  'POST /v1/incidents/:id/status': { scope: 'incidents:write', ok: 200, body: () => ({ status: 'investigating' }) },
  'PUT /v1/incidents/:id/impact': { scope: 'incidents:write', ok: 200, body: () => ({ records: 10 }) },
  'POST /v1/incidents/:id/links': {
    scope: 'incidents:write',
    ok: 201,
    body: (f) => ({ incidentId: f.other, relation: 'related' }),
  },
  'GET /v1/incidents': { scope: 'incidents:read', ok: 200, query: (f) => `?minPosition=${f.position}` },
  'GET /v1/incidents/:id': { scope: 'incidents:read', ok: 200, query: (f) => `?minPosition=${f.position}` },
  'GET /v1/incidents/:id/timeline': { scope: 'incidents:read', ok: 200, query: (f) => `?minPosition=${f.position}` },
  'GET /v1/incidents/:id/history': { scope: 'incidents:read', ok: 200 },
  'GET /v1/incidents/:id/status-history': {
    scope: 'incidents:read',
    ok: 200,
    query: (f) => `?minPosition=${f.position}`,
  },
  'GET /v1/incidents/:id/diff': {
    scope: 'incidents:read',
    ok: 200,
    query: (f) => `?from=2000-01-01&to=2100-01-01&minPosition=${f.position}`,
  },
  'GET /v1/admin/projections/parked': { scope: 'incidents:admin', ok: 200 },
  // The fixture's incident is not parked: with the scope the request reaches the handler, which answers 404.
  'POST /v1/admin/projections/parked/:id/retry': { scope: 'incidents:admin', ok: 404 },
  'GET /v1/incidents/:id/export': {
    scope: 'incidents:read',
    ok: 200,
    query: (f) => `?format=csv&minPosition=${f.position}`,
  },
  'GET /v1/events': { scope: 'incidents:read', ok: 200 },
  'GET /v1/feeds/status-changes': { scope: 'incidents:read', ok: 200, stream: true },
  'GET /v1/feeds/events': { scope: 'incidents:read', ok: 200, stream: true },
};

describe('scopes on every /v1 route (e2e)', () => {
  let app: TestApp;
  let admin: ApiClient;
  let fixtures = 0;

  beforeAll(async () => {
    app = await startTestApp();
    admin = new ApiClient(app.baseUrl, app.adminToken);
  });

  afterAll(async () => {
    await app.close();
  });

  const headPosition = async () => Number(await app.app.get<EventStore>(EVENT_STORE).headPosition());

  /** A fresh incident with one fact, and another incident to link to, so each request can succeed once. */
  async function fixture(): Promise<Fixture> {
    const id = `scoped-${++fixtures}`;
    await admin.post('/v1/incidents', { id, title: 'Scoped', category: 'other' });
    await admin.post('/v1/incidents', { id: `${id}-other`, title: 'Other', category: 'other' });
    const fact = await admin.post(`/v1/incidents/${id}/facts`, { kind: 'other', occurredAt: '2023', summary: 'x' });
    return { id, factId: fact.body.factId, other: `${id}-other`, position: fact.body.position };
  }

  async function request(token: string | undefined, key: string, route: RouteCase, f: Fixture) {
    const [method, pattern] = key.split(' ');
    const path = pattern.replace(':id', f.id).replace(':factId', f.factId) + (route.query?.(f) ?? '');
    if (!route.stream) return new ApiClient(app.baseUrl, token).request(method, path, route.body?.(f));
    const response = await fetch(`${app.baseUrl}${path}`, {
      method,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
    const problem = response.ok ? undefined : await response.json();
    if (response.ok) await response.body?.cancel();
    return {
      status: response.status,
      headers: response.headers,
      body: problem,
      contentType: response.headers.get('content-type') ?? '',
    };
  }

  /** The routes Express serves under /v1, as "METHOD /pattern". */
  function servedRoutes(): string[] {
    const router = app.app.getHttpAdapter().getInstance().router as {
      stack: { route?: { path: string; methods: Record<string, boolean> } }[];
    };
    return router.stack.flatMap((layer) =>
      layer.route && layer.route.path.startsWith('/v1')
        ? Object.keys(layer.route.methods)
            .filter((method) => method !== '_all')
            .map((method) => `${method.toUpperCase()} ${layer.route!.path}`)
        : [],
    );
  }

  describe.each(Object.entries(ROUTES))('%s', (key, route) => {
    let f: Fixture;
    beforeAll(async () => {
      f = await fixture();
    });

    it('is 401 without a token, appending nothing', async () => {
      const before = await headPosition();
      const response = await request(undefined, key, route, f);
      expect(response.status).toBe(401);
      expect(response.contentType).toContain('application/problem+json');
      expect(await headPosition()).toBe(before);
    });

    const others = SCOPES.filter((scope) => scope !== route.scope);
    it.each([[[] as Scope[]], ...others.map((scope) => [[scope]]), [others]])(
      `is 403 for a token with scopes %j (not ${route.scope}), appending nothing`,
      async (scopes) => {
        const before = await headPosition();
        const response = await request(await app.token(scopes), key, route, f);
        expect(response.status).toBe(403);
        expect(response.body).toMatchObject({ status: 403, detail: expect.stringContaining(route.scope) });
        expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
        expect(await headPosition()).toBe(before);
      },
    );

    it(`answers ${route.ok} for a token with just ${route.scope}`, async () => {
      const response = await request(await app.token([route.scope]), key, route, f);
      expect(response.status).toBe(route.ok);
    });
  });

  it('covers every /v1 route the application serves', () => {
    const served = servedRoutes();
    expect(served.length).toBeGreaterThan(0);
    expect(served.filter((key) => !(key in ROUTES))).toEqual([]);
  });

  it('keeps /health open without a token', async () => {
    const anonymous = new ApiClient(app.baseUrl);
    expect((await anonymous.get('/health/live')).status).toBe(200);
    expect((await anonymous.get('/health/ready')).status).toBe(200);
  });
});

describe('/metrics and /docs when configured closed (e2e)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ env: { METRICS_PUBLIC: 'false', DOCS_PUBLIC: 'false' } });
  });

  afterAll(async () => {
    await app.close();
  });

  it('needs incidents:admin for /metrics', async () => {
    const anonymous = new ApiClient(app.baseUrl);
    expect((await anonymous.get('/metrics')).status).toBe(401);
    expect((await anonymous.withToken(await app.token(['incidents:read'])).get('/metrics')).status).toBe(403);
    expect((await anonymous.withToken(await app.token(['incidents:admin'])).get('/metrics')).status).toBe(200);
  });

  it('needs incidents:read for /docs and /docs/json', async () => {
    const anonymous = new ApiClient(app.baseUrl);
    for (const path of ['/docs', '/docs/json']) {
      const refused = await anonymous.get(path);
      expect(refused.status).toBe(401);
      expect(refused.contentType).toContain('application/problem+json');
      expect((await anonymous.withToken(await app.token(['incidents:write'])).get(path)).status).toBe(403);
      expect((await anonymous.withToken(await app.token(['incidents:read'])).get(path)).status).toBe(200);
    }
  });
});

describe('/metrics and /docs by default (e2e)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });

  afterAll(async () => {
    await app.close();
  });

  it('serves both without a token', async () => {
    const anonymous = new ApiClient(app.baseUrl);
    expect((await anonymous.get('/metrics')).status).toBe(200);
    expect((await anonymous.get('/docs/json')).status).toBe(200);
  });
});
