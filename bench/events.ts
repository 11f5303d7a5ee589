import { randomUUID } from 'node:crypto';

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
