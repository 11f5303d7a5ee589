import { createHmac, randomUUID, sign, X509Certificate, type KeyObject } from 'node:crypto';
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

  /**
   * Like `token`, but signed here rather than by jose, which refuses to sign some of the headers an attacker would
   * send (an unknown `crit`, an empty one). ES256 and RS256 keys only.
   */
  async rawToken(options: TokenOptions = {}): Promise<string> {
    const key = options.key ?? this.key;
    const [, payload] = (await this.token({ ...options, header: {} })).split('.');
    const header = base64url(JSON.stringify(withOverrides({ alg: key.alg, kid: key.kid, typ: 'JWT' }, options.header)));
    const signature = sign('sha256', Buffer.from(`${header}.${payload}`), {
      key: key.privateKey as KeyObject,
      ...(key.alg === 'ES256' && { dsaEncoding: 'ieee-p1363' as const }),
    });
    return `${header}.${payload}.${signature.toString('base64url')}`;
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

/**
 * A loopback HTTP server that answers every request with `body` and counts the requests: the URL a forged token
 * names (`jku`, `x5u`), to prove that the service never fetches it.
 */
export class LoopbackTrap {
  hits = 0;
  private constructor(private readonly server: Server) {}

  static async start(body: string, contentType = 'application/json'): Promise<LoopbackTrap> {
    const server = createServer();
    const trap = new LoopbackTrap(server);
    server.on('request', (_request, response) => {
      trap.hits += 1;
      response.writeHead(200, { 'content-type': contentType, connection: 'close' });
      response.end(body);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return trap;
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}

/**
 * A self-signed X.509 certificate (DER, base64 as in an `x5c` header) for an ES256 key: what an attacker embeds to
 * vouch for its own key. Built by hand (a few DER structures) because Node can parse certificates but not make them.
 */
export function selfSignedCertificate(key: SigningKey, commonName: string): string {
  const ecdsaWithSha256 = der(0x30, der(0x06, Buffer.from('2a8648ce3d040302', 'hex')));
  const name = der(
    0x30,
    der(0x31, der(0x30, der(0x06, Buffer.from('550403', 'hex')), der(0x0c, Buffer.from(commonName, 'utf8')))),
  );
  const validity = der(0x30, der(0x17, Buffer.from('250101000000Z')), der(0x17, Buffer.from('491231235959Z')));
  const spki = (key.publicKey as KeyObject).export({ type: 'spki', format: 'der' });
  const tbs = der(
    0x30,
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, Buffer.from([1])),
    ecdsaWithSha256,
    name,
    validity,
    name,
    spki,
  );
  const signature = sign('sha256', tbs, { key: key.privateKey as KeyObject, dsaEncoding: 'der' });
  const certificate = der(0x30, tbs, ecdsaWithSha256, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  // A certificate that does not parse, or whose signature does not hold, would make the attack a strawman.
  if (!new X509Certificate(certificate).verify(key.publicKey as KeyObject)) throw new Error('certificate not valid');
  return certificate.toString('base64');
}

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const length =
    body.length < 0x80
      ? Buffer.from([body.length])
      : body.length < 0x100
        ? Buffer.from([0x81, body.length])
        : Buffer.from([0x82, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}
