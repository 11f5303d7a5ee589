import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload, type KeyLike } from 'jose';

export interface SigningKey {
  kid: string;
  alg: 'ES256' | 'RS256';
  publicJwk: JWK;
  privateKey: KeyLike;
  publicKey: KeyLike;
}

export async function signingKey(kid: string, alg: 'ES256' | 'RS256' = 'ES256'): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, publicKey, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface TokenOptions {
  /** Claims to set; `undefined` removes a default claim. */
  claims?: Record<string, unknown>;
  /** Header fields to set; `undefined` removes a default field (e.g. `kid`). */
  header?: Record<string, unknown>;
  /** Sign with this key instead of the issuer's current one. */
  key?: SigningKey;
}

/**
 * An OIDC-style issuer for tests: its own keys, a JWKS served over HTTP on loopback (what it publishes can be
 * changed, and fetches are counted), and a signer that can produce well-formed and deliberately broken tokens.
 */
export class TestIssuer {
  published: SigningKey[];
  fetches = 0;
  private constructor(
    readonly iss: string,
    readonly audience: string,
    public key: SigningKey,
    private readonly server: Server,
  ) {
    this.published = [key];
  }

  static async start(name: string, audience = 'incident-timeline', extraKeys: SigningKey[] = []): Promise<TestIssuer> {
    const key = await signingKey(`${name}-1`);
    const server = createServer();
    const issuer = new TestIssuer(`https://${name}.issuer.test`, audience, key, server);
    issuer.published.push(...extraKeys);
    server.on('request', (_request, response) => {
      issuer.fetches += 1;
      response.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
      response.end(JSON.stringify({ keys: issuer.published.map((k) => k.publicJwk) }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return issuer;
  }

  get jwksUri(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  /** A token as a real issuer would mint it (iss, sub, aud, scope, iat, nbf, exp, kid), then the overrides. */
  async token(options: TokenOptions = {}): Promise<string> {
    const key = options.key ?? this.key;
    const now = Math.floor(Date.now() / 1000);
    const claims = withOverrides(
      {
        iss: this.iss,
        sub: 'alice',
        aud: this.audience,
        scope: 'incidents:read incidents:write incidents:admin',
        iat: now,
        nbf: now,
        exp: now + 300,
        jti: randomUUID(),
      },
      options.claims,
    );
    const header = withOverrides({ alg: key.alg, kid: key.kid, typ: 'JWT' }, options.header);
    return new SignJWT(claims as JWTPayload).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
  }

  /** An unsigned token (`alg: none`) with this issuer's claims and kid. */
  async unsignedToken(): Promise<string> {
    const signed = await this.token();
    const payload = signed.split('.')[1];
    const header = base64url(JSON.stringify({ alg: 'none', kid: this.key.kid, typ: 'JWT' }));
    return `${header}.${payload}.`;
  }

  /** HS256 "signed" with the issuer's public key as the HMAC secret: the RS/HS confusion attack. */
  async publicKeyAsHmacSecretToken(): Promise<string> {
    const payload = (await this.token()).split('.')[1];
    const header = base64url(JSON.stringify({ alg: 'HS256', kid: this.key.kid, typ: 'JWT' }));
    const secret = await exportSPKI(this.key.publicKey);
    const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${signature}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}

function withOverrides(base: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  const result = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete result[name];
    else result[name] = value;
  }
  return result;
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}
