import {
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose';
import type { IssuerConfig } from './issuer-registry';
import { JwksCache, KeysUnavailableError, UnknownKeyError } from './jwks-cache';
import { fileJwksSource, httpJwksSource, type JwksSource } from './jwks-source';
import type { AuthFailure, Principal } from './principal';
import { grantedScopes } from './scopes';

/** Clocks disagree; a token is still accepted this many seconds after `exp` and before `nbf`. */
export const CLOCK_SKEW_SECONDS = 30;
export const MAX_TOKEN_LENGTH = 8 * 1024;
const MAX_SUBJECT_LENGTH = 256;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** A token was refused; `reason` is for the audit log, the caller only ever hears "not valid". */
export class AuthenticationError extends Error {
  constructor(readonly reason: AuthFailure) {
    super(`token refused: ${reason}`);
    this.name = 'AuthenticationError';
  }
}

export interface TokenVerifierOptions {
  now?: () => number;
  /** Builds an issuer's key source; the default fetches URLs and reads files. */
  sourceFor?: (issuer: IssuerConfig) => JwksSource;
  onKeysUnavailable?: (issuer: string, error: Error) => void;
}

interface TrustedIssuer {
  config: IssuerConfig;
  keys: JwksCache;
}

/**
 * Verifies bearer JWTs against a registry of issuers. The unverified `iss` only chooses which issuer's keys to try;
 * a token is never checked against another issuer's keys, so a valid key of issuer B cannot vouch for a token that
 * claims to come from A (the Storm-0558 flaw). Keys come from the registry only: a key or key URL carried in the
 * token (`jwk`, `jku`, `x5c`, `x5u`) is never used or fetched. Every check is `jose`'s: signature, algorithm
 * allow-list, `iss`, `aud`, `exp`, `nbf` (all required, 30 s skew) and `typ` where the issuer sets one.
 */
export class TokenVerifier {
  private readonly issuers = new Map<string, TrustedIssuer>();
  private readonly now: () => number;

  constructor(issuers: IssuerConfig[], options: TokenVerifierOptions = {}) {
    this.now = options.now ?? Date.now;
    const sourceFor =
      options.sourceFor ??
      ((issuer: IssuerConfig) =>
        'url' in issuer.jwks ? httpJwksSource(issuer.jwks.url) : fileJwksSource(issuer.jwks.file));
    for (const config of issuers) {
      if (this.issuers.has(config.iss)) throw new Error(`issuer ${config.iss} is configured twice`);
      const keys = new JwksCache(sourceFor(config), {
        maxAgeMs: config.cacheMaxAgeMs,
        minRefetchIntervalMs: config.minRefetchIntervalMs,
        now: this.now,
        onLoadError: (error) => options.onKeysUnavailable?.(config.iss, error),
      });
      this.issuers.set(config.iss, { config, keys });
    }
  }

  get issuerIds(): string[] {
    return [...this.issuers.keys()];
  }

  /** JWKS fetches so far for one issuer (tests use it to show the fetch bound). */
  fetchesFor(iss: string): number {
    return this.issuers.get(iss)?.keys.fetches ?? 0;
  }

  async verify(token: string): Promise<Principal> {
    if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) throw new AuthenticationError('malformed-token');
    let header: ProtectedHeaderParameters;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      throw new AuthenticationError('malformed-token');
    }
    const issuer = typeof unverified.iss === 'string' ? this.issuers.get(unverified.iss) : undefined;
    if (issuer === undefined) throw new AuthenticationError('unknown-issuer');
    if (typeof header.kid !== 'string' || header.kid === '') throw new AuthenticationError('missing-kid');
    if (typeof header.alg !== 'string' || !(issuer.config.algorithms as string[]).includes(header.alg)) {
      throw new AuthenticationError('algorithm-refused');
    }
    // No JWS extension is understood here, so a token that marks any header critical is refused (RFC 7515 4.1.11).
    if (header.crit !== undefined) throw new AuthenticationError('unsupported-header');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, (h, t) => issuer.keys.getKey(h, t), {
        issuer: issuer.config.iss,
        audience: issuer.config.audiences,
        algorithms: issuer.config.algorithms,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'nbf'],
        currentDate: new Date(this.now()),
        ...(issuer.config.typ !== undefined && { typ: issuer.config.typ }),
      }));
    } catch (error) {
      throw new AuthenticationError(failureOf(error));
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub === '' || sub.length > MAX_SUBJECT_LENGTH) {
      throw new AuthenticationError('claims-refused');
    }
    return { iss: issuer.config.iss, sub, scopes: grantedScopes(payload) };
  }
}

function failureOf(error: unknown): AuthFailure {
  if (error instanceof KeysUnavailableError) return 'keys-unavailable';
  if (error instanceof UnknownKeyError || error instanceof errors.JWKSNoMatchingKey) return 'unknown-key';
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'unknown-key';
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) return 'claims-refused';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad-signature';
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return 'algorithm-refused';
  }
  // Anything else jose can say about a token (bad encoding, bad header, bad key shape) is a malformed token.
  return 'malformed-token';
}
