import { readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';

/**
 * Signature algorithms an issuer may be allowed. Symmetric (HS*) algorithms are absent on purpose: a shared secret
 * would let this service mint tokens, and an HS allow-list is how a public key gets misused as an HMAC secret.
 */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

export type JwsAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

export type JwksLocation = { url: string } | { file: string };

/** One trusted issuer: a token naming `iss` is verified against these keys and no others. */
export interface IssuerConfig {
  iss: string;
  jwks: JwksLocation;
  audiences: string[];
  algorithms: JwsAlgorithm[];
  /** When set, the token's `typ` header must equal it (e.g. `at+jwt`, RFC 9068). */
  typ?: string;
  /** Keys older than this are fetched again before use, so a key removed from the JWKS stops working. */
  cacheMaxAgeMs: number;
  /** At most one fetch per issuer in this interval, however many unknown `kid`s arrive. */
  minRefetchIntervalMs: number;
}

export const DEFAULT_CACHE_MAX_AGE_MS = 10 * 60_000;
export const DEFAULT_MIN_REFETCH_INTERVAL_MS = 30_000;

export class IssuerRegistryError extends Error {
  constructor(source: string, field: string, message: string) {
    super(`Invalid issuer registry ${source}: ${field} ${message}`);
    this.name = 'IssuerRegistryError';
  }
}

const FIELDS = new Set([
  'iss',
  'jwksUri',
  'jwksFile',
  'audiences',
  'algorithms',
  'typ',
  'cacheMaxAgeSeconds',
  'minRefetchIntervalSeconds',
]);

export interface RegistryDefaults {
  /** Accepted when an issuer lists no audiences: this service's own identifier. */
  audience: string;
  /** Relative `jwksFile` paths resolve against this directory (the registry file's own). */
  baseDir: string;
}

/**
 * Reads the registry file (JSON or YAML): `{ issuers: [{ iss, jwksUri | jwksFile, audiences, algorithms, typ?,
 * cacheMaxAgeSeconds?, minRefetchIntervalSeconds? }] }`. Every rule is checked here, once, at start.
 */
export function loadIssuerRegistryFile(path: string, audience: string): IssuerConfig[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new IssuerRegistryError(path, 'file', `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let document: unknown;
  try {
    document = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch {
    throw new IssuerRegistryError(path, 'file', 'is not valid JSON or YAML');
  }
  return parseIssuerRegistry(document, path, { audience, baseDir: dirname(path) });
}

export function parseIssuerRegistry(document: unknown, source: string, defaults: RegistryDefaults): IssuerConfig[] {
  const fail = (field: string, message: string): never => {
    throw new IssuerRegistryError(source, field, message);
  };
  if (!isRecord(document) || !Array.isArray(document.issuers)) fail('issuers', 'must be a list of issuers');
  const unknownTop = Object.keys(document as object).filter((key) => key !== 'issuers');
  if (unknownTop.length > 0) fail(unknownTop[0], 'is not a known field');
  const seen = new Set<string>();
  return (document as { issuers: unknown[] }).issuers.map((entry, index) => {
    const at = `issuers[${index}]`;
    if (!isRecord(entry)) return fail(at, 'must be an object');
    const unknown = Object.keys(entry).filter((key) => !FIELDS.has(key));
    if (unknown.length > 0) fail(`${at}.${unknown[0]}`, 'is not a known field');

    const iss = entry.iss;
    if (typeof iss !== 'string' || iss.trim() === '' || iss.length > 512)
      fail(`${at}.iss`, 'must be a non-empty string');
    if (seen.has(iss as string)) fail(`${at}.iss`, `repeats ${JSON.stringify(iss)}: each issuer is listed once`);
    seen.add(iss as string);

    const jwks = jwksLocation(entry, at, defaults.baseDir, fail);
    const audiences = entry.audiences === undefined ? [defaults.audience] : entry.audiences;
    if (!isNonEmptyStringList(audiences)) fail(`${at}.audiences`, 'must be a non-empty list of strings');

    const algorithms = entry.algorithms;
    if (!isNonEmptyStringList(algorithms)) fail(`${at}.algorithms`, 'must be a non-empty list of algorithm names');
    (algorithms as string[]).forEach((alg, i) => {
      if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
        fail(
          `${at}.algorithms[${i}]`,
          `must be one of ${ASYMMETRIC_ALGORITHMS.join(', ')}, got ${JSON.stringify(alg)}`,
        );
      }
    });

    if (entry.typ !== undefined && (typeof entry.typ !== 'string' || entry.typ.trim() === '')) {
      fail(`${at}.typ`, 'must be a non-empty string');
    }
    const cacheMaxAgeMs = seconds(
      entry.cacheMaxAgeSeconds,
      DEFAULT_CACHE_MAX_AGE_MS,
      86_400,
      `${at}.cacheMaxAgeSeconds`,
      fail,
    );
    const minRefetchIntervalMs = seconds(
      entry.minRefetchIntervalSeconds,
      DEFAULT_MIN_REFETCH_INTERVAL_MS,
      3_600,
      `${at}.minRefetchIntervalSeconds`,
      fail,
    );
    return {
      iss: iss as string,
      jwks,
      audiences: audiences as string[],
      algorithms: algorithms as JwsAlgorithm[],
      ...(entry.typ !== undefined && { typ: entry.typ as string }),
      cacheMaxAgeMs,
      minRefetchIntervalMs,
    };
  });
}

function jwksLocation(
  entry: Record<string, unknown>,
  at: string,
  baseDir: string,
  fail: (field: string, message: string) => never,
): JwksLocation {
  const { jwksUri, jwksFile } = entry;
  if ((jwksUri === undefined) === (jwksFile === undefined)) fail(at, 'must have exactly one of jwksUri and jwksFile');
  if (jwksFile !== undefined) {
    if (typeof jwksFile !== 'string' || jwksFile === '') fail(`${at}.jwksFile`, 'must be a path');
    const file = jwksFile as string;
    return { file: isAbsolute(file) ? file : resolve(baseDir, file) };
  }
  let url: URL | undefined;
  try {
    url = typeof jwksUri === 'string' ? new URL(jwksUri) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined) return fail(`${at}.jwksUri`, 'must be a URL');
  // Plain http would let anyone on the path substitute the keys; it is allowed only to this machine, for tests.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    fail(`${at}.jwksUri`, 'must be an https URL (http is allowed on a loopback address only)');
  }
  if (url.username !== '' || url.password !== '') fail(`${at}.jwksUri`, 'must not carry credentials');
  return { url: url.toString() };
}

function seconds(
  value: unknown,
  defaultMs: number,
  maxSeconds: number,
  field: string,
  fail: (field: string, message: string) => never,
): number {
  if (value === undefined) return defaultMs;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > maxSeconds) {
    fail(field, `must be a number of seconds above 0 and at most ${maxSeconds}`);
  }
  return Math.round((value as number) * 1000);
}

function isLoopback(hostname: string): boolean {
  const bare = hostname.replace(/^\[(.*)\]$/, '$1');
  return bare === 'localhost' || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.'));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyStringList(value: unknown): value is string[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((item) => typeof item === 'string' && item.trim() !== '' && item.length <= 512)
  );
}
