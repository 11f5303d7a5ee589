import { randomUUID } from 'node:crypto';
import type { StoredEvent } from '@app/event-store';

/** A fact as the API would append it: about 300 bytes of JSON. */
export function benchEvent(type = 'FactRecorded') {
  return {
    eventId: randomUUID(),
    type,
    data: {
      factId: randomUUID(),
      kind: 'other',
      occurredAt: '2023-06',
      summary: 'bench',
      confidence: 'confirmed',
      sources: [],
    },
    metadata: { actor: { iss: 'bench', sub: 'bench' }, correlationId: 'bench', schemaVersion: 1 },
  };
}

const RECORDED_AT = '2026-01-01T00:00:00.000Z';
const METADATA = { actor: { iss: 'bench', sub: 'bench' }, correlationId: 'bench', schemaVersion: 1 };

/** A fact id in the UUID shape the API gives, numbered so that a log is the same from run to run. */
const factIdOf = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** An incident's events as stored: opened first (version 0), then one fact per version. */
export function storedIncidentEvent(incidentId: string, version: number, position: bigint): StoredEvent {
  const streamId = `incident-${incidentId}`;
  if (version === 0) {
    return {
      eventId: randomUUID(),
      streamId,
      version,
      position,
      type: 'IncidentOpened',
      recordedAt: RECORDED_AT,
      data: {
        id: incidentId,
        title: `Bench ${incidentId}`,
        category: 'other',
        summary: '',
        victims: [],
        threatActors: [],
        status: 'detected',
        effectiveAt: RECORDED_AT,
      },
      metadata: METADATA,
    };
  }
  return {
    eventId: randomUUID(),
    streamId,
    version,
    position,
    type: 'FactRecorded',
    recordedAt: RECORDED_AT,
    data: {
      factId: factIdOf(version),
      kind: 'other',
      occurredAt: `2023-${String(1 + (version % 12)).padStart(2, '0')}`,
      summary: `Fact ${version} of ${incidentId}`,
      confidence: 'confirmed',
      sources: [{ url: `https://example.org/${incidentId}/${version}`, publishedAt: '2023-07-11' }],
      ...(version % 10 === 0 && { techniques: ['T1078'] }),
    },
    metadata: METADATA,
  };
}

/**
 * A log of `incidents` incidents of `eventsPerIncident` events each, interleaved round by round (every incident's
 * next event, then the next round), in chunks for `copyIn`; positions are 1, 2, ... as a fresh store gives them.
 */
export function* interleavedLog(
  incidents: number,
  eventsPerIncident: number,
  chunk = 10_000,
): Generator<StoredEvent[]> {
  let batch: StoredEvent[] = [];
  let position = 0n;
  for (let version = 0; version < eventsPerIncident; version += 1) {
    for (let i = 0; i < incidents; i += 1) {
      batch.push(storedIncidentEvent(`bench-${i}`, version, (position += 1n)));
      if (batch.length === chunk) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}
