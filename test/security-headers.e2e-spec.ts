import { ApiClient, startTestApp, type TestApp } from '@app/testing';

/**
 * Response headers a browser and a cache rely on, the token check of /v1 before any body is read, and the
 * per-address limit of the routes served without a token.
 */
describe('security headers and the edge (e2e)', () => {
  let app: TestApp;
  let api: ApiClient;
  let anonymous: ApiClient;

  beforeAll(async () => {
    app = await startTestApp({ env: { ANONYMOUS_RATE_LIMIT_PER_MINUTE: '20' } });
    api = new ApiClient(app.baseUrl, app.adminToken);
    anonymous = new ApiClient(app.baseUrl);
  });

  afterAll(async () => {
    await app.close();
  });

  const common = (headers: Headers) => ({
    nosniff: headers.get('x-content-type-options'),
    referrer: headers.get('referrer-policy'),
    frameAncestors: /frame-ancestors 'none'/.test(headers.get('content-security-policy') ?? ''),
  });
  const expected = { nosniff: 'nosniff', referrer: 'no-referrer', frameAncestors: true };

  it('marks authenticated answers no-store, and every answer nosniff, no-referrer, not frameable', async () => {
    const answers = [
      await api.get('/v1/incidents'),
      await api.post('/v1/incidents', { id: 'headers-1', title: 'Headers', category: 'other' }),
      await api.get('/v1/incidents/headers-1/history'),
      await anonymous.get('/v1/incidents'),
      await api.get('/v1/incidents/nope'),
    ];
    for (const answer of answers) {
      expect({ ...common(answer.headers), cache: answer.headers.get('cache-control') }).toEqual({
        ...expected,
        cache: 'no-store',
      });
    }
    expect(common((await anonymous.get('/health/live')).headers)).toEqual(expected);
  });

  it("serves the docs UI's HTML with a CSP that forbids framing", async () => {
    const page = await anonymous.get('/docs');
    expect(page.status).toBe(200);
    expect(page.contentType).toContain('text/html');
    expect(common(page.headers)).toEqual(expected);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('checks the token of a /v1 request before reading its body', async () => {
    const headers = { 'content-type': 'application/json' };
    const malformed = await anonymous.post('/v1/incidents', undefined, { headers, raw: '{"id": ' });
    expect(malformed.status).toBe(401);
    const huge = await anonymous.post('/v1/incidents', undefined, {
      headers,
      raw: JSON.stringify({ x: 'y'.repeat(200_000) }),
    });
    expect(huge.status).toBe(401);
    expect(huge.contentType).toContain('application/problem+json');
    const forged = await anonymous.post('/v1/incidents', undefined, {
      headers: { ...headers, authorization: 'Bearer not.a.token' },
      raw: '{"id": ',
    });
    expect(forged.status).toBe(401);
    // With a valid token the body is read and judged as before.
    expect((await api.post('/v1/incidents', undefined, { headers, raw: '{"id": ' })).status).toBe(400);
  });

  it('limits requests per client address to routes served without a token, not the probes or /v1', async () => {
    const statuses: number[] = [];
    for (let n = 0; n < 30; n += 1) statuses.push((await anonymous.get('/metrics')).status);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0);
    const refused = await anonymous.get('/docs/json');
    expect(refused.status).toBe(429);
    expect(refused.contentType).toContain('application/problem+json');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await anonymous.get('/health/live')).status).toBe(200);
    expect((await api.get('/v1/incidents')).status).toBe(200);
  });
});
