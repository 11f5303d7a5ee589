import {
  evolve,
  incidentIdOf,
  PersistentMap,
  type FactState,
  type IncidentState,
  type RecordedEvent,
} from '@app/domain';
import type { StoredEvent } from '@app/event-store';
import { toRecordedEvent } from './recorded-event';
import { factKeyOf, type FactKey, type IncidentHeader, type ReadModelStore, type RowChanges } from './read-model.port';

/** The incident read models: named and versioned; a new version is built beside the old one (see ProjectionRunner). */
export const INCIDENT_PROJECTION = { name: 'incidents', version: 2 } as const;
export const INCIDENT_PROJECTION_NAME = `${INCIDENT_PROJECTION.name}.v${INCIDENT_PROJECTION.version}`;

/** The fact an event is about, if any: a fact event, a correction, an erratum or a retraction. */
function factIdOf(event: RecordedEvent): string | undefined {
  const data = event.data as { factId?: unknown };
  return typeof data.factId === 'string' ? data.factId : undefined;
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
export async function projectBatch(readModels: ReadModelStore, batch: StoredEvent[], after: bigint): Promise<void> {
  if (batch.length === 0) return;
  const events = batch.filter((stored) => stored.streamId.startsWith('incident-')).map(toRecordedEvent);
  const ids = [...new Set(events.map((event) => incidentIdOf(event.streamId)))];
  const factKeys: FactKey[] = [];
  for (const event of events) {
    const factId = factIdOf(event);
    if (factId !== undefined) factKeys.push({ incidentId: incidentIdOf(event.streamId), factId });
  }
  const [headers, facts] = await Promise.all([readModels.loadHeaders(ids), readModels.loadFacts(factKeys)]);
  const working = new Map<string, Working>(
    ids.map((id) => [
      id,
      { header: headers.get(id) ?? null, statusChanged: false, linksChanged: false, touched: false },
    ]),
  );
  const changedFacts = new Map<string, { incidentId: string; fact: FactState }>();

  for (const event of events) {
    const id = incidentIdOf(event.streamId);
    const entry = working.get(id)!;
    if (entry.header !== null && event.version <= entry.header.version) continue;
    const factId = factIdOf(event);
    const fact = factId === undefined ? undefined : facts.get(factKeyOf(id, factId));
    const state: IncidentState | null =
      entry.header === null
        ? null
        : {
            ...entry.header,
            facts: fact === undefined ? PersistentMap.empty() : PersistentMap.from([[fact.factId, fact]]),
          };
    const next = evolve(state, event);
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
  };
  await readModels.commit(INCIDENT_PROJECTION_NAME, changes, batch[batch.length - 1].position, after);
}
