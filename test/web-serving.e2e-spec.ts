import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { jwtVerify, createLocalJWKSet } from 'jose';
import { localIssuerFiles } from '@app/auth';
import { loadConfig } from '@app/config';
import { ApiClient, startTestApp, type TestApp } from '@app/testing';
import { readFileSync } from 'node:fs';
import { signInUrl, tokenCommand } from '../apps/cli/src/commands/token.command';
import { buildWeb, type WebBuild } from '../apps/web/build';

/**
 * How the API serves the web page, without a browser: the page routes need no token, the HTML runs under a strict
 * Content-Security-Policy and names only hashed assets of this origin, which are cached for a year; the script stays
 * within its size budget; and the token command prints the sign-in link.
 */
const JS_BUDGET_GZIPPED = 150 * 1024;

describe('web page serving (e2e)', () => {
  let app: TestApp;
  let built: WebBuild;
  const anonymous = () => new ApiClient(app.baseUrl);

  beforeAll(async () => {
    built = await buildWeb();
    app = await startTestApp();
  }, 60_000);

  afterAll(async () => {
    await app.close();
  });

  it.each(['/', '/incidents/storm-0558', '/incidents/storm-0558/history'])(
    'serves the page at %s without a token, under a strict CSP',
    async (path) => {
      const response = await anonymous().get(path);
      expect(response.status).toBe(200);
      expect(response.contentType).toBe('text/html; charset=utf-8');
      const csp = response.headers.get('content-security-policy') ?? '';
      const directives = Object.fromEntries(
        csp.split(';').map((directive) => {
          const [name, ...values] = directive.trim().split(/\s+/);
          return [name, values.join(' ')];
        }),
      );
      expect(directives).toMatchObject({
        'default-src': "'none'",
        'script-src': "'self'",
        'style-src': "'self'",
        'connect-src': "'self'",
        'frame-ancestors': "'none'",
        'base-uri': "'none'",
      });
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('cache-control')).toBe('no-cache');
    },
  );

  it('has no inline script or style, and names only hashed assets under /assets/', async () => {
    const html = (await anonymous().get('/')).body as string;
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    const references = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    expect(references.length).toBeGreaterThanOrEqual(3);
    for (const reference of references) expect(reference).toMatch(/^\/assets\/[a-z]+-[A-Z0-9]{8}\.(js|css|svg)$/);
  });

  it('serves each built asset with a year-long immutable cache and its media type', async () => {
    for (const name of built.assets) {
      const response = await fetch(`${app.baseUrl}/assets/${name}`);
      await response.arrayBuffer();
      expect({ name, status: response.status }).toEqual({ name, status: 200 });
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const script = await fetch(`${app.baseUrl}/assets/${built.script}`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    await script.arrayBuffer();
  });

  it.each(['/assets/main.js', '/assets/..%2Fpackage.json', '/assets/%2e%2e%2findex.html', '/assets/MAIN-ABCDEFGH.js'])(
    'answers %s, which the build did not produce, with a 404 problem',
    async (path) => {
      const response = await anonymous().get(path);
      expect(response.status).toBe(404);
      expect(response.contentType).toContain('application/problem+json');
    },
  );

  it('keeps the page script under 150 KB gzipped', () => {
    const gzipped = gzipSync(readFileSync(join(built.outDir, 'assets', built.script))).length;
    expect(gzipped).toBeLessThan(JS_BUDGET_GZIPPED);
  });

  it('still asks for a token on /v1 when the page is open to all', async () => {
    expect((await anonymous().get('/v1/incidents')).status).toBe(401);
  });
});

describe('token --url (e2e)', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'token-url-'));
  });

  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints http://HOST:PORT/#token=<jwt> from the service configuration, and the token is a valid one', async () => {
    const config = loadConfig({ DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '3456' });
    let stdout = '';
    const code = await tokenCommand(config, ['--scopes', 'incidents:read', '--sub', 'alice', '--url'], {
      stdout: (text) => (stdout += text),
      stderr: () => undefined,
    });
    expect(code).toBe(0);
    const match = /^http:\/\/127\.0\.0\.1:3456\/#token=([\w-]+\.[\w-]+\.[\w-]+)\n$/.exec(stdout);
    expect(match).not.toBeNull();
    const jwks = JSON.parse(readFileSync(localIssuerFiles(dataDir).jwks, 'utf8'));
    const { payload } = await jwtVerify(match![1], createLocalJWKSet(jwks), { audience: config.auth.audience });
    expect(payload).toMatchObject({ sub: 'alice', scope: 'incidents:read' });
  });

  it.each([
    [{ host: '0.0.0.0', port: 3000 }, 'http://127.0.0.1:3000/#token=t'],
    [{ host: '::1', port: 8080 }, 'http://[::1]:8080/#token=t'],
    [{ host: 'timeline.internal', port: 80 }, 'http://timeline.internal:80/#token=t'],
  ])('links to a reachable address for HOST/PORT %j', (config, url) => {
    expect(signInUrl(config, 't')).toBe(url);
  });
});
