import { KeyFilter } from './key-filter';

describe('KeyFilter', () => {
  it('holds every key added, through many stages', () => {
    const filter = new KeyFilter();
    const keys = Array.from({ length: 50_000 }, (_, i) => `incident-${i % 97}\u0000fact-${i}`);
    for (const key of keys) filter.add(key);
    expect(keys.filter((key) => !filter.mightHold(key))).toEqual([]);
  });

  it('answers no for most keys never added', () => {
    const filter = new KeyFilter();
    for (let i = 0; i < 50_000; i += 1) filter.add(`incident-${i % 97}\u0000fact-${i}`);
    let perhaps = 0;
    for (let i = 50_000; i < 100_000; i += 1) if (filter.mightHold(`incident-${i % 97}\u0000fact-${i}`)) perhaps += 1;
    // About 0.6% per stage, a handful of stages: far under 10%, and an empty filter holds nothing.
    expect(perhaps).toBeLessThan(5_000);
    expect(new KeyFilter().mightHold('incident-1\u0000fact-1')).toBe(false);
  });
});
