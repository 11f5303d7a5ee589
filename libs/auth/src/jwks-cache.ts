import { createLocalJWKSet, type FlattenedJWSInput, type JWSHeaderParameters, type KeyLike } from 'jose';
import type { JwksSource } from './jwks-source';

export interface JwksCacheOptions {
  /** Keys fetched longer ago than this are not used until fetched again. */
  maxAgeMs: number;
  /** At most one fetch in this interval (capped at maxAgeMs), however many requests name an unknown `kid`. */
  minRefetchIntervalMs: number;
  now?: () => number;
  /** Told why a fetch failed (location and reason; never key material). */
  onLoadError?: (error: Error) => void;
}

/** The issuer's keys could not be had fresh enough to verify anything. */
export class KeysUnavailableError extends Error {
  constructor() {
    super('the issuer keys are not available');
    this.name = 'KeysUnavailableError';
  }
}

/** The token names a `kid` that the issuer does not publish (after a refetch, when one was allowed). */
export class UnknownKeyError extends Error {
  constructor() {
    super('no key with this kid');
    this.name = 'UnknownKeyError';
  }
}

interface Loaded {
  resolve: ReturnType<typeof createLocalJWKSet>;
  kids: ReadonlySet<string>;
  fetchedAt: number;
}

/**
 * One issuer's JWKS, cached. Stale keys are never used: after maxAge they are fetched again, so a key the issuer
 * removed stops verifying. An unknown `kid` may trigger a fetch (that is how a newly published key is learnt), but
 * fetches are bounded: concurrent requests share one fetch, and no fetch starts within minRefetchInterval of the
 * previous attempt, failed or not. A flood of made-up `kid`s therefore costs the issuer at most one request per
 * interval.
 */
export class JwksCache {
  private loaded?: Loaded;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private inFlight?: Promise<void>;
  private fetchCount = 0;
  private readonly now: () => number;
  private readonly minIntervalMs: number;

  constructor(
    private readonly source: JwksSource,
    private readonly options: JwksCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.minIntervalMs = Math.min(options.minRefetchIntervalMs, options.maxAgeMs);
  }

  /** How many times the source was asked, for tests and metrics. */
  get fetches(): number {
    return this.fetchCount;
  }

  /** A `jose` key resolver: the key with the header's `kid`, fetched again when stale or unknown and allowed. */
  async getKey(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<KeyLike | Uint8Array> {
    const kid = header.kid;
    if (typeof kid !== 'string') throw new UnknownKeyError();
    if (!this.fresh() || !this.loaded!.kids.has(kid)) await this.refresh();
    if (!this.fresh()) throw new KeysUnavailableError();
    if (!this.loaded!.kids.has(kid)) throw new UnknownKeyError();
    return this.loaded!.resolve(header, token);
  }

  private fresh(): boolean {
    return this.loaded !== undefined && this.now() - this.loaded.fetchedAt < this.options.maxAgeMs;
  }

  private async refresh(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.now() - this.lastAttemptAt < this.minIntervalMs) return;
    this.lastAttemptAt = this.now();
    this.fetchCount += 1;
    this.inFlight = this.source
      .load()
      .then(
        (jwks) => {
          this.loaded = {
            resolve: createLocalJWKSet(jwks),
            kids: new Set(jwks.keys.map((key) => key.kid as string)),
            fetchedAt: this.now(),
          };
        },
        (error: unknown) => {
          this.options.onLoadError?.(error instanceof Error ? error : new Error('JWKS load failed'));
        },
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}
