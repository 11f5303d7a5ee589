import {
  evolve,
  foldEvents,
  incidentIdOf,
  PersistentMap,
  streamIdOf,
  type FactState,
  type IncidentState,
} from '@app/domain';
import { toRecordedEvent, type EventStore, type StoredEvent } from '@app/event-store';
import {
  factKeyOf,
  type FactKey,
  type IncidentHeader,
  type ParkedIncident,
  type ReadModelStore,
  type RowChanges,
} from './read-model.port';
import { factRowOf } from './rows';

/** The incident read models: named and versioned; a new version is built beside the old one (see ProjectionRunner). */
export const INCIDENT_PROJECTION = { name: 'incidents', version: 2 } as const;
export const INCIDENT_PROJECTION_NAME = `${INCIDENT_PROJECTION.name}.v${INCIDENT_PROJECTION.version}`;

/** The fact an event is about, if any: a fact event, a correction, an erratum or a retraction. */
export function factIdOf(data: unknown): string | undefined {
  const factId = (data as { factId?: unknown } | null)?.factId;
  return typeof factId === 'string' ? factId : undefined;
}

/** An incident's header as a projection holds it while folding, with what changed since its rows were last written. */
export interface HeldHeader {
  header: IncidentHeader | null;
  statusChanged: boolean;
  linksChanged: boolean;
  touched: boolean;
}

export const heldHeader = (header: IncidentHeader | null): HeldHeader => ({
  header,
  statusChanged: false,
  linksChanged: false,
  touched: false,
});

/**
 * Folds one event into an incident's held header and, for a fact event, that one fact (`fact`, as stored so far). The
 * fold sees a state holding just that fact, which is all `evolve` reads for it, so the cost of an event does not grow
 * with the incident. Returns the fact when the event changed it. An event at or below the held version changes
 * nothing; a poison event throws what `evolve` throws, leaving `held` as it was.
 */
export function foldIntoRows(held: HeldHeader, event: StoredEvent, fact: FactState | undefined): FactState | undefined {
  if (held.header !== null && event.version <= held.header.version) return undefined;
  const state: IncidentState | null =
    held.header === null
      ? null
      : {
          ...held.header,
          facts: fact === undefined ? PersistentMap.empty() : PersistentMap.from([[fact.factId, fact]]),
        };
  const next = evolve(state, toRecordedEvent(event));
  if (next === null || next === state) return undefined;
  const { facts: nextFacts, ...header } = next;
  held.statusChanged ||= held.header === null || next.statusHistory !== held.header.statusHistory;
  held.linksChanged ||= held.header === null || next.links !== held.header.links;
  held.header = header;
  held.touched = true;
  const factId = factIdOf(event.data);
  if (factId === undefined) return undefined;
  const updated = nextFacts.get(factId);
  return updated !== undefined && updated !== fact ? updated : undefined;
}

/** The record of an incident set aside because `event` could not be applied. */
export function parkedBy(event: StoredEvent, error: unknown, parkedAt: string): ParkedIncident {
  return {
    incidentId: incidentIdOf(event.streamId),
    eventId: event.eventId,
    position: event.position,
    error: error instanceof Error ? error.message : String(error),
    parkedAt,
  };
}

/**
 * Applies a batch of the global log to the rows with the domain's `evolve` (see `foldIntoRows`), reading and writing
 * only the rows the events touch: the incident's header (with its status periods and links) and, for a fact event,
 * that one fact. Idempotent per stream version: an event at or below the stored version of its incident changes
 * nothing.
 */
export async function projectBatch(
  readModels: ReadModelStore,
  batch: StoredEvent[],
  after: bigint,
  now: () => string = () => new Date().toISOString(),
): Promise<ParkedIncident[]> {
  if (batch.length === 0) return [];
  const stored = batch.filter((event) => event.streamId.startsWith('incident-'));
  const ids = [...new Set(stored.map((event) => incidentIdOf(event.streamId)))];
  const factKeys: FactKey[] = [];
  for (const event of stored) {
    const factId = factIdOf(event.data);
    if (factId !== undefined) factKeys.push({ incidentId: incidentIdOf(event.streamId), factId });
  }
  const [headers, facts, alreadyParked] = await Promise.all([
    readModels.loadHeaders(ids),
    readModels.loadFacts(factKeys),
    readModels.parked(ids),
  ]);
  const parkedIds = new Set(alreadyParked.map((parked) => parked.incidentId));
  const parkedNow: ParkedIncident[] = [];
  const working = new Map<string, HeldHeader>(ids.map((id) => [id, heldHeader(headers.get(id) ?? null)]));
  const changedFacts = new Map<string, { incidentId: string; fact: FactState }>();

  for (const storedEvent of stored) {
    const id = incidentIdOf(storedEvent.streamId);
    if (parkedIds.has(id)) continue;
    const held = working.get(id)!;
    const factId = factIdOf(storedEvent.data);
    const fact = factId === undefined ? undefined : facts.get(factKeyOf(id, factId));
    let updated: FactState | undefined;
    try {
      updated = foldIntoRows(held, storedEvent, fact);
    } catch (error) {
      // A poison event: set its incident aside, leave its rows as they were before this batch, and go on.
      parkedIds.add(id);
      working.delete(id);
      for (const [key, change] of [...changedFacts]) if (change.incidentId === id) changedFacts.delete(key);
      parkedNow.push(parkedBy(storedEvent, error, now()));
      continue;
    }
    if (updated !== undefined && factId !== undefined) {
      facts.set(factKeyOf(id, factId), updated);
      changedFacts.set(factKeyOf(id, factId), { incidentId: id, fact: updated });
    }
  }

  const changes: RowChanges = {
    headers: [...working.values()]
      .filter((entry) => entry.touched && entry.header !== null)
      .map((entry) => ({
        header: entry.header!,
        statusChanged: entry.statusChanged,
        linksChanged: entry.linksChanged,
      })),
    facts: [...changedFacts.values()].map(({ incidentId, fact }) => factRowOf(incidentId, fact)),
    parked: parkedNow,
  };
  await readModels.commit(INCIDENT_PROJECTION_NAME, changes, batch[batch.length - 1].position, after);
  return parkedNow;
}

/**
 * Retries a parked incident: folds its whole stream again and, if every event now applies, replaces its rows and
 * unparks it. Throws (and it stays parked) when an event still cannot be applied.
 */
export async function reprojectIncident(
  store: EventStore,
  readModels: ReadModelStore,
  incidentId: string,
): Promise<IncidentState> {
  const events = await store.readStream(streamIdOf(incidentId));
  const state = foldEvents(events.map(toRecordedEvent));
  if (state === null) throw new Error(`Incident ${incidentId} has no events`);
  await readModels.replaceIncident(INCIDENT_PROJECTION_NAME, state);
  return state;
}
