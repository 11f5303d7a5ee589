import { readFile } from 'node:fs/promises';
import type { JSONWebKeySet, JWK } from 'jose';

/** Where an issuer's public keys come from: fetched over HTTPS, or read from a local file. */
export interface JwksSource {
  /** For log lines: the URL or path, never the keys. */
  readonly location: string;
  load(): Promise<JSONWebKeySet>;
}

export class JwksLoadError extends Error {
  constructor(location: string, reason: string) {
    super(`JWKS ${location}: ${reason}`);
    this.name = 'JwksLoadError';
  }
}

export const JWKS_FETCH_TIMEOUT_MS = 5_000;
export const JWKS_MAX_BYTES = 256 * 1024;
export const JWKS_MAX_KEYS = 100;

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const KEY_TYPES = new Set(['RSA', 'EC', 'OKP']);

/**
 * Keeps the keys a token may name: public, asymmetric, for signatures, with a `kid`. A published private or symmetric
 * key is dropped, never used, so a JWKS mistake cannot turn into an HMAC secret or a leak through this service.
 */
export function usableKeys(document: unknown, location: string): JSONWebKeySet {
  const keys = (document as { keys?: unknown })?.keys;
  if (typeof document !== 'object' || document === null || !Array.isArray(keys)) {
    throw new JwksLoadError(location, 'is not a JSON Web Key Set');
  }
  if (keys.length > JWKS_MAX_KEYS) throw new JwksLoadError(location, `has more than ${JWKS_MAX_KEYS} keys`);
  const usable = keys.filter(
    (key): key is JWK =>
      typeof key === 'object' &&
      key !== null &&
      typeof (key as JWK).kid === 'string' &&
      (key as JWK).kid !== '' &&
      KEY_TYPES.has((key as JWK).kty as string) &&
      ((key as JWK).use === undefined || (key as JWK).use === 'sig') &&
      !PRIVATE_MEMBERS.some((member) => member in key),
  );
  return { keys: usable };
}

export function httpJwksSource(url: string, options: { timeoutMs?: number; maxBytes?: number } = {}): JwksSource {
  const timeoutMs = options.timeoutMs ?? JWKS_FETCH_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? JWKS_MAX_BYTES;
  return {
    location: url,
    async load() {
      let response: Response;
      try {
        response = await fetch(url, {
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
          headers: { accept: 'application/jwk-set+json, application/json' },
        });
      } catch (error) {
        const reason = (error as Error)?.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'unreachable';
        throw new JwksLoadError(url, reason);
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new JwksLoadError(url, `answered HTTP ${response.status}`);
      }
      const text = await readBounded(response, maxBytes, url);
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch {
        throw new JwksLoadError(url, 'did not answer JSON');
      }
      return usableKeys(document, url);
    },
  };
}

export function fileJwksSource(path: string): JwksSource {
  return {
    location: path,
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        throw new JwksLoadError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      if (Buffer.byteLength(text) > JWKS_MAX_BYTES) throw new JwksLoadError(path, `is over ${JWKS_MAX_BYTES} bytes`);
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch {
        throw new JwksLoadError(path, 'is not JSON');
      }
      return usableKeys(document, path);
    },
  };
}

async function readBounded(response: Response, maxBytes: number, location: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new JwksLoadError(location, `is over ${maxBytes} bytes`);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new JwksLoadError(location, `is over ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
