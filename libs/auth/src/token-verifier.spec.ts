import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type KeyLike } from 'jose';
import type { IssuerConfig } from './issuer-registry';
import { AuthenticationError, CLOCK_SKEW_SECONDS, TokenVerifier } from './token-verifier';

const NOW = 1_750_000_000;

interface Key {
  kid: string;
  privateKey: KeyLike;
  jwk: JWK;
}

async function key(kid: string, alg: 'ES256' | 'EdDSA' = 'ES256'): Promise<Key> {
  const { publicKey, privateKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : undefined);
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid } };
}

function issuer(iss: string, fields: Partial<IssuerConfig> = {}): IssuerConfig {
  return {
    iss,
    jwks: { url: `https://${iss}/jwks` },
    audiences: ['incident-timeline'],
    algorithms: ['ES256'],
    cacheMaxAgeMs: 600_000,
    minRefetchIntervalMs: 30_000,
    ...fields,
  };
}

async function sign(signer: Key, claims: JWTPayload, header: Record<string, unknown> = {}, alg = 'ES256') {
  return new SignJWT(claims).setProtectedHeader({ alg, kid: signer.kid, ...header }).sign(signer.privateKey);
}

describe('TokenVerifier', () => {
  let a: Key;
  let b: Key;
  let verifier: TokenVerifier;
  const published = new Map<string, JWK[]>();

  const claims = (extra: JWTPayload = {}): JWTPayload => ({
    iss: 'a.example',
    sub: 'alice',
    aud: 'incident-timeline',
    scope: 'incidents:read incidents:write',
    iat: NOW,
    nbf: NOW,
    exp: NOW + 300,
    ...extra,
  });

  const reason = async (token: Promise<string> | string) => {
    try {
      await verifier.verify(await token);
    } catch (error) {
      if (error instanceof AuthenticationError) return error.reason;
      throw error;
    }
    return 'accepted';
  };

  beforeAll(async () => {
    a = await key('a-1');
    b = await key('b-1');
    published.set('a.example', [a.jwk]);
    published.set('b.example', [b.jwk]);
    verifier = new TokenVerifier([issuer('a.example', { typ: 'at+jwt' }), issuer('b.example')], {
      now: () => NOW * 1000,
      sourceFor: (config) => ({ location: config.iss, load: async () => ({ keys: published.get(config.iss)! }) }),
    });
  });

  it('returns the issuer, subject, known scopes and expiry of a valid token', async () => {
    const principal = await verifier.verify(
      await sign(a, claims({ scope: 'incidents:read other:scope' }), { typ: 'at+jwt' }),
    );
    expect(principal).toEqual({
      iss: 'a.example',
      sub: 'alice',
      scopes: new Set(['incidents:read']),
      expiresAt: (NOW + 300) * 1000,
    });
  });

  it('reads scopes from an scp array as some providers send them', async () => {
    const token = await sign(b, { ...claims({ iss: 'b.example', scp: ['incidents:admin'] }), scope: undefined });
    expect((await verifier.verify(token)).scopes).toEqual(new Set(['incidents:admin']));
  });

  it(`allows ${CLOCK_SKEW_SECONDS} s of clock skew on exp and nbf, and no more`, async () => {
    const at = (extra: JWTPayload) => sign(a, claims(extra), { typ: 'at+jwt' });
    expect(await reason(at({ exp: NOW - CLOCK_SKEW_SECONDS + 1 }))).toBe('accepted');
    expect(await reason(at({ exp: NOW - CLOCK_SKEW_SECONDS }))).toBe('expired');
    expect(await reason(at({ nbf: NOW + CLOCK_SKEW_SECONDS }))).toBe('accepted');
    expect(await reason(at({ nbf: NOW + CLOCK_SKEW_SECONDS + 1 }))).toBe('claims-refused');
  });

  it("never tries a key of another issuer: a token naming A signed by B is refused even under B's kid", async () => {
    expect(await reason(sign(b, claims(), { typ: 'at+jwt' }))).toBe('unknown-key');
    expect(await reason(sign({ ...b, kid: a.kid }, claims(), { typ: 'at+jwt' }))).toBe('bad-signature');
  });

  it('checks typ where the issuer sets one', async () => {
    expect(await reason(sign(a, claims()))).toBe('claims-refused');
    expect(await reason(sign(a, claims(), { typ: 'JWT' }))).toBe('claims-refused');
    expect(await reason(sign(b, claims({ iss: 'b.example' })))).toBe('accepted');
  });

  it('refuses an algorithm outside the allow-list before looking for a key', async () => {
    const ed = await key('a-ed', 'EdDSA');
    published.set('a.example', [a.jwk, ed.jwk]);
    expect(await reason(sign(ed, claims(), { typ: 'at+jwt' }, 'EdDSA'))).toBe('algorithm-refused');
  });

  it.each([
    ['', 'malformed-token'],
    ['a.b', 'malformed-token'],
    ['a.b.c.d', 'malformed-token'],
    ['eyJ.eyJ.x', 'malformed-token'],
    [`${'a'.repeat(9000)}.b.c`, 'malformed-token'],
  ])('refuses the malformed token %j', async (token, expected) => {
    expect(await reason(token)).toBe(expected);
  });

  it('refuses a subject that is empty or not a string', async () => {
    expect(await reason(sign(b, claims({ iss: 'b.example', sub: '' })))).toBe('claims-refused');
  });
});
