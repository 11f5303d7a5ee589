import { eventIdsFor, factIdFor, uuidFromName } from './ids';

describe('ids derived from an Idempotency-Key', () => {
  it('keeps the ids of plain principals as they were named before, so a retry across an upgrade names the same events', () => {
    const alice = { iss: 'https://issuer.example', sub: 'alice', key: 'k:1|2' };
    expect(eventIdsFor(2, alice)).toEqual([
      uuidFromName('event:https://issuer.example|alice:k:1|2:0'),
      uuidFromName('event:https://issuer.example|alice:k:1|2:1'),
    ]);
    expect(factIdFor(alice)).toBe(uuidFromName('fact:https://issuer.example|alice:k:1|2'));
  });

  it.each([
    [
      { iss: 'i', sub: 'alice|x', key: 'k1' },
      { iss: 'i', sub: 'alice', key: 'x|k1' },
    ],
    [
      { iss: 'i', sub: 'alice:x', key: 'k1' },
      { iss: 'i', sub: 'alice', key: 'x:k1' },
    ],
    [
      { iss: 'i|alice', sub: 'x', key: 'k1' },
      { iss: 'i', sub: 'alice|x', key: 'k1' },
    ],
  ])('gives %j and %j different ids', (one, other) => {
    expect(eventIdsFor(1, one)).not.toEqual(eventIdsFor(1, other));
    expect(factIdFor(one)).not.toBe(factIdFor(other));
  });
});
