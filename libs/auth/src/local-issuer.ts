import { createPrivateKey, createPublicKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportPKCS8, generateKeyPair, SignJWT, type JWK } from 'jose';
import type { IssuerConfig } from './issuer-registry';
import type { Scope } from './scopes';

/** The issuer name of tokens minted by `npm run token`, trusted by the service that shares its DATA_DIR. */
export const LOCAL_ISSUER = 'urn:incident-timeline:local';
/** ES256 (P-256): small keys and signatures, and supported by every JWT library a client might use. */
export const LOCAL_ALGORITHM = 'ES256';
/** RFC 9068 access-token type; the local issuer's tokens must carry it. */
export const LOCAL_TOKEN_TYPE = 'at+jwt';
export const MAX_LOCAL_TOKEN_TTL_SECONDS = 24 * 3600;

const PRIVATE_FILE_MODE = 0o600;
const KEY_DIR_MODE = 0o700;

export class LocalIssuerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalIssuerError';
  }
}

export interface LocalIssuerFiles {
  dir: string;
  /** PKCS#8 PEM, mode 0600: read at start to derive the JWKS and by the token command to sign; never logged. */
  privateKey: string;
  /** The public JWKS the service verifies local tokens against. */
  jwks: string;
}

export function localIssuerFiles(dataDir: string): LocalIssuerFiles {
  const dir = join(dataDir, 'keys');
  return { dir, privateKey: join(dir, 'local-issuer.key.pem'), jwks: join(dir, 'local-issuer.jwks.json') };
}

export function localIssuerConfig(dataDir: string, audience: string): IssuerConfig {
  return {
    iss: LOCAL_ISSUER,
    jwks: { file: localIssuerFiles(dataDir).jwks },
    audiences: [audience],
    algorithms: [LOCAL_ALGORITHM],
    typ: LOCAL_TOKEN_TYPE,
    // A local file: cheap to re-read, so a replaced key pair is picked up within a minute without a restart.
    cacheMaxAgeMs: 60_000,
    minRefetchIntervalMs: 5_000,
  };
}

/**
 * Makes sure the local key pair exists: creates it on first use (private key 0600 in a 0700 directory), and writes
 * the public JWKS from the private key so the two always agree. Safe when two processes start at once: the private
 * key is published with an exclusive link, and the loser reads the winner's key. Returns whether it created the key.
 */
export async function ensureLocalIssuer(dataDir: string): Promise<{ created: boolean; files: LocalIssuerFiles }> {
  const files = localIssuerFiles(dataDir);
  await mkdir(files.dir, { recursive: true, mode: KEY_DIR_MODE });
  let created = false;
  if (!(await exists(files.privateKey))) created = await createPrivateKeyFile(files.privateKey);
  const privateKey = await readPrivateKey(files.privateKey);
  const jwks = `${JSON.stringify({ keys: [await publicJwk(privateKey)] }, null, 2)}\n`;
  const current = await readFile(files.jwks, 'utf8').catch(() => undefined);
  if (current !== jwks) await writeAtomically(files.jwks, jwks);
  return { created, files };
}

export interface LocalTokenRequest {
  dataDir: string;
  audience: string;
  sub: string;
  scopes: Scope[];
  ttlSeconds: number;
  now?: () => number;
}

/** Signs an access token with the local issuer's key: `iss`, `sub`, `aud`, `scope`, `iat`, `nbf`, `exp`, `jti`. */
export async function mintLocalToken(request: LocalTokenRequest): Promise<string> {
  if (!Number.isInteger(request.ttlSeconds) || request.ttlSeconds < 1) {
    throw new LocalIssuerError('the lifetime must be a positive number of seconds');
  }
  if (request.ttlSeconds > MAX_LOCAL_TOKEN_TTL_SECONDS) {
    throw new LocalIssuerError(`the lifetime must be at most ${MAX_LOCAL_TOKEN_TTL_SECONDS / 3600}h`);
  }
  const { files } = await ensureLocalIssuer(request.dataDir);
  const privateKey = await readPrivateKey(files.privateKey);
  const { kid } = await publicJwk(privateKey);
  const issuedAt = Math.floor((request.now ?? Date.now)() / 1000);
  return new SignJWT({ scope: request.scopes.join(' ') })
    .setProtectedHeader({ alg: LOCAL_ALGORITHM, kid, typ: LOCAL_TOKEN_TYPE })
    .setIssuer(LOCAL_ISSUER)
    .setSubject(request.sub)
    .setAudience(request.audience)
    .setIssuedAt(issuedAt)
    .setNotBefore(issuedAt)
    .setExpirationTime(issuedAt + request.ttlSeconds)
    .setJti(randomUUID())
    .sign(privateKey);
}

async function createPrivateKeyFile(path: string): Promise<boolean> {
  const { privateKey } = await generateKeyPair(LOCAL_ALGORITHM, { extractable: true });
  const pem = await exportPKCS8(privateKey);
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, pem, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    // Some filesystems (network volumes, Windows) have no hard links: create the file exclusively instead.
    return writeFile(path, pem, { mode: PRIVATE_FILE_MODE, flag: 'wx' }).then(
      () => true,
      (fallback: NodeJS.ErrnoException) => {
        if (fallback.code === 'EEXIST') return false;
        throw fallback;
      },
    );
  } finally {
    await unlink(temporary);
  }
}

async function readPrivateKey(path: string): Promise<KeyObject> {
  const info = await stat(path);
  // Like ssh: a private key others can read is refused rather than used, so the mistake gets noticed.
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    throw new LocalIssuerError(`the local issuer key ${path} is readable by other users; run: chmod 600 ${path}`);
  }
  try {
    return createPrivateKey({ key: await readFile(path), format: 'pem' });
  } catch {
    throw new LocalIssuerError(
      `the local issuer key ${path} is not a PKCS#8 PEM private key; delete it to make a new one`,
    );
  }
}

async function publicJwk(privateKey: KeyObject): Promise<JWK & { kid: string }> {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk);
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid, alg: LOCAL_ALGORITHM, use: 'sig' };
}

async function writeAtomically(path: string, content: string): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, content, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  await rename(temporary, path);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
