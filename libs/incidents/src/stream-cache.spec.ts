import { foldEvents, type IncidentEvent } from '@app/domain';
import { recorded } from '@app/testing/specification';
import { estimatedBytes, StreamCache, type StreamEntry } from './stream-cache';

function entryWithFacts(count: number, version = count): StreamEntry {
  const events: IncidentEvent[] = [
    {
      type: 'IncidentOpened',
      data: {
        id: 'storm-0558',
        title: 'Storm-0558',
        category: 'espionage',
        summary: '',
        victims: [],
        threatActors: [],
        status: 'detected',
        effectiveAt: '2023-06-16T00:00:00.000Z',
      },
    },
  ];
  for (let i = 0; i < count; i += 1) {
    events.push({
      type: 'FactRecorded',
      data: { factId: `f-${i}`, kind: 'other', occurredAt: '2023', summary: 'x', confidence: 'confirmed', sources: [] },
    });
  }
  return { state: foldEvents(recorded(events)), version, idempotency: new Map() };
}

describe('StreamCache', () => {
  it('is bounded in bytes: one large incident evicts many small ones, least recently used first', () => {
    const small = entryWithFacts(1);
    const large = entryWithFacts(500);
    const cache = new StreamCache(estimatedBytes(large) + 3 * estimatedBytes(small));
    for (const id of ['a', 'b', 'c', 'd', 'e']) cache.set(id, small);
    expect(cache.size.entries).toBe(5);
    cache.get('a');
    cache.set('large', large);
    expect(cache.get('large')).toBe(large);
    expect(cache.get('a')).toBe(small);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.size.bytes).toBeLessThanOrEqual(estimatedBytes(large) + 3 * estimatedBytes(small));
  });

  it('never replaces an entry with an older version, and does not keep an entry larger than the whole bound', () => {
    const cache = new StreamCache(estimatedBytes(entryWithFacts(10)));
    cache.set('s', entryWithFacts(2, 5));
    cache.set('s', entryWithFacts(1, 3));
    expect(cache.get('s')?.version).toBe(5);
    cache.set('huge', entryWithFacts(100));
    expect(cache.get('huge')).toBeUndefined();
  });
});
