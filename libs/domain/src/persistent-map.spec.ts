import fc from 'fast-check';
import { PersistentMap } from './persistent-map';

describe('PersistentMap', () => {
  it('behaves like a Map under any sequence of sets, and earlier versions stay as they were', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.integer()), { maxLength: 300 }), (writes) => {
        const versions: [PersistentMap<number>, Map<string, number>][] = [];
        let map = PersistentMap.empty<number>();
        const model = new Map<string, number>();
        for (const [key, value] of writes) {
          map = map.set(key, value);
          model.set(key, value);
          versions.push([map, new Map(model)]);
        }
        for (const [version, expected] of versions) {
          expect(version.size).toBe(expected.size);
          expect([...version.entries()]).toEqual([...expected.entries()]);
          for (const [key, value] of expected) expect(version.get(key)).toBe(value);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('serialises as a plain object in insertion order', () => {
    const map = PersistentMap.from([
      ['b', 1],
      ['a', 2],
    ]).set('b', 3);
    expect(JSON.stringify({ facts: map })).toBe('{"facts":{"b":3,"a":2}}');
  });

  it('keeps colliding keys apart at the deepest level', () => {
    let map = PersistentMap.empty<number>();
    for (let i = 0; i < 5000; i += 1) map = map.set(`fact-${i}`, i);
    expect(map.size).toBe(5000);
    expect(map.get('fact-4321')).toBe(4321);
    expect(map.has('fact-5000')).toBe(false);
  });
});
