import { stixId, uuidV5 } from './stable-id';

const DNS_NAMESPACE = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

describe('stable ids', () => {
  it('computes RFC 9562 version 5 UUIDs (the published www.example.com vector)', () => {
    expect(uuidV5('www.example.com', DNS_NAMESPACE)).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('gives the same STIX id for the same parts, another for other parts, and never mixes types', () => {
    expect(stixId('note', 'storm-0558', 'fact-1')).toBe(stixId('note', 'storm-0558', 'fact-1'));
    expect(stixId('note', 'storm-0558', 'fact-1')).not.toBe(stixId('note', 'storm-0558', 'fact-2'));
    expect(stixId('note', 'a', 'bc')).not.toBe(stixId('note', 'ab', 'c'));
    expect(stixId('report', 'x').split('--')[1]).not.toBe(stixId('note', 'x').split('--')[1]);
    expect(stixId('report', 'x')).toMatch(
      /^report--[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
