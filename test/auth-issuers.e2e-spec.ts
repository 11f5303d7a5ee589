import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { LOCAL_ISSUER, TokenVerifier } from '@app/auth';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import {
  ApiClient,
  LogCapture,
  LoopbackTrap,
  selfSignedCertificate,
  signingKey,
  startTestApp,
  TestIssuer,
  type SigningKey,
  type TestApp,
} from '@app/testing';

const PROBLEM = 'application/problem+json';
const CACHE_MAX_AGE_S = 1;
const MIN_REFETCH_S = 0.2;

/**
 * Two issuers, A and B, each serving its own JWKS over HTTP on loopback, trusted through an AUTH_ISSUERS_FILE in YAML.
 * A token is good only against the keys of the issuer it names; every forgery below is a 401 that appends nothing.
 * Keys come only from the registry: a token that brings its own key (`jwk`, `x5c`) or names where to fetch one
 * (`jku`, `x5u`, pointed at a loopback trap that counts requests, or at B's real JWKS) is refused without a fetch.
 */
describe('token verification against an issuer registry (e2e)', () => {
  let a: TestIssuer;
  let b: TestIssuer;
  let aRsa: SigningKey;
  let mallory: SigningKey;
  let trap: LoopbackTrap;
  let app: TestApp;
  let api: ApiClient;
  let configDir: string;
  const logs = new LogCapture();

  beforeAll(async () => {
    aRsa = await signingKey('a-rsa', 'RS256');
    mallory = await signingKey('mallory-1');
    trap = await LoopbackTrap.start(JSON.stringify({ keys: [mallory.publicJwk] }));
    a = await TestIssuer.start('a', 'incident-timeline', [aRsa]);
    b = await TestIssuer.start('b', 'incident-timeline');
    configDir = mkdtempSync(join(tmpdir(), 'issuers-'));
    const registry = join(configDir, 'issuers.yaml');
    writeFileSync(
      registry,
      stringify({
        issuers: [
          {
            iss: a.iss,
            jwksUri: a.jwksUri,
            audiences: ['incident-timeline'],
            algorithms: ['ES256'],
            cacheMaxAgeSeconds: CACHE_MAX_AGE_S,
            minRefetchIntervalSeconds: MIN_REFETCH_S,
          },
          { iss: b.iss, jwksUri: b.jwksUri, audiences: ['incident-timeline'], algorithms: ['ES256', 'RS256'] },
        ],
      }),
    );
    app = await startTestApp({ env: { AUTH_ISSUERS_FILE: registry }, logger: logs.logger });
    api = new ApiClient(app.baseUrl);
  });

  afterAll(async () => {
    await app?.close();
    await a?.close();
    await b?.close();
    await trap?.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  const headPosition = async () => Number(await app.app.get<EventStore>(EVENT_STORE).headPosition());
  let opened = 0;
  const openWith = (token: string) =>
    api.withToken(token).post('/v1/incidents', { id: `matrix-${++opened}`, title: 'Matrix', category: 'other' });

  const now = () => Math.floor(Date.now() / 1000);

  // Each forgery with the check that must catch it (the audit log's reason; the caller hears only "not valid").
  const forgeries: [string, string, () => Promise<string>][] = [
    ["names A, signed by B's valid key (B's kid)", 'unknown-key', () => a.token({ key: b.key })],
    [
      "names A, signed by B's valid key under A's kid",
      'bad-signature',
      () => a.token({ key: b.key, header: { kid: a.key.kid } }),
    ],
    ['names an issuer nobody trusts', 'unknown-issuer', () => a.token({ claims: { iss: 'https://evil.issuer.test' } })],
    ['names no issuer', 'unknown-issuer', () => a.token({ claims: { iss: undefined } })],
    ['has an unknown kid', 'unknown-key', () => a.token({ header: { kid: 'a-unknown' } })],
    ['has no kid', 'missing-kid', () => a.token({ header: { kid: undefined } })],
    ['is unsigned (alg: none)', 'algorithm-refused', () => a.unsignedToken()],
    ["is HS256 with A's public key as the secret", 'algorithm-refused', () => a.publicKeyAsHmacSecretToken()],
    [
      "uses an algorithm outside A's allow-list (RS256, key published by A)",
      'algorithm-refused',
      () => a.token({ key: aRsa }),
    ],
    ['has a wrong aud', 'claims-refused', () => a.token({ claims: { aud: 'another-service' } })],
    ['has no aud', 'claims-refused', () => a.token({ claims: { aud: undefined } })],
    [
      'expired beyond the 30 s skew',
      'expired',
      () => a.token({ claims: { exp: now() - 31, iat: now() - 400, nbf: now() - 400 } }),
    ],
    ['has nbf in the future beyond the skew', 'claims-refused', () => a.token({ claims: { nbf: now() + 120 } })],
    ['has no exp', 'claims-refused', () => a.token({ claims: { exp: undefined } })],
    ['has no nbf', 'claims-refused', () => a.token({ claims: { nbf: undefined } })],
    ['has no sub', 'claims-refused', () => a.token({ claims: { sub: undefined } })],
    ['has a tampered payload', 'bad-signature', () => tampered()],
    ['is not a JWT at all', 'malformed-token', async () => 'not-a-token'],
    [
      "names the local issuer, signed by A under A's kid",
      'unknown-key',
      () => a.token({ claims: { iss: LOCAL_ISSUER } }),
    ],
    ["embeds the signer's key (jwk)", 'unknown-key', () => byMallory({ jwk: mallory.publicJwk })],
    [
      "embeds the signer's key (jwk) under A's kid",
      'bad-signature',
      () => byMallory({ jwk: mallory.publicJwk, kid: a.key.kid }),
    ],
    ["names the signer's JWKS URL (jku)", 'unknown-key', () => byMallory({ jku: trap.url('/jwks.json') })],
    [
      "names the signer's JWKS URL (jku) under A's kid",
      'bad-signature',
      () => byMallory({ jku: trap.url('/jwks.json'), kid: a.key.kid }),
    ],
    [
      "names A, signed by B's key, B's kid, with B's JWKS URL (jku)",
      'unknown-key',
      () => a.rawToken({ key: b.key, header: { jku: b.jwksUri } }),
    ],
    ["names the signer's certificate URL (x5u)", 'unknown-key', () => byMallory({ x5u: trap.url('/cert.pem') })],
    [
      "embeds the signer's self-signed certificate (x5c)",
      'unknown-key',
      () => byMallory({ x5c: [selfSignedCertificate(mallory, 'a.issuer.test')] }),
    ],
    [
      "embeds the signer's self-signed certificate (x5c) under A's kid",
      'bad-signature',
      () => byMallory({ x5c: [selfSignedCertificate(mallory, 'a.issuer.test')], kid: a.key.kid }),
    ],
    [
      'is signed by A but marks an unknown header critical (crit)',
      'unsupported-header',
      () => a.rawToken({ header: { crit: ['exp-policy'], 'exp-policy': 'lenient' } }),
    ],
    [
      'is signed by A and lists a critical header it does not carry',
      'unsupported-header',
      () => a.rawToken({ header: { crit: ['exp-policy'] } }),
    ],
    ['is signed by A with an empty crit list', 'unsupported-header', () => a.rawToken({ header: { crit: [] } })],
    [
      'is signed by A and asks for an unencoded payload (crit b64)',
      'unsupported-header',
      () => a.rawToken({ header: { crit: ['b64'], b64: false } }),
    ],
  ];

  /** Claims of A, signed by an attacker's key that no issuer publishes, with the attacker's kid unless overridden. */
  const byMallory = (header: Record<string, unknown>) => a.rawToken({ key: mallory, header });

  async function tampered(): Promise<string> {
    const [header, , signature] = (await a.token()).split('.');
    const claims = {
      iss: a.iss,
      sub: 'mallory',
      aud: 'incident-timeline',
      scope: 'incidents:write',
      exp: now() + 60,
      nbf: now(),
    };
    return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
  }

  it.each(forgeries)('refuses a token that %s (%s): 401 problem, nothing appended', async (_name, reason, make) => {
    const before = await headPosition();
    const bFetches = b.fetches;
    const response = await openWith(await make());
    // No fetch of a URL the token names: neither the trap nor B's JWKS (the token names A).
    expect({ trapHits: trap.hits, bFetches: b.fetches }).toEqual({ trapHits: 0, bFetches });
    expect(response.status).toBe(401);
    expect(response.contentType).toContain(PROBLEM);
    expect(response.body).toEqual({
      type: 'urn:incident-timeline:problem:unauthorized',
      title: 'Authentication is required',
      status: 401,
      detail: 'The bearer token is not valid',
    });
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="incident-timeline", error="invalid_token"');
    expect(await headPosition()).toBe(before);
    expect(logs.auditOf(response.headers.get('x-correlation-id'))).toMatchObject({
      actor: 'anonymous',
      status: 401,
      authFailure: reason,
    });
  });

  it('refuses a request without a token: 401 that says a token is needed', async () => {
    const before = await headPosition();
    const response = await api.post('/v1/incidents', { id: 'no-token', title: 'x', category: 'other' });
    expect(response.status).toBe(401);
    expect(response.body.detail).toMatch(/needs a bearer token/);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="incident-timeline"');
    expect(await headPosition()).toBe(before);
  });

  it('accepts the valid control tokens of A and B (expired within the skew too) and records who acted', async () => {
    const fromA = await openWith(await a.token({ claims: { sub: 'alice' } }));
    expect(fromA.status).toBe(201);
    const fromB = await openWith(await b.token({ claims: { sub: 'bob', aud: ['other', 'incident-timeline'] } }));
    expect(fromB.status).toBe(201);
    const withinSkew = await openWith(await a.token({ claims: { exp: now() - 20 } }));
    expect(withinSkew.status).toBe(201);
    const history = await api.withToken(await a.token()).get(`/v1/incidents/${fromB.body.id}/history`);
    expect(history.body.items[0]).toMatchObject({
      actor: { iss: b.iss, sub: 'bob' },
      correlationId: fromB.headers.get('x-correlation-id'),
    });
  });

  it('also accepts tokens of the zero-configuration local issuer', async () => {
    expect((await openWith(app.adminToken)).status).toBe(201);
  });

  describe('key rotation', () => {
    const verifier = () => app.app.get(TokenVerifier);
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    it("accepts a token under a kid newly published in A's JWKS, after a refetch", async () => {
      const next = await signingKey('a-2');
      a.published = [...a.published, next];
      await pause(MIN_REFETCH_S * 1000 + 50);
      const response = await openWith(await a.token({ key: next }));
      expect(response.status).toBe(201);
    });

    it("refuses a kid removed from A's JWKS once the cache has expired", async () => {
      const old = a.key;
      const token = await a.token({ key: old });
      expect((await openWith(token)).status).toBe(201);
      a.published = a.published.filter((key) => key.kid !== old.kid);
      await pause(CACHE_MAX_AGE_S * 1000 + 100);
      const before = await headPosition();
      expect((await openWith(token)).status).toBe(401);
      expect(await headPosition()).toBe(before);
      expect(verifier().fetchesFor(a.iss)).toBeGreaterThan(0);
    });

    it("fetches A's JWKS a bounded number of times for a burst of unknown kids", async () => {
      await pause(MIN_REFETCH_S * 1000 + 50);
      const fetchesBefore = a.fetches;
      const tokens = await Promise.all(
        Array.from({ length: 100 }, (_, i) => a.token({ header: { kid: `made-up-${i}` } })),
      );
      const started = Date.now();
      const statuses = await Promise.all(tokens.map(async (token) => (await openWith(token)).status));
      const elapsedMs = Date.now() - started;
      expect(new Set(statuses)).toEqual(new Set([401]));
      // Concurrent requests share one fetch, and no fetch starts within the minimum interval of the last one.
      const fetches = a.fetches - fetchesBefore;
      expect(fetches).toBeLessThanOrEqual(1 + Math.floor(elapsedMs / (MIN_REFETCH_S * 1000)));
      expect(fetches).toBeLessThan(tokens.length / 4);
    });
  });
});
