import { Inject, Injectable } from '@nestjs/common';
import { streamIdOf } from '@app/domain';
import {
  DuplicateEventIdError,
  EVENT_STORE,
  WrongExpectedVersionError,
  type EventStore,
  toRecordedEvent,
} from '@app/event-store';
import { planBatch, type Outcome, type QueuedCommand } from './command-batch';
import type { CommandContext, CommandResult } from './command-context';
import { ConcurrencyExhaustedError, IdempotencyKeyReusedError, IncidentUnreadableError } from './errors';
import { advance, emptyEntry, StreamCache, type StreamEntry } from './stream-cache';
import { CLOCK, type Clock } from './tokens';

const MAX_ATTEMPTS = 5;
/** Commands decided and appended together, at most. */
const MAX_BATCH = 256;

interface Waiting extends QueuedCommand {
  resolve(result: CommandResult): void;
  reject(error: unknown): void;
}

/**
 * The write path shared by every command handler. Commands on one incident queue up in this process: while one batch
 * is being appended, the next gathers, and is then decided command by command on the state the batch before left and
 * appended in one write at the version it was decided on. So commands on one incident never race each other here,
 * and a busy incident costs one durable write per batch, not per command. A batch that loses a race with another
 * process is decided again on fresh state, where If-Match is checked again.
 */
@Injectable()
export class IncidentCommandExecutor {
  private readonly cache = new StreamCache();
  private readonly queues = new Map<string, Waiting[]>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  execute(incidentId: string, command: QueuedCommand['command'], context: CommandContext): Promise<CommandResult> {
    const streamId = streamIdOf(incidentId);
    return new Promise<CommandResult>((resolve, reject) => {
      let queue = this.queues.get(streamId);
      if (queue === undefined) {
        queue = [];
        this.queues.set(streamId, queue);
        void this.drain(streamId, queue);
      }
      queue.push({ incidentId, command, context, resolve, reject });
    });
  }

  /** Runs the stream's batches until its queue is empty, then forgets the queue. */
  private async drain(streamId: string, queue: Waiting[]): Promise<void> {
    await Promise.resolve();
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      try {
        await this.runBatch(streamId, batch);
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
    }
    this.queues.delete(streamId);
  }

  private async runBatch(streamId: string, batch: Waiting[]): Promise<void> {
    const incidentId = batch[0].incidentId;
    let mustRead = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const { entry, plan } = await this.decide(streamId, incidentId, batch, mustRead);
      mustRead = true;
      if (plan.events.length === 0) {
        settle(batch, plan.outcomes, entry, new Map());
        return;
      }
      try {
        const result = await this.store.append(streamId, plan.events, plan.expectedVersion);
        if (!result.written) continue;
      } catch (error) {
        // A lost race: decide again on fresh state, where If-Match is checked again (an exact version then fails).
        if (error instanceof WrongExpectedVersionError) continue;
        if (error instanceof DuplicateEventIdError) {
          // An Idempotency-Key already used on another incident: find out whose, one command at a time.
          if (batch.length > 1) {
            for (const waiting of batch) await this.runBatch(streamId, [waiting]).catch(waiting.reject);
            return;
          }
          if (batch[0].context.idempotencyKey !== undefined) throw new IdempotencyKeyReusedError();
        }
        throw error;
      }
      const { newer } = await this.load(streamId, incidentId);
      settle(batch, plan.outcomes, entry, new Map(newer.map((event) => [event.version, event.position])));
      return;
    }
    throw new ConcurrencyExhaustedError(streamId);
  }

  /**
   * Plans the batch on the cached fold without reading the store first, when that fold is enough: if every command
   * appends (or replays a stored answer), the append's expected version catches any event another process wrote
   * meanwhile, and a lost race decides again on what the store holds. A command answered without appending (unchanged,
   * or refused by a rule or If-Match) is answered on what the store holds, never on a fold that may be behind it. With
   * one process writing, this saves a read of the stream per batch: a round trip to PostgreSQL.
   */
  private async decide(streamId: string, incidentId: string, batch: Waiting[], mustRead: boolean) {
    const now = () => this.clock().toISOString();
    const cached = mustRead ? undefined : this.cache.get(streamId);
    const onCache = cached && { entry: cached, plan: planBatch(cached, batch, now) };
    if (onCache?.plan.outcomes.every((outcome) => outcome.kind === 'append' || outcome.kind === 'replay')) {
      return onCache;
    }
    const { entry } = await this.load(streamId, incidentId);
    return entry === onCache?.entry ? onCache : { entry, plan: planBatch(entry, batch, now) };
  }

  /** The stream's folded state: the cached fold plus whatever was appended since (returned too). */
  private async load(streamId: string, incidentId: string) {
    const cached = this.cache.get(streamId) ?? emptyEntry();
    const stored = await this.store.readStream(streamId, { fromVersion: cached.version + 1 });
    let entry: StreamEntry;
    let newer;
    try {
      newer = stored.map(toRecordedEvent);
      entry = advance(cached, newer, incidentId);
    } catch (error) {
      // A poison event in the stream: refuse the command (503) rather than fail it (500) or decide on a partial fold.
      throw new IncidentUnreadableError(incidentId, error instanceof Error ? error.message : String(error));
    }
    if (entry !== cached) this.cache.set(streamId, entry);
    return { entry, newer };
  }
}

/**
 * Answers every command of a batch. `positions` holds the positions of the events appended since `entry` (by
 * version); a command answers with its own last event's version and position.
 */
function settle(batch: Waiting[], outcomes: Outcome[], entry: StreamEntry, positions: Map<number, bigint>): void {
  const results: (CommandResult | undefined)[] = [];
  const positionAt = (version: number): bigint =>
    positions.get(version) ?? (version === entry.state?.version ? BigInt(entry.state.position) : 0n);
  outcomes.forEach((outcome, index) => {
    const { incidentId } = batch[index];
    switch (outcome.kind) {
      case 'append':
        results[index] = {
          incidentId,
          version: outcome.version,
          position: positionAt(outcome.version),
          appended: true,
          replayed: false,
        };
        break;
      case 'unchanged':
        results[index] = {
          incidentId,
          version: outcome.version,
          position: positionAt(outcome.version),
          appended: false,
          replayed: false,
        };
        break;
      case 'replay':
        results[index] = outcome.result;
        break;
      case 'same-as': {
        const first = results[outcome.index];
        if (first !== undefined) results[index] = { ...first, appended: false, replayed: true };
        break;
      }
      case 'refused':
        break;
    }
  });
  outcomes.forEach((outcome, index) => {
    const result = results[index];
    if (result !== undefined) batch[index].resolve(result);
    else batch[index].reject(outcome.kind === 'refused' ? outcome.error : new Error('No answer for the command'));
  });
}
