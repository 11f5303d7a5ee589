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

/** The incident read models: named and versioned; a new version is built beside the old one (see ProjectionRunner). */
export const INCIDENT_PROJECTION = { name: 'incidents', version: 2 } as const;
export const INCIDENT_PROJECTION_NAME = `${INCIDENT_PROJECTION.name}.v${INCIDENT_PROJECTION.version}`;

/** The fact an event is about, if any: a fact event, a correction, an erratum or a retraction. */
function factIdOf(data: unknown): string | undefined {
  const factId = (data as { factId?: unknown } | null)?.factId;
  return typeof factId === 'string' ? factId : undefined;
}

interface Working {
  header: IncidentHeader | null;
  statusChanged: boolean;
  linksChanged: boolean;
  touched: boolean;
}

/**
 * Applies a batch of the global log to the rows with the domain's `evolve`, reading and writing only the rows the
 * events touch: the incident's header (with its status periods and links) and, for a fact event, that one fact. The
 * fold sees a state holding just that fact, which is all `evolve` reads for it, so the cost of an event does not grow
 * with the incident. Idempotent per stream version: an event at or below the stored version of its incident changes
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
  const working = new Map<string, Working>(
    ids.map((id) => [
      id,
      { header: headers.get(id) ?? null, statusChanged: false, linksChanged: false, touched: false },
    ]),
  );
  const changedFacts = new Map<string, { incidentId: string; fact: FactState }>();

  for (const storedEvent of stored) {
    const id = incidentIdOf(storedEvent.streamId);
    if (parkedIds.has(id)) continue;
    const entry = working.get(id)!;
    if (entry.header !== null && storedEvent.version <= entry.header.version) continue;
    const factId = factIdOf(storedEvent.data);
    const fact = factId === undefined ? undefined : facts.get(factKeyOf(id, factId));
    const state: IncidentState | null =
      entry.header === null
        ? null
        : {
            ...entry.header,
            facts: fact === undefined ? PersistentMap.empty() : PersistentMap.from([[fact.factId, fact]]),
          };
    let next: IncidentState | null;
    try {
      next = evolve(state, toRecordedEvent(storedEvent));
    } catch (error) {
      // A poison event: set its incident aside, leave its rows as they were before this batch, and go on.
      parkedIds.add(id);
      working.delete(id);
      for (const [key, change] of [...changedFacts]) if (change.incidentId === id) changedFacts.delete(key);
      parkedNow.push({
        incidentId: id,
        eventId: storedEvent.eventId,
        position: storedEvent.position,
        error: error instanceof Error ? error.message : String(error),
        parkedAt: now(),
      });
      continue;
    }
    if (next === null || next === state) continue;
    const { facts: nextFacts, ...header } = next;
    entry.statusChanged ||= entry.header === null || next.statusHistory !== entry.header.statusHistory;
    entry.linksChanged ||= entry.header === null || next.links !== entry.header.links;
    entry.header = header;
    entry.touched = true;
    if (factId !== undefined) {
      const updated = nextFacts.get(factId);
      if (updated !== undefined && updated !== fact) {
        facts.set(factKeyOf(id, factId), updated);
        changedFacts.set(factKeyOf(id, factId), { incidentId: id, fact: updated });
      }
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
    facts: [...changedFacts.values()],
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
