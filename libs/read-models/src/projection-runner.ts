import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { EventStore } from '@app/event-store';
import { INCIDENT_PROJECTION, projectBatch } from './incident.projection';
import { CheckpointMovedError, type SqliteReadModelStore } from './sqlite.read-model-store';

export interface RunnerLogger {
  log(message: unknown, ...rest: unknown[]): void;
  error(message: unknown, ...rest: unknown[]): void;
}

/**
 * Keeps the read models up to date: a subscription to the store's global log from the projection's checkpoint, each
 * batch applied together with the checkpoint in one transaction. After any failure it starts again from the stored
 * checkpoint, so nothing is skipped and replays change nothing.
 */
export class ProjectionRunner {
  private readonly applied = new EventEmitter().setMaxListeners(0);
  private controller?: AbortController;
  private loop?: Promise<void>;
  private position = 0n;
  private lastError?: string;

  constructor(
    private readonly store: EventStore,
    private readonly readModels: SqliteReadModelStore,
    private readonly logger?: RunnerLogger,
    private readonly retryDelayMs = 500,
  ) {}

  get checkpoint(): bigint {
    return this.position;
  }

  get failure(): string | undefined {
    return this.lastError;
  }

  start(): void {
    if (this.loop) return;
    this.controller = new AbortController();
    this.loop = this.run(this.controller.signal);
  }

  async stop(): Promise<void> {
    this.controller?.abort();
    await this.loop;
    this.loop = undefined;
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
    const head = await this.store.headPosition();
    return head > this.position ? head - this.position : 0n;
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      this.position = this.readModels.checkpoint(INCIDENT_PROJECTION);
      try {
        for await (const batch of this.store.subscribe({ after: this.position, signal })) {
          projectBatch(this.readModels, batch, this.position);
          this.position = batch[batch.length - 1].position;
          this.lastError = undefined;
          this.applied.emit('applied');
        }
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof CheckpointMovedError) {
          this.logger?.log({
            msg: 'projection checkpoint moved; resuming from the stored checkpoint',
            error: error.message,
          });
          continue;
        }
        this.lastError = error instanceof Error ? error.message : String(error);
        this.logger?.error({ msg: 'projection failed; retrying from checkpoint', error: this.lastError });
        await delay(this.retryDelayMs, undefined, { signal }).catch(() => undefined);
      }
    }
  }
}
