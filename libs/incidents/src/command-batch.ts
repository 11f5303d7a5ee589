import {
  CURRENT_SCHEMA_VERSION,
  decide,
  evolve,
  type EventMetadata,
  type IncidentCommand,
  type IncidentState,
  type RecordedEvent,
} from '@app/domain';
import type { EventToAppend } from '@app/event-store';
import { idempotencyScope, type CommandContext, type CommandResult } from './command-context';
import { IdempotencyKeyReusedError, PreconditionFailedError } from './errors';
import { eventIdsFor } from './ids';
import { describeIfMatch, ifMatchHolds } from './if-match';
import { idempotencyIndexKey, type StreamEntry } from './stream-cache';

/** One command waiting for its stream's next batch. */
export interface QueuedCommand {
  incidentId: string;
  command: IncidentCommand;
  context: CommandContext;
}

/** What became of one command of a batch once the batch's events are appended (or at once, if it appends none). */
export type Outcome =
  | { kind: 'append'; version: number }
  | { kind: 'unchanged'; version: number }
  | { kind: 'replay'; result: CommandResult }
  | { kind: 'same-as'; index: number }
  | { kind: 'refused'; error: unknown };

export interface BatchPlan {
  /** Every event the batch appends, in command order, at `expectedVersion`. */
  events: EventToAppend[];
  expectedVersion: number | 'no-stream';
  outcomes: Outcome[];
}

/**
 * Decides the commands of one stream in the order they arrived, each on the state the ones before it leave, as if they
 * had run one after another; their events are then appended together at the version the batch was decided on. Each
 * command keeps its own checks and answer: If-Match is checked against the version the commands before it reach, a
 * refused command changes nothing for the ones after it, and a second request with the same Idempotency-Key in the
 * same batch replays the first. Events decided here are folded with provisional positions (after the stream's last)
 * and `now` as their recorded time, only to decide what follows; nothing provisional is kept.
 */
export function planBatch(entry: StreamEntry, commands: readonly QueuedCommand[], now: () => string): BatchPlan {
  let state: IncidentState | null = entry.state;
  let version = state?.version ?? -1;
  let provisionalPosition = BigInt(state?.position ?? 0);
  const events: EventToAppend[] = [];
  const outcomes: Outcome[] = [];
  const keysInBatch = new Map<string, { requestHash: string | undefined; index: number }>();

  commands.forEach(({ command, context }, index) => {
    try {
      const replay = replayOf(entry, context);
      if (replay !== undefined) {
        outcomes.push({ kind: 'replay', result: replay });
        return;
      }
      const keyIndex =
        context.idempotencyKey === undefined ? undefined : idempotencyIndexKey(context.actor, context.idempotencyKey);
      const earlier = keyIndex === undefined ? undefined : keysInBatch.get(keyIndex);
      if (earlier !== undefined) {
        if (earlier.requestHash !== context.requestHash) throw new IdempotencyKeyReusedError();
        outcomes.push({ kind: 'same-as', index: earlier.index });
        return;
      }
      if (context.ifMatch !== undefined && !ifMatchHolds(context.ifMatch, state === null ? null : version)) {
        throw new PreconditionFailedError(describeIfMatch(context.ifMatch), state === null ? -1 : version);
      }
      const at = now();
      const decided = decide(command, state, { now: at });
      if (decided.length === 0) {
        outcomes.push({ kind: 'unchanged', version });
        return;
      }
      const ids = eventIdsFor(decided.length, idempotencyScope(context));
      const metadata = metadataFor(context);
      const toAppend = decided.map((event, i) => ({
        eventId: ids[i],
        type: event.type,
        data: event.data,
        metadata: metadata as unknown as Record<string, unknown>,
      }));
      let next = state;
      let nextVersion = version;
      for (const event of toAppend) {
        nextVersion += 1;
        provisionalPosition += 1n;
        next = evolve(next, {
          ...event,
          streamId: '',
          version: nextVersion,
          position: provisionalPosition,
          recordedAt: at,
          metadata,
        } as RecordedEvent);
      }
      state = next;
      version = nextVersion;
      events.push(...toAppend);
      outcomes.push({ kind: 'append', version });
      if (keyIndex !== undefined) keysInBatch.set(keyIndex, { requestHash: context.requestHash, index });
    } catch (error) {
      outcomes.push({ kind: 'refused', error });
    }
  });
  const decidedOn = entry.state?.version ?? -1;
  return { events, expectedVersion: entry.state === null ? 'no-stream' : decidedOn, outcomes };
}

/** An earlier request with this Idempotency-Key: the same request replays its result; another is refused. */
function replayOf(entry: StreamEntry, context: CommandContext): CommandResult | undefined {
  if (context.idempotencyKey === undefined) return undefined;
  const earlier = entry.idempotency.get(idempotencyIndexKey(context.actor, context.idempotencyKey));
  if (earlier === undefined) return undefined;
  if (earlier.requestHash !== context.requestHash) throw new IdempotencyKeyReusedError();
  return { ...earlier.result, appended: false, replayed: true };
}

function metadataFor(context: CommandContext): EventMetadata {
  return {
    actor: context.actor,
    correlationId: context.correlationId,
    ...(context.causationId !== undefined && { causationId: context.causationId }),
    ...(context.idempotencyKey !== undefined && { idempotencyKey: context.idempotencyKey }),
    ...(context.requestHash !== undefined && { requestHash: context.requestHash }),
    schemaVersion: CURRENT_SCHEMA_VERSION,
  };
}
