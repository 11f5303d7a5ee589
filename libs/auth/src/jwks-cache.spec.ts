import { exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet, type JWK, type KeyLike } from 'jose';
import { JwksCache, KeysUnavailableError, UnknownKeyError } from './jwks-cache';
import type { JwksSource } from './jwks-source';

async function keyPair(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { jwk, privateKey, kid };
}

/** A key source under the test's control: what it publishes, whether it answers, and how often it was asked. */
function controlledSource(initial: JWK[]) {
  const state = { keys: initial, failing: false, loads: 0, gate: undefined as Promise<void> | undefined };
  const source: JwksSource = {
    location: 'test',
    async load(): Promise<JSONWebKeySet> {
      state.loads += 1;
      if (state.gate) await state.gate;
      if (state.failing) throw new Error('down');
      return { keys: state.keys };
    },
  };
  return { state, source };
}

async function headerAndToken(kid: string, privateKey: KeyLike) {
  const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey);
  const [protectedHeader, payload, signature] = jwt.split('.');
  return { header: { alg: 'ES256', kid }, token: { protected: protectedHeader, payload, signature } };
}

describe('JwksCache', () => {
  let clock: number;
  const now = () => clock;
  beforeEach(() => {
    clock = 1_000_000;
  });

  it('fetches once and serves known kids from the cache while fresh', async () => {
    const a = await keyPair('a');
    const { state, source } = controlledSource([a.jwk]);
    const cache = new JwksCache(source, { maxAgeMs: 60_000, minRefetchIntervalMs: 10_000, now });
    const { header, token } = await headerAndToken('a', a.privateKey);
    for (let i = 0; i < 5; i += 1) await cache.getKey(header, token);
    expect(state.loads).toBe(1);
  });

  it('learns a newly published kid by refetching, but not within the minimum interval', async () => {
    const a = await keyPair('a');
    const b = await keyPair('b');
    const { state, source } = controlledSource([a.jwk]);
    const cache = new JwksCache(source, { maxAgeMs: 60_000, minRefetchIntervalMs: 10_000, now });
    const forA = await headerAndToken('a', a.privateKey);
    await cache.getKey(forA.header, forA.token);
    state.keys = [a.jwk, b.jwk];
    const forB = await headerAndToken('b', b.privateKey);
    clock += 5_000;
    await expect(cache.getKey(forB.header, forB.token)).rejects.toBeInstanceOf(UnknownKeyError);
    expect(state.loads).toBe(1);
    clock += 5_000;
    await expect(cache.getKey(forB.header, forB.token)).resolves.toBeDefined();
    expect(state.loads).toBe(2);
  });

  it('stops accepting a removed kid once the cache has expired', async () => {
    const a = await keyPair('a');
    const b = await keyPair('b');
    const { state, source } = controlledSource([a.jwk, b.jwk]);
    const cache = new JwksCache(source, { maxAgeMs: 60_000, minRefetchIntervalMs: 10_000, now });
    const forA = await headerAndToken('a', a.privateKey);
    await cache.getKey(forA.header, forA.token);
    state.keys = [b.jwk];
    clock += 59_000;
    await expect(cache.getKey(forA.header, forA.token)).resolves.toBeDefined();
    clock += 1_000;
    await expect(cache.getKey(forA.header, forA.token)).rejects.toBeInstanceOf(UnknownKeyError);
  });

  it('shares one fetch among concurrent requests and bounds fetches for a flood of unknown kids', async () => {
    const a = await keyPair('a');
    const { state, source } = controlledSource([a.jwk]);
    let open!: () => void;
    state.gate = new Promise((resolve) => (open = resolve));
    const cache = new JwksCache(source, { maxAgeMs: 60_000, minRefetchIntervalMs: 10_000, now });
    const forA = await headerAndToken('a', a.privateKey);
    const first = Promise.all(Array.from({ length: 20 }, () => cache.getKey(forA.header, forA.token)));
    open();
    await first;
    expect(state.loads).toBe(1);
    state.gate = undefined;
    const attempts: Promise<unknown>[] = [];
    for (let second = 0; second < 60; second += 1) {
      clock += 1_000;
      for (let i = 0; i < 10; i += 1) {
        const forged = await headerAndToken(`made-up-${second}-${i}`, a.privateKey);
        attempts.push(cache.getKey(forged.header, forged.token).catch((error: unknown) => error));
      }
    }
    const outcomes = await Promise.all(attempts);
    expect(outcomes.every((outcome) => outcome instanceof UnknownKeyError)).toBe(true);
    // 600 unknown kids over 60 s with a 10 s interval: at most 6 more fetches.
    expect(state.loads - 1).toBeLessThanOrEqual(6);
  });

  it('refuses with KeysUnavailableError when stale keys cannot be refreshed, and retries only after the interval', async () => {
    const a = await keyPair('a');
    const { state, source } = controlledSource([a.jwk]);
    const errors: Error[] = [];
    const cache = new JwksCache(source, {
      maxAgeMs: 60_000,
      minRefetchIntervalMs: 10_000,
      now,
      onLoadError: (error) => errors.push(error),
    });
    const forA = await headerAndToken('a', a.privateKey);
    await cache.getKey(forA.header, forA.token);
    state.failing = true;
    clock += 60_000;
    await expect(cache.getKey(forA.header, forA.token)).rejects.toBeInstanceOf(KeysUnavailableError);
    await expect(cache.getKey(forA.header, forA.token)).rejects.toBeInstanceOf(KeysUnavailableError);
    expect(state.loads).toBe(2);
    expect(errors).toHaveLength(1);
    state.failing = false;
    clock += 10_000;
    await expect(cache.getKey(forA.header, forA.token)).resolves.toBeDefined();
  });

  it('refuses a header without a kid, even though the set holds a single key', async () => {
    const a = await keyPair('a');
    const { source } = controlledSource([a.jwk]);
    const cache = new JwksCache(source, { maxAgeMs: 60_000, minRefetchIntervalMs: 10_000, now });
    const forA = await headerAndToken('a', a.privateKey);
    await expect(cache.getKey({ alg: 'ES256' }, forA.token)).rejects.toBeInstanceOf(UnknownKeyError);
  });
});
