import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDurationSeconds } from './duration';
import {
  ensureLocalIssuer,
  LOCAL_ISSUER,
  LocalIssuerError,
  localIssuerConfig,
  localIssuerFiles,
  mintLocalToken,
} from './local-issuer';
import { TokenVerifier } from './token-verifier';

describe('local issuer', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'local-issuer-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const mint = (extra: Partial<Parameters<typeof mintLocalToken>[0]> = {}) =>
    mintLocalToken({
      dataDir,
      audience: 'incident-timeline',
      sub: 'alice',
      scopes: ['incidents:read'],
      ttlSeconds: 60,
      ...extra,
    });

  it('creates a P-256 key pair once: private key 0600 in a 0700 directory, and its public JWKS', async () => {
    const first = await ensureLocalIssuer(dataDir);
    const second = await ensureLocalIssuer(dataDir);
    expect([first.created, second.created]).toEqual([true, false]);
    const files = localIssuerFiles(dataDir);
    expect(statSync(files.dir).mode & 0o777).toBe(0o700);
    expect(statSync(files.privateKey).mode & 0o777).toBe(0o600);
    expect(readFileSync(files.privateKey, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const jwks = JSON.parse(readFileSync(files.jwks, 'utf8'));
    expect(jwks.keys).toEqual([
      {
        kty: 'EC',
        crv: 'P-256',
        x: expect.any(String),
        y: expect.any(String),
        kid: expect.any(String),
        alg: 'ES256',
        use: 'sig',
      },
    ]);
  });

  it('ends with one key when several processes start at once', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => ensureLocalIssuer(dataDir)));
    expect(results.filter((result) => result.created)).toHaveLength(1);
    const jwks = JSON.parse(readFileSync(localIssuerFiles(dataDir).jwks, 'utf8'));
    expect(jwks.keys).toHaveLength(1);
  });

  it('mints tokens that the verifier accepts as the local issuer', async () => {
    const verifier = new TokenVerifier([localIssuerConfig(dataDir, 'incident-timeline')]);
    const principal = await verifier.verify(await mint({ scopes: ['incidents:read', 'incidents:write'] }));
    expect(principal).toEqual({
      iss: LOCAL_ISSUER,
      sub: 'alice',
      scopes: new Set(['incidents:read', 'incidents:write']),
      expiresAt: expect.any(Number),
    });
  });

  it('refuses to use a private key that other users can read', async () => {
    await ensureLocalIssuer(dataDir);
    chmodSync(localIssuerFiles(dataDir).privateKey, 0o644);
    await expect(mint()).rejects.toThrow(LocalIssuerError);
    await expect(ensureLocalIssuer(dataDir)).rejects.toThrow(/readable by other users; run: chmod 600/);
  });

  it('refuses a lifetime over 24 h or under 1 s', async () => {
    await expect(mint({ ttlSeconds: 24 * 3600 + 1 })).rejects.toThrow(/at most 24h/);
    await expect(mint({ ttlSeconds: 0 })).rejects.toThrow(/positive/);
  });

  it.each([
    ['90', 90],
    ['90s', 90],
    ['30m', 1800],
    ['1h', 3600],
    ['1d', 86_400],
    ['0', undefined],
    ['1w', undefined],
    ['-1h', undefined],
    ['1.5h', undefined],
  ])('reads the duration %j as %j seconds', (text, seconds) => {
    expect(parseDurationSeconds(text)).toBe(seconds);
  });
});
