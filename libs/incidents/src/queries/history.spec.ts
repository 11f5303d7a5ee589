import { currentData, toRecordedEvent, type StoredEvent } from '@app/event-store';
import { cloudEventData } from '@app/feeds';
import { historyEntry } from './history';

/** A fact stored by a pre-release version (schema 0), when sources were called `references`. */
const old: StoredEvent = {
  eventId: '00000000-0000-4000-8000-000000000001',
  type: 'KeyCaptured',
  streamId: 'incident-storm-0558',
  version: 1,
  position: 2n,
  recordedAt: '2026-01-01T00:00:00.000Z',
  data: {
    factId: 'f1',
    kind: 'key-capture',
    occurredAt: '2021-04',
    summary: 'x',
    confidence: 'likely',
    references: [{ url: 'https://example.org' }],
  },
  metadata: { actor: { iss: 'test', sub: 'old' }, correlationId: 'c', schemaVersion: 0 },
};

describe('one conversion from stored to current events', () => {
  it('upcasts for every reader: the fold, the history and the global log, the feeds and Kafka', () => {
    const sources = [{ url: 'https://example.org' }];
    expect(currentData(old)).toMatchObject({ sources });
    expect(toRecordedEvent(old).data).toMatchObject({ sources });
    expect(historyEntry(old).data).toMatchObject({ sources });
    expect(historyEntry(old).data).not.toHaveProperty('references');
    expect(JSON.parse(cloudEventData(old))).toMatchObject({ sources });
  });

  it('shows an unreadable event as null data, and refuses to fold it', () => {
    const unreadable: StoredEvent = { ...old, data: null, unreadable: 'not JSON' };
    expect(historyEntry(unreadable).data).toBeNull();
    expect(() => toRecordedEvent(unreadable)).toThrow(/unreadable/);
  });
});
