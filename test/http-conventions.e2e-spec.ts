import { loadConfig } from '@app/config';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { ApiClient, startTestApp, type ApiResponse, type TestApp } from '@app/testing';

describe('HTTP conventions: If-Match (RFC 9110), problem instance, Link rel="next", CORS (e2e)', () => {
  let app: TestApp;
  let api: ApiClient;

  const head = async () => Number(await app.app.get<EventStore>(EVENT_STORE).headPosition());
  const open = (id: string) => api.post('/v1/incidents', { id, title: `Incident ${id}`, category: 'other' });
  const revise = (id: string, ifMatch: string, title = 'Revised') =>
    api.patch(`/v1/incidents/${id}`, { title }, { headers: { 'If-Match': ifMatch } });

  beforeAll(async () => {
    app = await startTestApp();
    api = new ApiClient(app.baseUrl, app.adminToken);
  });

  afterAll(async () => {
    await app.close();
  });

  describe('If-Match', () => {
    it('`*` matches any current representation: the incident exists', async () => {
      await open('match-any');
      expect((await revise('match-any', '*')).status).toBe(200);
    });

    it('`*` fails with 412 when there is no incident, for a revision and for an opening alike, appending nothing', async () => {
      const before = await head();
      const missing = await revise('match-any-missing', '*');
      expect(missing.status).toBe(412);
      expect(missing.body.currentVersion).toBeUndefined();
      const opening = await api.post(
        '/v1/incidents',
        { id: 'match-any-new', title: 'New', category: 'other' },
        { headers: { 'If-Match': '*' } },
      );
      expect(opening.status).toBe(412);
      expect(await head()).toBe(before);
    });

    it('a list matches when any member names the current version', async () => {
      await open('match-list');
      const ok = await revise('match-list', '"7", "0"');
      expect(ok.status).toBe(200);
      expect(ok.headers.get('etag')).toBe('"1"');
      expect((await revise('match-list', '"0",,"1"', 'Again')).status).toBe(200);
    });

    it('a list with no member at the current version is 412 with the current version', async () => {
      await open('match-list-stale');
      const before = await head();
      const stale = await revise('match-list-stale', '"3", "4"');
      expect(stale.status).toBe(412);
      expect(stale.body).toMatchObject({ currentVersion: 0, detail: expect.stringContaining('"3", "4"') });
      expect(stale.headers.get('etag')).toBe('"0"');
      expect(await head()).toBe(before);
    });

    it('a weak tag never matches, even naming the current version: 412, not 400', async () => {
      await open('match-weak');
      const weak = await revise('match-weak', 'W/"0"');
      expect(weak.status).toBe(412);
      expect(weak.body.detail).toMatch(/weak tag never matches/);
      expect((await revise('match-weak', 'W/"0", "0"')).status).toBe(200);
    });

    it.each(['0', '"0', "'0'", 'W/0', '"0" "1"', ',', '**'])(
      'refuses malformed %j with 400 naming If-Match',
      async (value) => {
        await open(`match-bad-${Buffer.from(value).toString('hex')}`.slice(0, 60));
        const response = await revise(`match-bad-${Buffer.from(value).toString('hex')}`.slice(0, 60), value);
        expect(response.status).toBe(400);
        expect(response.body.errors).toEqual([expect.objectContaining({ field: 'If-Match' })]);
      },
    );
  });

  describe('problem+json instance', () => {
    it.each([
      ['GET', '/v1/incidents/no-such-incident', undefined, undefined, 404],
      ['GET', '/v1/nowhere', undefined, undefined, 404],
      ['GET', '/v1/incidents?limit=0', undefined, undefined, 400],
      ['POST', '/v1/incidents', 'text/plain', 'hello', 415],
      ['POST', '/v1/incidents', 'application/json', `{"id":"${'x'.repeat(70_000)}"}`, 413],
      ['POST', '/v1/incidents', 'application/json', '{', 400],
    ])('%s %s refused: instance is the request path', async (method, path, type, body, status) => {
      const response = await api.request(method, path, undefined, {
        raw: body,
        headers: type ? { 'content-type': type } : {},
      });
      expect(response.status).toBe(status);
      expect(response.contentType).toContain('application/problem+json');
      expect(response.body.instance).toBe(path.split('?')[0]);
    });

    it('names the path on 401 and 403 too', async () => {
      const anonymous = await api.withToken().get('/v1/incidents?limit=1');
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.instance).toBe('/v1/incidents');
      const reader = api.withToken(await app.token(['incidents:read']));
      const forbidden = await reader.post('/v1/incidents', { id: 'forbidden-one', title: 'x', category: 'other' });
      expect(forbidden.status).toBe(403);
      expect(forbidden.body.instance).toBe('/v1/incidents');
    });
  });

  describe('Link rel="next"', () => {
    it('pages the list by cursor: the Link header is the next request, and the last page has none', async () => {
      for (const id of ['page-a', 'page-b']) await open(id);
      const seen: string[] = [];
      let path: string | undefined = `/v1/incidents?limit=1&q=page-&minPosition=${await head()}`;
      while (path !== undefined) {
        const page: ApiResponse = await api.get(path);
        expect(page.status).toBe(200);
        seen.push(...page.body.items.map((item: { id: string }) => item.id));
        const link: string | null = page.headers.get('link');
        if (page.body.next === null) {
          expect(link).toBeNull();
          path = undefined;
        } else {
          expect(link).toMatch(/^<\/v1\/incidents\?[^>]*cursor=[^>]+>; rel="next"$/);
          expect(link).toContain(`cursor=${encodeURIComponent(page.body.next)}`);
          path = /^<([^>]+)>/.exec(link!)![1];
        }
      }
      expect(seen.sort()).toEqual(['page-a', 'page-b']);
    });

    it('pages the history and the global log by `after`', async () => {
      await open('page-history');
      await revise('page-history', '"0"');
      const history = await api.get('/v1/incidents/page-history/history?limit=1');
      expect(history.headers.get('link')).toBe(
        `</v1/incidents/page-history/history?limit=1&after=${history.body.next}>; rel="next"`,
      );
      const events = await api.get('/v1/events?limit=2');
      expect(events.headers.get('link')).toBe(`</v1/events?limit=2&after=${events.body.next}>; rel="next"`);
    });
  });

  describe('CORS', () => {
    const preflight = (baseUrl: string, origin: string) =>
      fetch(`${baseUrl}/v1/incidents`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type, if-match',
        },
      });

    it('is off by default: no Access-Control-Allow-Origin for any origin', async () => {
      const response = await preflight(app.baseUrl, 'https://dash.example.org');
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      const get = await api.get('/v1/incidents', { headers: { origin: 'https://dash.example.org' } });
      expect(get.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('with CORS_ORIGINS, allows exactly the listed origins, preflight before authentication', async () => {
      const cors = await startTestApp({ env: { CORS_ORIGINS: 'https://dash.example.org,http://localhost:8080' } });
      try {
        const allowed = await preflight(cors.baseUrl, 'https://dash.example.org');
        expect(allowed.status).toBe(204);
        expect(allowed.headers.get('access-control-allow-origin')).toBe('https://dash.example.org');
        expect(allowed.headers.get('access-control-allow-headers')).toMatch(/If-Match/);
        const other = await preflight(cors.baseUrl, 'https://evil.example.com');
        expect(other.headers.get('access-control-allow-origin')).toBeNull();
        const get = await new ApiClient(cors.baseUrl, cors.adminToken).get('/v1/incidents', {
          headers: { origin: 'http://localhost:8080' },
        });
        expect(get.status).toBe(200);
        expect(get.headers.get('access-control-allow-origin')).toBe('http://localhost:8080');
        expect(get.headers.get('access-control-expose-headers')).toMatch(/ETag/);
      } finally {
        await cors.close();
      }
    });

    it.each(['*', 'https://dash.example.org/', 'dash.example.org', 'ftp://files.example.org'])(
      'refuses CORS_ORIGINS=%j at start, naming the variable',
      (value) => {
        expect(() => loadConfig({ CORS_ORIGINS: value })).toThrow(/CORS_ORIGINS/);
      },
    );
  });
});
