import { modelView, type HistoryEvent } from './reference-model';

/** The reference model's own rules, on hand-written histories: an oracle is only as good as its rules. */

const RECORDED = '2026-01-01T00:00:00.000Z';
let position = 0;
function event(type: string, data: Record<string, unknown>, recordedAt = RECORDED): HistoryEvent {
  position += 1;
  return { type, data, recordedAt, position, version: position - 1 };
}
const opened = (data: Record<string, unknown> = {}) =>
  event('IncidentOpened', {
    id: 'model-1',
    title: 'Opened',
    category: 'espionage',
    summary: '',
    victims: [],
    threatActors: [],
    status: 'detected',
    effectiveAt: '2023-06-01T00:00:00.000Z',
    assertedAt: '2023-07-11',
    ...data,
  });
const fact = (data: Record<string, unknown> = {}) =>
  event('FactRecorded', {
    factId: 'f1',
    kind: 'other',
    occurredAt: '2023-06',
    summary: 'Original',
    confidence: 'likely',
    sources: [],
    assertedAt: '2023-07-11',
    ...data,
  });

describe('reference model', () => {
  it('is null (404) before the opening is asserted, and exists from the end of that day when asked by date', () => {
    const history = [opened()];
    expect(modelView(history, { knownAt: '2023-07-10' })).toBeNull();
    expect(modelView(history, { knownAt: '2023-07-10T23:59:59.999Z' })).toBeNull();
    expect(modelView(history, { knownAt: '2023-07-11' })).not.toBeNull();
    expect(modelView(history, { asOf: '2025-12-31' })).toBeNull();
  });

  it('takes each detail from the claim naming it with the greatest assertedAt, whatever the order recorded', () => {
    const history = [
      opened(),
      event('IncidentDetailsRevised', { changes: { title: 'Later' }, assertedAt: '2024-03-12' }),
      event('IncidentDetailsRevised', { changes: { title: 'Earlier', summary: 'S' }, assertedAt: '2023-11-15' }),
    ];
    expect(modelView(history)).toMatchObject({ title: 'Later', summary: 'S' });
    expect(modelView(history, { knownAt: '2023-12-01' })).toMatchObject({ title: 'Earlier', summary: 'S' });
  });

  it('merges impact assessments field by field', () => {
    const history = [
      opened(),
      event('ImpactAssessed', { organisations: 25, records: 10, assertedAt: '2023-07-12' }),
      event('ImpactAssessed', { organisations: 22, assertedAt: '2023-09-06' }),
    ];
    expect(modelView(history)!.impact).toEqual({ organisations: 22, records: 10 });
    expect(modelView(history, { knownAt: '2023-07-11' })!.impact).toEqual({});
  });

  it('orders status periods in valid time; before the first period the status is null', () => {
    const history = [
      opened(),
      event('IncidentStatusChanged', { from: 'detected', to: 'resolved', effectiveAt: '2023-09-01T00:00:00.000Z' }),
      event('IncidentStatusChanged', { from: 'detected', to: 'contained', effectiveAt: '2023-07-01' }),
    ];
    expect(modelView(history)).toMatchObject({ status: 'resolved', statusEffectiveAt: '2023-09-01T00:00:00.000Z' });
    expect(modelView(history, { validAt: '2023-08-01' })).toMatchObject({ status: 'contained' });
    expect(modelView(history, { validAt: '2023-05-31' })).toMatchObject({ status: null, statusEffectiveAt: null });
    expect(modelView(history)!.statusHistory.map((period) => [period.from, period.to])).toEqual([
      [null, 'detected'],
      ['detected', 'contained'],
      ['contained', 'resolved'],
    ]);
  });

  it('applies corrections in asserted order and keeps the greatest assertedAt', () => {
    const history = [
      opened(),
      fact(),
      event('FactCorrected', {
        factId: 'f1',
        changes: { confidence: 'disputed' },
        assertedAt: '2024-03-12',
        reason: 'r',
      }),
      event('FactCorrected', {
        factId: 'f1',
        changes: { confidence: 'possible' },
        assertedAt: '2023-11-15',
        reason: 'r',
      }),
    ];
    expect(modelView(history)!.timeline[0]).toMatchObject({
      confidence: 'disputed',
      assertedAt: '2024-03-12T00:00:00.000Z',
    });
    expect(modelView(history, { knownAt: '2023-12-01' })!.timeline[0]).toMatchObject({
      confidence: 'possible',
      assertedAt: '2023-11-15T00:00:00.000Z',
    });
  });

  it('dates an erratum by its fact, and lets an erratum move the fact; asOf still shows the record before it', () => {
    const recordedLater = '2026-02-01T00:00:00.000Z';
    const history = [
      opened(),
      fact(),
      event('FactAmended', { factId: 'f1', changes: { summary: 'Fixed' }, reason: 'typo' }, recordedLater),
    ];
    expect(modelView(history, { knownAt: '2023-07-11' })!.timeline[0].summary).toBe('Fixed');
    expect(modelView(history, { asOf: '2026-01-15' })!.timeline[0].summary).toBe('Original');
    const moved = [
      ...history,
      event('FactAmended', { factId: 'f1', changes: {}, assertedAt: '2023-08-01', reason: 'date' }),
    ];
    expect(modelView(moved, { knownAt: '2023-07-31' })!.timeline).toEqual([]);
    expect(modelView(moved, { knownAt: '2023-08-01' })!.timeline[0].assertedAt).toBe('2023-08-01T00:00:00.000Z');
  });

  it('adds correction sources once, and hides sources published after knownAt', () => {
    const a = { url: 'https://news.example/a', publishedAt: '2023-07-11' };
    const b = { url: 'https://news.example/b', publishedAt: '2023-09-06' };
    const history = [
      opened(),
      fact({ sources: [a, b] }),
      event('FactCorrected', { factId: 'f1', changes: { summary: 'More' }, sources: [a], reason: 'r' }),
    ];
    expect(modelView(history)!.timeline[0].sources).toEqual([a, b]);
    expect(modelView(history, { knownAt: '2023-08-01' })!.timeline[0].sources).toEqual([a]);
  });

  it('orders the timeline by earliest (latest for an open start) and settles only certain, finished facts', () => {
    const history = [
      opened(),
      fact({ factId: 'year', occurredAt: '2022' }),
      fact({ factId: 'open-start', occurredAt: '../2023-05' }),
      fact({ factId: 'approximate', occurredAt: '2021-04~' }),
      fact({ factId: 'day', occurredAt: '2023-06-16' }),
    ];
    expect(modelView(history)!.timeline.map((item) => item.factId)).toEqual([
      'approximate',
      'year',
      'open-start',
      'day',
    ]);
    const view = modelView(history, { validAt: '2023-01-01' })!;
    expect(view.timeline.map((item) => [item.factId, item.settled])).toEqual([
      ['approximate', false],
      ['year', true],
      ['open-start', false],
    ]);
  });

  it('ignores a retraction not yet asserted, and marks the fact retracted once it is', () => {
    const history = [
      opened(),
      fact(),
      event('FactRetracted', { factId: 'f1', reason: 'wrong', assertedAt: '2024-01-01' }),
    ];
    expect(modelView(history, { knownAt: '2023-12-31' })!.timeline[0].retracted).toBe(false);
    expect(modelView(history)!.timeline[0].retracted).toBe(true);
  });
});
