import { evolve, incidentIdOf, type IncidentState } from '@app/domain';
import type { StoredEvent } from '@app/event-store';
import { toRecordedEvent } from './recorded-event';
import type { SqliteReadModelStore } from './sqlite.read-model-store';

export const INCIDENT_PROJECTION = 'incidents';

/**
 * Applies a batch (the events right after position `after`) of the global log to the incident read model with the domain's `evolve`. Idempotent per stream
 * version: an event at or below the stored version of its incident changes nothing.
 */
export function projectBatch(store: SqliteReadModelStore, batch: StoredEvent[], after: bigint): void {
  if (batch.length === 0) return;
  const changed = new Map<string, IncidentState>();
  for (const stored of batch) {
    if (!stored.streamId.startsWith('incident-')) continue;
    const id = incidentIdOf(stored.streamId);
    const current = changed.get(id) ?? store.loadIncident(id);
    if (current !== null && stored.version <= current.version) continue;
    const next = evolve(current, toRecordedEvent(stored));
    if (next !== null && next !== current) changed.set(id, next);
  }
  store.commit(INCIDENT_PROJECTION, changed.values(), batch[batch.length - 1].position, after);
}
