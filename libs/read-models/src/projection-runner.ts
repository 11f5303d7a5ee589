import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { eventsBehind, type EventStore } from '@app/event-store';
import { INCIDENT_PROJECTION_NAME, projectBatch } from './incident.projection';
import { CheckpointMovedError, type ParkedIncident, type ReadModelStore } from './read-model.port';

export interface RunnerLogger {
  log(message: unknown, ...rest: unknown[]): void;
  error(message: unknown, ...rest: unknown[]): void;
}

/**
 * Who may project: with read models shared by several API processes exactly one of them writes, chosen by a lock
 * that another takes over when its holder dies. `acquire` resolves once this process holds the lock (or the signal
 * aborts); `lost` resolves if the lock is lost afterwards; `release` gives the lock up, if held, and closes whatever
 * the lock kept open to wait for it.
 */
export interface ProjectorLock {
  acquire(signal: AbortSignal): Promise<boolean>;
  lost(): Promise<void>;
  release(): Promise<void>;
}

export interface ProjectionRunnerOptions {
  logger?: RunnerLogger;
  retryDelayMs?: number;
  /** Absent: this process is the only writer of its read models. */
  lock?: ProjectorLock;
  /** How often a process that does not project reads the shared checkpoint. */
  followIntervalMs?: number;
  /** Called once for each incident a batch parks (its event cannot be applied). */
  onParked?: (parked: ParkedIncident) => void;
}

/**
 * Keeps the read models up to date: a subscription to the store's global log from the projection's checkpoint, each
 * batch applied together with the checkpoint in one transaction. After any failure it starts again from the stored
 * checkpoint, so nothing is skipped and replays change nothing. Processes that do not hold the projector lock follow
 * the shared checkpoint instead, so read-your-writes and readiness work on every replica.
 */
export class ProjectionRunner {
  private readonly applied = new EventEmitter().setMaxListeners(0);
  private controller?: AbortController;
  private loops: Promise<void>[] = [];
  private position = 0n;
  private lastError?: string;
  private leading = false;
  private caughtUp = false;
  private startHead?: bigint;
  private batches?: AbortController;
  private readonly retryDelayMs: number;
  private readonly followIntervalMs: number;

  constructor(
    private readonly store: EventStore,
    private readonly readModels: ReadModelStore,
    private readonly options: ProjectionRunnerOptions = {},
  ) {
    this.retryDelayMs = options.retryDelayMs ?? 500;
    this.followIntervalMs = options.followIntervalMs ?? 100;
  }

  get checkpoint(): bigint {
    return this.position;
  }

  get failure(): string | undefined {
    return this.lastError;
  }

  /** Whether this process is the one projecting. */
  get isProjector(): boolean {
    return this.leading;
  }

  /**
   * Whether the read models have caught up with the log as it stood when the runner started: until then (a fresh
   * projection version building beside the old one, a new replica) queries fold the log instead.
   */
  get serving(): boolean {
    return this.caughtUp;
  }

  /**
   * Starts projecting (or competing for the projector lock). With `project: false` the process only follows the
   * checkpoint that another process (a worker, another replica) writes.
   */
  start({ project = true }: { project?: boolean } = {}): void {
    if (this.controller) return;
    this.controller = new AbortController();
    const signal = this.controller.signal;
    this.loops = [];
    if (project) this.loops.push(this.project(signal));
    if (this.options.lock || !project) this.loops.push(this.follow(signal));
  }

  async stop(): Promise<void> {
    this.controller?.abort();
    await Promise.all(this.loops);
    this.loops = [];
    this.controller = undefined;
    // A follower holds a session too (the one it keeps trying the lock on): release closes it either way.
    await this.options.lock?.release();
    this.leading = false;
  }

  /** Resolves true once the read models have applied `position`, false when `timeoutMs` passes first. */
  async waitFor(position: bigint, timeoutMs: number): Promise<boolean> {
    if (this.position >= position) return true;
    return new Promise((resolve) => {
      const onApplied = () => {
        if (this.position < position) return;
        finish(true);
      };
      const finish = (reached: boolean) => {
        clearTimeout(timer);
        this.applied.off('applied', onApplied);
        resolve(reached);
      };
      const timer = setTimeout(() => finish(this.position >= position), timeoutMs);
      this.applied.on('applied', onApplied);
    });
  }

  async lag(): Promise<bigint> {
    return eventsBehind(this.store, this.position);
  }

  private advance(position: bigint): void {
    if (position > this.position) this.position = position;
    if (!this.caughtUp && this.startHead !== undefined && this.position >= this.startHead) this.caughtUp = true;
    this.applied.emit('applied');
  }

  private async project(signal: AbortSignal): Promise<void> {
    this.startHead = await this.store.headPosition().catch(() => undefined);
    // Without a lock to elect one (SQLite: one process per data directory), this process is the projector.
    if (!this.options.lock) this.leading = true;
    while (!signal.aborted) {
      const batches = new AbortController();
      this.batches = batches;
      if (this.options.lock && !this.leading) {
        this.leading = await this.options.lock.acquire(signal);
        if (!this.leading) break;
        this.options.logger?.log({ msg: 'this process now runs the projections' });
        void this.options.lock.lost().then(() => {
          this.leading = false;
          this.batches?.abort();
        });
      }
      const abort = () => batches.abort();
      signal.addEventListener('abort', abort, { once: true });
      try {
        let position = await this.readModels.checkpoint(INCIDENT_PROJECTION_NAME);
        this.advance(position);
        for await (const batch of this.store.subscribe({ after: position, signal: batches.signal })) {
          const parked = await projectBatch(this.readModels, batch, position);
          for (const incident of parked) {
            this.options.logger?.error({
              msg: 'event cannot be projected; its incident is parked until retried',
              incidentId: incident.incidentId,
              eventId: incident.eventId,
              position: incident.position.toString(),
              error: incident.error,
            });
            this.options.onParked?.(incident);
          }
          position = batch[batch.length - 1].position;
          this.lastError = undefined;
          this.advance(position);
        }
      } catch (error) {
        if (signal.aborted) break;
        if (batches.signal.aborted) continue;
        if (error instanceof CheckpointMovedError) {
          this.options.logger?.log({
            msg: 'projection checkpoint moved; resuming from the stored checkpoint',
            error: error.message,
          });
          continue;
        }
        this.lastError = error instanceof Error ? error.message : String(error);
        this.options.logger?.error({ msg: 'projection failed; retrying from checkpoint', error: this.lastError });
        await delay(this.retryDelayMs, undefined, { signal }).catch(() => undefined);
      } finally {
        signal.removeEventListener('abort', abort);
      }
    }
  }

  /** While another process projects, read the shared checkpoint. */
  private async follow(signal: AbortSignal): Promise<void> {
    this.startHead ??= await this.store.headPosition().catch(() => undefined);
    while (!signal.aborted) {
      if (!this.leading) {
        try {
          this.advance(await this.readModels.checkpoint(INCIDENT_PROJECTION_NAME));
        } catch (error) {
          this.lastError = error instanceof Error ? error.message : String(error);
        }
      }
      await delay(this.followIntervalMs, undefined, { signal }).catch(() => undefined);
    }
  }
}
