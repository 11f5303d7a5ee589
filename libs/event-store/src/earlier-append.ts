import { DuplicateEventIdError } from './errors';
import type { AppendResult, EventToAppend } from './event-store.port';

/** Where an event id the store already holds was stored. */
export interface StoredId {
  streamId: string;
  version: number;
  position: bigint | number | string;
}

/**
 * Idempotence by event id, the rule every adapter applies: the same ids appended again to the same stream, in the same
 * order, return what the first append returned; any other overlap is a conflict. `lookup` finds where an id is stored.
 * Returns undefined when none of the ids is stored.
 */
export function earlierAppend(
  streamId: string,
  events: readonly Pick<EventToAppend, 'eventId'>[],
  lookup: (eventId: string) => StoredId | undefined,
): AppendResult | undefined {
  const found = events.map((event) => lookup(event.eventId));
  if (found.every((row) => row === undefined)) return undefined;
  const first = found[0];
  const sameAppend =
    first !== undefined &&
    found.every(
      (row, index) => row !== undefined && row.streamId === streamId && row.version === first.version + index,
    );
  if (!sameAppend) {
    throw new DuplicateEventIdError(
      streamId,
      events.filter((_, index) => found[index] !== undefined).map((event) => event.eventId),
    );
  }
  const last = found[found.length - 1]!;
  return { version: last.version, position: BigInt(last.position), written: false };
}
