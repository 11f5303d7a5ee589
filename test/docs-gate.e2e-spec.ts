import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ApiClient, startTestApp, type TestApp } from '@app/testing';

/**
 * With DOCS_PUBLIC=false and METRICS_PUBLIC=false, nothing the application serves answers without a token except the
 * health probes. The routes are read from the application's own router (every route Nest and the docs module
 * registered), and the static files of the docs UI from the directory it serves them from, so a route added later
 * is checked without anyone listing it here.
 */

interface ServedRoute {
  path: string;
  methods: string[];
}

/** Every route of the Express router: its path pattern and methods. */
function routesOf(app: TestApp): ServedRoute[] {
  const express = app.app.getHttpAdapter().getInstance() as {
    router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> };
  };
  return express.router.stack
    .filter((layer) => layer.route !== undefined)
    .map((layer) => ({
      path: layer.route!.path,
      methods: Object.keys(layer.route!.methods).filter((method) => method !== '_all'),
    }));
}

/** A concrete path for a pattern: each parameter becomes a harmless value. */
const concrete = (pattern: string) => pattern.replace(/:[A-Za-z]+/g, 'x').replace(/\*[A-Za-z]+/g, 'x');

const PROBES = new Set(['/health/live', '/health/ready']);
/**
 * The web page is public by design (docs/web.md): its HTML and hashed assets hold no data, and the page reads its
 * token from the URL fragment, which never reaches the server. Everything it shows comes from /v1, which is gated.
 */
const WEB_PAGE = new Set(['/', '/incidents/*path', '/assets/:name']);

describe('docs gate: every served route is closed without a token (e2e)', () => {
  let app: TestApp;
  let anonymous: ApiClient;

  beforeAll(async () => {
    app = await startTestApp({ env: { DOCS_PUBLIC: 'false', METRICS_PUBLIC: 'false' } });
    anonymous = new ApiClient(app.baseUrl);
  });

  afterAll(async () => {
    await app.close();
  });

  it('serves the docs at the paths the docs module registers, /docs/yaml among them', () => {
    const paths = routesOf(app).map((route) => route.path);
    expect(paths).toEqual(expect.arrayContaining(['/docs', '/docs/json', '/docs/yaml', '/docs/swagger-ui-init.js']));
  });

  it('answers 401 problem+json to every route but the health probes, in any letter case, with or without a slash', async () => {
    const refused: Array<{ method: string; path: string; status: number; problem: string }> = [];
    for (const route of routesOf(app)) {
      if (PROBES.has(route.path) || WEB_PAGE.has(route.path)) continue;
      const path = concrete(route.path);
      const variants = path.startsWith('/v1/') ? [path] : [path, `${path}/`, path.toUpperCase()];
      for (const method of route.methods) {
        for (const variant of variants) {
          const response = await anonymous.request(method.toUpperCase(), variant);
          refused.push({ method, path: variant, status: response.status, problem: response.contentType });
        }
      }
    }
    expect(refused.length).toBeGreaterThan(20);
    expect(
      refused.filter((answer) => answer.status !== 401 || !answer.problem.includes('application/problem+json')),
    ).toEqual([]);
  });

  it('answers 401 to every file of the docs UI', async () => {
    const files = readdirSync(dirname(require.resolve('swagger-ui-dist'))).filter((file) =>
      /\.(js|css|html|png|map)$/.test(file),
    );
    expect(files.length).toBeGreaterThan(5);
    const answers = [];
    for (const file of files) answers.push({ file, status: (await anonymous.get(`/docs/${file}`)).status });
    expect(answers.filter((answer) => answer.status !== 401)).toEqual([]);
  });

  it('serves every docs route to a token with incidents:read, and refuses one without it', async () => {
    const reader = anonymous.withToken(await app.token(['incidents:read']));
    const writer = anonymous.withToken(await app.token(['incidents:write']));
    for (const path of ['/docs', '/docs/json', '/docs/yaml', '/docs/swagger-ui-init.js', '/docs/swagger-ui.css']) {
      expect({ path, status: (await reader.get(path)).status }).toEqual({ path, status: 200 });
      expect({ path, status: (await writer.get(path)).status }).toEqual({ path, status: 403 });
    }
  });
});
