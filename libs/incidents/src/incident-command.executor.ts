import { Inject, Injectable } from '@nestjs/common';
import { CURRENT_SCHEMA_VERSION, decide, streamIdOf, type EventMetadata, type IncidentCommand } from '@app/domain';
import {
  DuplicateEventIdError,
  EVENT_STORE,
  WrongExpectedVersionError,
  type EventStore,
  type EventToAppend,
  toRecordedEvent,
} from '@app/event-store';
import { idempotencyScope, type CommandContext, type CommandResult } from './command-context';
import {
  ConcurrencyExhaustedError,
  IdempotencyKeyReusedError,
  IncidentUnreadableError,
  PreconditionFailedError,
} from './errors';
import { eventIdsFor } from './ids';
import { describeIfMatch, ifMatchHolds } from './if-match';
import { advance, emptyEntry, idempotencyIndexKey, StreamCache, type StreamEntry } from './stream-cache';
import { CLOCK, type Clock } from './tokens';

const MAX_ATTEMPTS = 5;

/**
 * The write path shared by every command handler: load the stream, decide, append at the version that was loaded.
 * A lost race is decided again on fresh state, where If-Match is checked again.
 */
@Injectable()
export class IncidentCommandExecutor {
  private readonly cache = new StreamCache();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(incidentId: string, command: IncidentCommand, context: CommandContext): Promise<CommandResult> {
    const streamId = streamIdOf(incidentId);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const entry = await this.load(streamId, incidentId);
      const replay = this.findReplay(entry, context);
      if (replay) return replay;

      const state = entry.state;
      const currentVersion = state?.version ?? -1;
      if (context.ifMatch !== undefined && !ifMatchHolds(context.ifMatch, state === null ? null : currentVersion)) {
        throw new PreconditionFailedError(describeIfMatch(context.ifMatch), currentVersion);
      }
      const decided = decide(command, state, { now: this.clock().toISOString() });
      if (decided.length === 0 && state !== null) {
        return {
          incidentId,
          version: state.version,
          position: BigInt(state.position),
          appended: false,
          replayed: false,
        };
      }
      const ids = eventIdsFor(decided.length, idempotencyScope(context));
      const metadata = this.metadataFor(context);
      const toAppend: EventToAppend[] = decided.map((event, index) => ({
        eventId: ids[index],
        type: event.type,
        data: event.data,
        metadata: metadata as unknown as Record<string, unknown>,
      }));
      try {
        const result = await this.store.append(streamId, toAppend, state === null ? 'no-stream' : state.version);
        if (!result.written) continue;
        return { incidentId, version: result.version, position: result.position, appended: true, replayed: false };
      } catch (error) {
        // A lost race: decide again on fresh state, where If-Match is checked again (an exact version then fails).
        if (error instanceof WrongExpectedVersionError) continue;
        if (error instanceof DuplicateEventIdError && context.idempotencyKey !== undefined) {
          throw new IdempotencyKeyReusedError();
        }
        throw error;
      }
    }
    throw new ConcurrencyExhaustedError(streamId);
  }

  /** The stream's folded state: the cached fold plus whatever was appended since. */
  private async load(streamId: string, incidentId: string): Promise<StreamEntry> {
    const cached = this.cache.get(streamId) ?? emptyEntry();
    const newer = await this.store.readStream(streamId, { fromVersion: cached.version + 1 });
    let entry: StreamEntry;
    try {
      entry = advance(cached, newer.map(toRecordedEvent), incidentId);
    } catch (error) {
      // A poison event in the stream: refuse the command (503) rather than fail it (500) or decide on a partial fold.
      throw new IncidentUnreadableError(incidentId, error instanceof Error ? error.message : String(error));
    }
    if (entry !== cached) this.cache.set(streamId, entry);
    return entry;
  }

  /** An earlier request with this Idempotency-Key: the same request replays its result; another is refused. */
  private findReplay(entry: StreamEntry, context: CommandContext): CommandResult | undefined {
    if (context.idempotencyKey === undefined) return undefined;
    const earlier = entry.idempotency.get(idempotencyIndexKey(context.actor, context.idempotencyKey));
    if (earlier === undefined) return undefined;
    if (earlier.requestHash !== context.requestHash) throw new IdempotencyKeyReusedError();
    return { ...earlier.result, appended: false, replayed: true };
  }

  private metadataFor(context: CommandContext): EventMetadata {
    return {
      actor: context.actor,
      correlationId: context.correlationId,
      ...(context.causationId !== undefined && { causationId: context.causationId }),
      ...(context.idempotencyKey !== undefined && { idempotencyKey: context.idempotencyKey }),
      ...(context.requestHash !== undefined && { requestHash: context.requestHash }),
      schemaVersion: CURRENT_SCHEMA_VERSION,
    };
  }
}
