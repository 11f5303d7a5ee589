import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { eventsBehind, type EventStore } from '@app/event-store';
import { feedMessages, type FeedTopics } from './cloud-events';
import { FeedPublishError, type FeedPublisher, type FeedPublisherFactory } from './feed-publisher.port';
import { LeaseLostError, type Lease, type RelayStateStore } from './relay-state.port';

export interface RelayLogger {
  log(message: unknown, ...rest: unknown[]): void;
  warn(message: unknown, ...rest: unknown[]): void;
  error(message: unknown, ...rest: unknown[]): void;
}

export interface RelayOptions {
  topics: FeedTopics;
  /** Events read from the log, and published in one transaction, at a time. */
  batchSize?: number;
  /** How long the lease lasts without renewal. A standby takes over at most this long after the holder dies. */
  leaseMs?: number;
  /** How often the active relay renews its lease and probes the broker. */
  heartbeatMs?: number;
  probeTimeoutMs?: number;
  /** First wait after a failure before a new producer is made; doubles up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** How long stop() lets an in-flight batch finish before it cuts the producer off. */
  stopGraceMs?: number;
  logger?: RelayLogger;
}

export type RelayRole = 'stopped' | 'standby' | 'active';

export interface RelayHealth {
  ok: boolean;
  role: RelayRole;
  /** Global position up to which the broker has acknowledged everything. */
  position?: number;
  lag?: number;
  brokerReachable?: boolean;
  detail?: string;
  [key: string]: unknown;
}

/** Who we are, as written in the lease: host, process id, and a unique suffix for each relay instance. */
export function relayOwnerId(): string {
  return `${hostname()}/${process.pid}/${randomUUID()}`;
}

/**
 * True when the lease holder was a process on this host that no longer exists: a relay killed with SIGKILL never
 * releases its lease, and its restart should not have to wait for the lease to expire. A holder on another host, or
 * in this process, is never presumed gone.
 */
export function leaseHolderGone(holder: string): boolean {
  const [host, pidText] = holder.split('/');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * The Kafka relay: a checkpointed subscription to the store's global log (never the in-process event bus) that
 * publishes every event, one transaction per batch, and moves its checkpoint only after the broker has acknowledged
 * the batch. A crash between the acknowledgement and the checkpoint republishes that batch on restart: duplicates,
 * with the same `ce_id`, but never a gap.
 *
 * One relay publishes at a time. Relays sharing their state take turns through a lease (in relay.db: the holder
 * renews it, a standby takes over when it expires, or at once when its holder's process is gone; in PostgreSQL: an
 * advisory lock held by a session of its own, which the server releases when that session ends); and every relay of
 * the same topics shares one Kafka transactional id, so the broker fences a producer as soon as a newer one starts,
 * and a relay that lost its lease while paused cannot commit anything afterwards.
 *
 * After any producer failure (broker gone, fenced, timed out) the producer is thrown away, and after a back-off a new
 * one resumes from the checkpoint.
 */
export class Relay {
  readonly owner = relayOwnerId();
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly probeTimeoutMs: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly stopGraceMs: number;
  private readonly progress = new EventEmitter().setMaxListeners(0);

  private role: RelayRole = 'stopped';
  private holder?: string;
  private position = 0n;
  private failure?: string;
  private brokerReachable?: boolean;
  private nextRetryDelayMs: number;
  private controller?: AbortController;
  private session?: AbortController;
  private loop?: Promise<void>;
  private heartbeat?: NodeJS.Timeout;
  /** Set once connected, for the probe; the loop keeps its own reference for disconnecting. */
  private connected?: FeedPublisher;
  private inFlight?: FeedPublisher;
  private probing = false;
  private renewing = false;

  constructor(
    private readonly store: EventStore,
    private readonly state: RelayStateStore,
    private readonly createPublisher: FeedPublisherFactory,
    private readonly options: RelayOptions,
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.leaseMs = options.leaseMs ?? 10_000;
    this.heartbeatMs = options.heartbeatMs ?? 2_000;
    this.probeTimeoutMs = options.probeTimeoutMs ?? 2_000;
    this.retryDelayMs = options.retryDelayMs ?? 500;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 10_000;
    this.stopGraceMs = options.stopGraceMs ?? 5_000;
    this.nextRetryDelayMs = this.retryDelayMs;
  }

  /** Position up to which the broker has acknowledged everything: ours when active, the shared one otherwise. */
  async checkpoint(): Promise<bigint> {
    if (this.role === 'active') return this.position;
    try {
      return await this.state.checkpoint();
    } catch {
      return this.position;
    }
  }

  get currentRole(): RelayRole {
    return this.role;
  }

  start(): void {
    if (this.loop) return;
    this.controller = new AbortController();
    this.role = 'standby';
    this.heartbeat = setInterval(() => this.beat(), this.heartbeatMs);
    this.loop = this.run(this.controller.signal);
  }

  /** Stops publishing and gives the lease up. An in-flight batch gets `stopGraceMs` to finish. */
  async stop(): Promise<void> {
    if (!this.loop) return;
    this.controller?.abort();
    clearInterval(this.heartbeat);
    const grace = setTimeout(() => void this.inFlight?.disconnect(), this.stopGraceMs);
    await this.loop;
    clearTimeout(grace);
    this.loop = undefined;
    this.role = 'stopped';
  }

  /** Events in the log that the broker has not acknowledged yet (by the shared checkpoint, when standing by). */
  async lag(): Promise<bigint> {
    return eventsBehind(this.store, await this.checkpoint());
  }

  /** Resolves true once the broker has acknowledged everything up to `position`, false after `timeoutMs`. */
  async waitFor(position: bigint, timeoutMs: number): Promise<boolean> {
    if (this.position >= position) return true;
    return new Promise((resolve) => {
      const onAdvanced = () => {
        if (this.position >= position) finish(true);
      };
      const finish = (reached: boolean) => {
        clearTimeout(timer);
        this.progress.off('advanced', onAdvanced);
        resolve(reached);
      };
      const timer = setTimeout(() => finish(this.position >= position), timeoutMs);
      this.progress.on('advanced', onAdvanced);
    });
  }

  /** Readiness: a standby is healthy; the active relay is healthy when the broker answers and it keeps up. */
  async health(maxLag: number): Promise<RelayHealth> {
    let lag: number | undefined;
    try {
      lag = Number(await this.lag());
    } catch {
      lag = undefined;
    }
    if (this.role === 'stopped') return { ok: false, role: this.role, detail: 'the relay is not running' };
    if (this.role === 'standby') {
      return { ok: true, role: this.role, lag, detail: 'standing by: another relay holds the lease' };
    }
    const problems: string[] = [];
    if (this.brokerReachable !== true) problems.push('Kafka broker not reachable');
    if (this.failure !== undefined) problems.push('publishing is failing and being retried');
    if (lag === undefined) problems.push('lag unknown: event store not reachable');
    else if (lag > maxLag) problems.push(`lag ${lag} is above ${maxLag}`);
    return {
      ok: problems.length === 0,
      role: this.role,
      position: Number(this.position),
      lag,
      brokerReachable: this.brokerReachable === true,
      ...(problems.length > 0 && { detail: problems.join('; ') }),
    };
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let lease: Lease;
      try {
        lease = await this.state.tryAcquire(this.owner, this.leaseMs, Date.now(), leaseHolderGone);
      } catch (error) {
        this.failure = error instanceof Error ? error.message : String(error);
        this.options.logger?.error({ msg: 'relay cannot read its lease; retrying', error: this.failure });
        await sleep(this.nextRetryDelayMs, signal);
        this.nextRetryDelayMs = Math.min(this.nextRetryDelayMs * 2, this.maxRetryDelayMs);
        continue;
      }
      if (!lease.held) {
        if (this.role !== 'standby' || this.holder !== lease.holder) {
          this.options.logger?.log({ msg: 'relay standing by: another relay holds the lease', holder: lease.holder });
        }
        this.role = 'standby';
        this.holder = lease.holder;
        const untilExpiry = Math.max(lease.expiresAt - Date.now(), 50);
        await sleep(Math.min(untilExpiry, this.leaseMs / 3), signal);
        continue;
      }
      // Stopped while the lease was being taken: publish nothing; the lease is given up below. (An abort listener
      // added to a signal already aborted would never fire, and the session would publish on after `stop`.)
      if (signal.aborted) break;
      if (lease.lost?.aborted) continue;
      if (this.role !== 'active') this.options.logger?.log({ msg: 'relay holds the lease and publishes' });
      this.role = 'active';
      this.holder = this.owner;
      const session = new AbortController();
      const endSession = () => session.abort();
      signal.addEventListener('abort', endSession, { once: true });
      const onLost = () => this.leaseGone(session, 'relay lease lost (its session ended); stopping this session');
      lease.lost?.addEventListener('abort', onLost, { once: true });
      this.session = session;
      try {
        await this.publishFrom(session.signal);
      } catch (error) {
        if (signal.aborted) break;
        // The session was ended because the lease is gone: whatever the publish threw, stand by.
        if (error instanceof LeaseLostError || session.signal.aborted) {
          const holder = error instanceof LeaseLostError ? error.holder : undefined;
          this.options.logger?.warn({ msg: 'relay lost its lease; standing by', holder });
          this.role = 'standby';
          continue;
        }
        this.failure = error instanceof Error ? error.message : String(error);
        if (error instanceof FeedPublishError) this.brokerReachable = false;
        this.options.logger?.error({
          msg:
            error instanceof FeedPublishError && error.fenced
              ? 'relay producer fenced by a newer relay; retrying from the checkpoint'
              : 'relay failed; a new producer resumes from the checkpoint',
          error: this.failure,
          retryInMs: this.nextRetryDelayMs,
        });
        await sleep(this.nextRetryDelayMs, signal);
        this.nextRetryDelayMs = Math.min(this.nextRetryDelayMs * 2, this.maxRetryDelayMs);
      } finally {
        signal.removeEventListener('abort', endSession);
        lease.lost?.removeEventListener('abort', onLost);
        this.session = undefined;
        this.connected = undefined;
        const publisher = this.inFlight;
        this.inFlight = undefined;
        await publisher?.disconnect();
      }
    }
    try {
      await this.state.release(this.owner);
    } catch (error) {
      this.options.logger?.warn({ msg: 'relay could not release its lease', error: String(error) });
    }
  }

  private async publishFrom(signal: AbortSignal): Promise<void> {
    const { topics } = this.options;
    const publisher = this.createPublisher();
    this.inFlight = publisher;
    await publisher.connect();
    await publisher.ensureTopics([topics.events, topics.statusChanges]);
    this.connected = publisher;
    this.brokerReachable = true;
    this.failure = undefined;
    this.nextRetryDelayMs = this.retryDelayMs;
    let position = await this.state.checkpoint();
    this.position = position;
    this.progress.emit('advanced');
    for await (const batch of this.store.subscribe({ after: position, batchSize: this.batchSize, signal })) {
      await publisher.publish(batch.flatMap((event) => feedMessages(event, topics)));
      const last = batch[batch.length - 1].position;
      // Only now, after the broker's acknowledgement, may the checkpoint move.
      await this.state.advance(this.owner, position, last, Date.now());
      position = last;
      this.position = last;
      this.failure = undefined;
      this.brokerReachable = true;
      this.progress.emit('advanced');
    }
  }

  /** Ends a publishing session whose lease is gone, before another relay can take over if it can. */
  private leaseGone(session: AbortController, msg: string): void {
    if (session.signal.aborted) return;
    this.options.logger?.warn({ msg });
    session.abort();
    // An unfinished transaction is cut off rather than committed: its batch is republished by the next holder.
    if (this.session === session) void this.inFlight?.disconnect();
  }

  /** Renews the lease (ending the session at once if it is gone) and probes the broker, between batches or not. */
  private beat(): void {
    const session = this.session;
    if (this.role !== 'active' || !session) return;
    if (!this.renewing) {
      this.renewing = true;
      this.state
        .renew(this.owner, this.leaseMs, Date.now())
        .then(
          (renewed) => {
            if (!renewed) this.leaseGone(session, 'relay lease expired or taken over; stopping this session');
          },
          (error: unknown) =>
            this.options.logger?.warn({ msg: 'relay could not renew its lease', error: String(error) }),
        )
        .finally(() => (this.renewing = false));
    }
    const publisher = this.connected;
    if (!publisher || this.probing) return;
    this.probing = true;
    publisher
      .ping(this.probeTimeoutMs)
      .then(
        () => (this.brokerReachable = true),
        () => (this.brokerReachable = false),
      )
      .finally(() => (this.probing = false));
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => undefined);
}
