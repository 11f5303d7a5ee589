import type { EventStore } from './event-store.port';

/** An engine that counts stops at this many: a lag that large is an alarm whatever its exact size. */
export const EVENTS_BEHIND_CAP = 1_000_000;

/**
 * How many events a reader at `position` has yet to read, whether or not the engine's positions are dense: counted by
 * engines that can (up to EVENTS_BEHIND_CAP), else the distance to the head position.
 */
export async function eventsBehind(store: EventStore, position: bigint): Promise<bigint> {
  if (store.eventsAfter) return BigInt(await store.eventsAfter(position, EVENTS_BEHIND_CAP));
  const head = await store.headPosition();
  return head > position ? head - position : 0n;
}

/**
 * Whether no stored event has a position at or beyond `position`: it cannot have come from this store. Counted where
 * the engine can, so that an event committed but still held back (PostgreSQL) counts as in the log.
 */
export async function beyondTheLog(store: EventStore, position: bigint): Promise<boolean> {
  if (position <= 0n) return false;
  if (store.eventsAfter) return (await store.eventsAfter(position - 1n, 1)) === 0;
  return position > (await store.headPosition());
}
