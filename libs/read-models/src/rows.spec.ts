import type { FactState, IncidentEvent } from '@app/domain';
import { stateOf } from '@app/testing/specification';
import { decodeFact, encodeFact, factRowOf } from './rows';

const opened: IncidentEvent = {
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
};
const forged: IncidentEvent = {
  type: 'TokenForged',
  data: {
    factId: 'f1',
    kind: 'token-forgery',
    occurredAt: '2023-05-15?',
    summary: 'Tokens forged with an MSA key',
    confidence: 'likely',
    actors: ['Storm-0558'],
    techniques: ['T1606.002'],
    sources: [{ url: 'https://example.org/a', publishedAt: '2023-07-14' }],
  },
};

function factAfter(...events: IncidentEvent[]): FactState {
  return stateOf([opened, forged, ...events])!.facts.get('f1')!;
}

describe('fact rows', () => {
  it('leave out the original claim of a fact never amended or corrected, and get it back the same', () => {
    const fact = factAfter();
    const json = encodeFact(fact);
    expect(JSON.parse(json)).not.toHaveProperty('original');
    expect(decodeFact(json)).toEqual(fact);
    expect(decodeFact(JSON.parse(json) as object)).toEqual(fact);
  });

  it('keep a corrected or amended fact whole', () => {
    const corrected = factAfter({
      type: 'FactCorrected',
      data: { factId: 'f1', reason: 'Later report.', changes: { confidence: 'confirmed' }, assertedAt: '2023-09-06' },
    });
    const amended = factAfter({
      type: 'FactAmended',
      data: { factId: 'f1', reason: 'Typo.', changes: { summary: 'Tokens forged with a consumer key' } },
    });
    for (const fact of [corrected, amended]) {
      expect(JSON.parse(encodeFact(fact))).toHaveProperty('original', fact.original);
      expect(decodeFact(encodeFact(fact))).toEqual(fact);
    }
    expect(corrected.confidence).not.toBe(corrected.original.confidence);
  });

  it('read rows written whole by earlier versions', () => {
    const fact = factAfter();
    expect(decodeFact(JSON.stringify(fact))).toEqual(fact);
  });

  it('carry the keys the adapters sort and filter on; a retracted fact lists no techniques', () => {
    const row = factRowOf('storm-0558', factAfter());
    expect(row).toMatchObject({ incidentId: 'storm-0558', factId: 'f1', retracted: false, techniques: ['T1606.002'] });
    expect(row.sortMs).toBeLessThanOrEqual(row.latestMs);
    const retracted = factRowOf(
      'storm-0558',
      factAfter({ type: 'FactRetracted', data: { factId: 'f1', reason: 'Withdrawn.' } }),
    );
    expect(retracted).toMatchObject({ retracted: true, techniques: [] });
  });
});
