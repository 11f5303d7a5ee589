import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { ApiClient, signingKey, startTestApp, TestIssuer, type TestApp } from '@app/testing';
import { SseClient } from './support/sse-client';

/**
 * What bounds an open feed: it ends at its token's `exp`, and when its issuer's key is rotated away, with a final
 * `end` event saying why; open sessions are capped per principal (429) and in total (503), both problem+json with
 * Retry-After; and however many are open, they cost the store one subscription.
 */

describe('SSE feed limits (e2e)', () => {
  let app: TestApp;
  let api: ApiClient;
  let issuer: TestIssuer;
  let configDir: string;
  const clients: SseClient[] = [];

  beforeAll(async () => {
    issuer = await TestIssuer.start('rotating');
    configDir = mkdtempSync(join(tmpdir(), 'sse-issuers-'));
    const registry = join(configDir, 'issuers.yaml');
    writeFileSync(
      registry,
      stringify({
        issuers: [
          {
            iss: issuer.iss,
            jwksUri: issuer.jwksUri,
            audiences: ['incident-timeline'],
            algorithms: ['ES256'],
            cacheMaxAgeSeconds: 0.2,
            minRefetchIntervalSeconds: 0.1,
          },
        ],
      }),
    );
    app = await startTestApp({
      env: {
        AUTH_ISSUERS_FILE: registry,
        SSE_MAX_SESSIONS: '4',
        SSE_MAX_SESSIONS_PER_PRINCIPAL: '2',
        SSE_TOKEN_RECHECK_MS: '100',
      },
    });
    api = new ApiClient(app.baseUrl, app.adminToken);
  });

  afterAll(async () => {
    await app?.close();
    await Promise.all(clients.map((client) => client.close()));
    await issuer?.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  async function connect(token: string, path = '/v1/feeds/events'): Promise<SseClient> {
    const client = await SseClient.connect(`${app.baseUrl}${path}`, token);
    clients.push(client);
    return client;
  }

  async function open(id: string): Promise<number> {
    const response = await api.post('/v1/incidents', { id, title: `Incident ${id}`, category: 'other' });
    expect(response.status).toBe(201);
    return response.body.position;
  }

  it("ends a feed at its token's exp with a final event saying why, while events before it were delivered", async () => {
    const token = await app.token(['incidents:read'], 'short-lived', 2);
    const exp = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp as number;
    const client = await connect(token);
    expect(client.response.status).toBe(200);
    const before = await open('sse-exp-before');
    await client.until(() => client.ids.includes(before));

    await client.finished;
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    expect(client.ending).toEqual({ reason: 'token-expired', detail: expect.stringContaining('Last-Event-ID') });
    expect(client.ended).toBe(true);
  });

  it("ends a feed when its issuer's key is rotated away", async () => {
    const client = await connect(await issuer.token({ claims: { sub: 'rotated', scope: 'incidents:read' } }));
    expect(client.response.status).toBe(200);
    const before = await open('sse-rotation-before');
    await client.until(() => client.ids.includes(before));
    expect(client.ended).toBe(false);

    const next = await signingKey('rotating-2');
    issuer.key = next;
    issuer.published = [next];
    await client.finished;
    expect(client.ending).toEqual({ reason: 'token-refused', detail: expect.stringContaining('fresh token') });
    const fresh = await connect(await issuer.token({ claims: { sub: 'rotated', scope: 'incidents:read' } }));
    expect(fresh.response.status).toBe(200);
    await fresh.close();
  });

  it('caps open sessions per principal with 429 and in total with 503, problem+json with Retry-After', async () => {
    const alice = await app.token(['incidents:read'], 'alice');
    for (let n = 0; n < 2; n += 1) expect((await connect(alice)).response.status).toBe(200);
    const third = await connect(alice, '/v1/feeds/status-changes');
    expect(third.response.status).toBe(429);
    expect(third.response.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(third.response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await third.response.json()).toMatchObject({
      status: 429,
      detail: expect.stringContaining('SSE_MAX_SESSIONS_PER_PRINCIPAL'),
    });

    // Another principal is not held back by alice's sessions, up to the total of 4.
    expect((await connect(await app.token(['incidents:read'], 'bob'))).response.status).toBe(200);
    expect((await connect(await app.token(['incidents:read'], 'carol'))).response.status).toBe(200);
    const fifth = await connect(await app.token(['incidents:read'], 'dave'));
    expect(fifth.response.status).toBe(503);
    expect(fifth.response.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(fifth.response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await fifth.response.json()).toMatchObject({
      status: 503,
      detail: expect.stringContaining('SSE_MAX_SESSIONS'),
    });
  });
});

describe('SSE fan-out (e2e)', () => {
  const SESSIONS = 500;
  let app: TestApp;
  const clients: SseClient[] = [];

  beforeAll(async () => {
    app = await startTestApp({ env: { SSE_MAX_SESSIONS: '1000', SSE_MAX_SESSIONS_PER_PRINCIPAL: '1000' } });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await app?.close();
  });

  it(`serves ${SESSIONS} open sessions from one subscription to the store, each with every event`, async () => {
    // The projection runner holds a subscription of its own once it runs the projections (on PostgreSQL, once it has
    // the projector lock): a write read back with minPosition shows it is running before counting starts.
    const api = new ApiClient(app.baseUrl, app.adminToken);
    const warm = await api.post('/v1/incidents', { id: 'fan-out-warm', title: 'Warm', category: 'other' });
    expect((await api.get(`/v1/incidents/fan-out-warm?minPosition=${warm.body.position}`)).status).toBe(200);
    // The store as the application holds it, wrapped to count subscriptions from here on.
    const store = app.app.get<EventStore>(EVENT_STORE);
    const subscribe = store.subscribe.bind(store);
    let subscriptions = 0;
    store.subscribe = (options) => {
      subscriptions += 1;
      return subscribe(options);
    };

    const token = await app.token(['incidents:read'], 'many');
    for (let n = 0; n < SESSIONS; n += 50) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          SseClient.connect(
            `${app.baseUrl}/v1/feeds/${index % 2 === 0 ? 'events' : 'status-changes'}?after=${warm.body.position}`,
            token,
          ),
        ),
      );
      clients.push(...batch);
    }
    expect(clients.map((client) => client.response.status)).toEqual(Array(SESSIONS).fill(200));

    const opened = await api.post('/v1/incidents', { id: 'fan-out', title: 'Fan-out', category: 'other' });
    const changed = await api.post('/v1/incidents/fan-out/status', { status: 'investigating', reason: 'look' });
    expect(changed.status).toBe(200);
    await Promise.all(clients.map((client) => client.until(() => client.ids.includes(changed.body.position))));
    for (const [index, client] of clients.entries()) {
      const expected = index % 2 === 0 ? [opened.body.position, changed.body.position] : [changed.body.position];
      expect(client.ids).toEqual(expected);
    }
    expect(subscriptions).toBe(1);
  });
});
