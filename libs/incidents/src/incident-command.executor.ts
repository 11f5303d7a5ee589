import { Inject, Injectable } from '@nestjs/common';
import {
  CURRENT_SCHEMA_VERSION,
  decide,
  foldEvents,
  streamIdOf,
  type EventMetadata,
  type IncidentCommand,
  type RecordedEvent,
} from '@app/domain';
import {
  DuplicateEventIdError,
  EVENT_STORE,
  WrongExpectedVersionError,
  type EventStore,
  type EventToAppend,
} from '@app/event-store';
import { toRecordedEvent } from '@app/read-models';
import { idempotencyScope, type CommandContext, type CommandResult } from './command-context';
import { ConcurrencyExhaustedError, IdempotencyKeyReusedError, PreconditionFailedError } from './errors';
import { eventIdsFor } from './ids';
import { CLOCK, type Clock } from './tokens';

const MAX_ATTEMPTS = 5;

/**
 * The write path shared by every command handler: load the stream, decide, append at the version that was loaded.
 * A lost race without If-Match is decided again on fresh state; with If-Match it is a 412.
 */
@Injectable()
export class IncidentCommandExecutor {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(incidentId: string, command: IncidentCommand, context: CommandContext): Promise<CommandResult> {
    const streamId = streamIdOf(incidentId);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const events = (await this.store.readStream(streamId)).map(toRecordedEvent);
      const replay = this.findReplay(incidentId, events, context);
      if (replay) return replay;

      const state = foldEvents(events);
      const currentVersion = state?.version ?? -1;
      if (context.expectedVersion !== undefined && context.expectedVersion !== currentVersion) {
        throw new PreconditionFailedError(context.expectedVersion, currentVersion);
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
        if (error instanceof WrongExpectedVersionError) {
          if (context.expectedVersion !== undefined)
            throw new PreconditionFailedError(context.expectedVersion, error.actual);
          continue;
        }
        if (error instanceof DuplicateEventIdError && context.idempotencyKey !== undefined) {
          throw new IdempotencyKeyReusedError();
        }
        throw error;
      }
    }
    throw new ConcurrencyExhaustedError(streamId);
  }

  /** An earlier request with this Idempotency-Key: the same request replays its result; another is refused. */
  private findReplay(incidentId: string, events: RecordedEvent[], context: CommandContext): CommandResult | undefined {
    if (context.idempotencyKey === undefined) return undefined;
    const earlier = events.filter(
      (event) =>
        event.metadata.idempotencyKey === context.idempotencyKey &&
        event.metadata.actor?.iss === context.actor.iss &&
        event.metadata.actor?.sub === context.actor.sub,
    );
    if (earlier.length === 0) return undefined;
    if (earlier[0].metadata.requestHash !== context.requestHash) throw new IdempotencyKeyReusedError();
    const last = earlier[earlier.length - 1];
    const factId = (earlier[0].data as { factId?: unknown }).factId;
    return {
      incidentId,
      version: last.version,
      position: last.position,
      ...(typeof factId === 'string' && { factId }),
      appended: false,
      replayed: true,
    };
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
