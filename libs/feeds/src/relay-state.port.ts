/**
 * The relay's durable state: the position up to which the broker has acknowledged everything, and a lease that lets
 * one relay publish at a time. Times are epoch milliseconds. Each adapter decides how the lease is kept (a row with
 * an expiry, or a lock that lives as long as a database session), but all of them give the same guarantees: one
 * holder at a time, and a checkpoint that moves only for the holder.
 */
export interface Lease {
  held: boolean;
  /** Who holds it now. */
  holder: string;
  /** When to ask again: the lease's expiry, or the next time a standby should try. */
  expiresAt: number;
  /**
   * Aborted as soon as the adapter learns that a held lease is gone (its database session ended), so that the relay
   * stops at once rather than at its next renewal. Adapters that only learn it by renewing leave it out.
   */
  lost?: AbortSignal;
}

export interface RelayStateStore {
  checkpoint(): Promise<bigint>;
  /** Takes the lease when it is free, expired, already ours, or its holder is known to be gone. */
  tryAcquire(owner: string, ttlMs: number, nowMs: number, holderGone: (holder: string) => boolean): Promise<Lease>;
  /** Extends our lease; false when it is no longer ours (expired, taken over, or its session is gone). */
  renew(owner: string, ttlMs: number, nowMs: number): Promise<boolean>;
  /** Gives the lease up, if it is ours, so that a standby can take over at once. */
  release(owner: string): Promise<void>;
  /**
   * Moves the checkpoint from `expected` to `position`, only while `owner` holds an unexpired lease; otherwise rejects
   * with LeaseLostError (or RelayCheckpointMovedError if the stored checkpoint is not `expected`).
   */
  advance(owner: string, expected: bigint, position: bigint, nowMs: number): Promise<void>;
  close(): Promise<void>;
}

export class LeaseLostError extends Error {
  constructor(readonly holder: string | undefined) {
    super(`The relay lease is no longer ours${holder ? ` (held by ${holder})` : ''}`);
    this.name = 'LeaseLostError';
  }
}

export class RelayCheckpointMovedError extends Error {
  constructor(
    readonly expected: bigint,
    readonly actual: bigint,
  ) {
    super(`The relay checkpoint moved from ${expected} to ${actual} under this relay`);
    this.name = 'RelayCheckpointMovedError';
  }
}
