import { given, recorded, stateOf, TEST_NOW } from '@app/testing/specification';
import type { IncidentCommand } from './commands';
import { decide } from './decide';
import { diffViews } from './diff';
import type { IncidentEvent } from './events';
import { upperBoundOf } from './instant';
import { foldEvents } from './state';
import { foldView, incidentView, timelineOf } from './views';

const FACT = '3f2b7c1e-8a4d-4e6f-9b0a-1c2d3e4f5a6b';
const CSRB = { url: 'https://www.cisa.gov/csrb-report', publisher: 'CISA', publishedAt: '2024-04-02' };

const opened: IncidentEvent = {
  type: 'IncidentOpened',
  data: {
    id: 'storm-0558',
    title: 'Storm-0558',
    category: 'espionage',
    summary: 'Forged tokens read government mail',
    victims: ['US State Department'],
    threatActors: ['Storm-0558'],
    status: 'detected',
    effectiveAt: '2023-06-16T00:00:00.000Z',
    assertedAt: '2023-07-11',
  },
};

const keyCaptured: IncidentEvent = {
  type: 'KeyCaptured',
  data: {
    factId: FACT,
    kind: 'key-capture',
    occurredAt: '2021-04',
    summary: 'A crash dump held the key',
    confidence: 'likely',
    sources: [],
    assertedAt: '2023-09-06',
  },
};

const correction = (assertedAt: string, confidence: 'possible' | 'disputed' | 'confirmed'): IncidentEvent => ({
  type: 'FactCorrected',
  data: { factId: FACT, changes: { confidence }, assertedAt, reason: `As of ${assertedAt}` },
});

const correct = (data: Partial<Extract<IncidentCommand, { type: 'CorrectFact' }>['data']>): IncidentCommand => ({
  type: 'CorrectFact',
  data: { factId: FACT, changes: {}, reason: 'Newer analysis', ...data },
});

const knownAt = (date: string) => ({ knownAt: upperBoundOf(date) });

describe('claims apply in asserted order', () => {
  it('a correction recorded later but asserted earlier does not override a later-asserted one in the live view', () => {
    const state = stateOf([
      opened,
      keyCaptured,
      correction('2024-03-12', 'possible'),
      correction('2023-11-15', 'disputed'),
    ])!;
    expect(state.facts.get(FACT)!.confidence).toBe('possible');
    expect(state.facts.get(FACT)!.assertedAt).toBe('2024-03-12T00:00:00.000Z');
    expect(state.facts.get(FACT)!.corrections.map((c) => c.assertedAt.slice(0, 10))).toEqual([
      '2023-11-15',
      '2024-03-12',
    ]);
  });

  it('the backfilled correction shows at a knownAt between the two', () => {
    const events = recorded([
      opened,
      keyCaptured,
      correction('2024-03-12', 'possible'),
      correction('2023-11-15', 'disputed'),
    ]);
    expect(foldView(events, knownAt('2023-12-01'))?.facts.get(FACT)?.confidence).toBe('disputed');
    expect(foldView(events, knownAt('2024-06-01'))?.facts.get(FACT)?.confidence).toBe('possible');
  });

  it('folding the same claims in any recorded order gives the same state', () => {
    const claims = [keyCaptured, correction('2024-03-12', 'possible'), correction('2023-11-15', 'disputed')];
    const forward = foldEvents(recorded([opened, ...claims]))!;
    const backward = foldEvents(recorded([opened, claims[0], claims[2], claims[1]]))!;
    expect(forward.facts.get(FACT)!.confidence).toBe(backward.facts.get(FACT)!.confidence);
    expect(forward.facts.get(FACT)!.assertedAt).toBe(backward.facts.get(FACT)!.assertedAt);
  });

  it('a correction is judged against the fact as it stood at its own assertedAt', () => {
    const history = [opened, keyCaptured, correction('2024-03-12', 'possible')];
    // On 2023-11-15 the fact was still "likely": a correction to "possible" then is not a no-op.
    expect(
      decide(correct({ changes: { confidence: 'possible' }, assertedAt: '2023-11-15' }), stateOf(history), {
        now: TEST_NOW,
      }),
    ).toHaveLength(1);
    // On 2024-06-01 it already was "possible": nothing to record.
    expect(
      decide(correct({ changes: { confidence: 'possible' }, assertedAt: '2024-06-01' }), stateOf(history), {
        now: TEST_NOW,
      }),
    ).toEqual([]);
  });

  it('refuses a correction asserted before its fact as asserted-before-fact', () => {
    given(opened, keyCaptured)
      .when(correct({ changes: { confidence: 'disputed' }, assertedAt: '2023-09-05' }))
      .thenRefused('asserted-before-fact', 'assertedAt');
  });

  it('refuses a retraction asserted before its fact as asserted-before-fact', () => {
    given(opened, keyCaptured)
      .when({ type: 'RetractFact', data: { factId: FACT, reason: 'Withdrawn', assertedAt: '2023-01-01' } })
      .thenRefused('asserted-before-fact', 'assertedAt');
  });

  it('accepts a correction asserted before a retraction even though recorded after it', () => {
    const retracted: IncidentEvent = {
      type: 'FactRetracted',
      data: { factId: FACT, reason: 'Withdrawn', assertedAt: '2024-05-01' },
    };
    given(opened, keyCaptured, retracted)
      .when(correct({ changes: { confidence: 'disputed' }, assertedAt: '2024-03-12' }))
      .then([
        {
          type: 'FactCorrected',
          data: {
            factId: FACT,
            changes: { confidence: 'disputed' },
            assertedAt: '2024-03-12',
            reason: 'Newer analysis',
          },
        },
      ]);
    given(opened, keyCaptured, retracted)
      .when(correct({ changes: { confidence: 'disputed' }, assertedAt: '2024-05-02' }))
      .thenRefused('fact-retracted', 'factId');
  });

  it("a claim asserted before the incident became public shows from the incident's own assertedAt on", () => {
    const certificate: IncidentEvent = {
      type: 'FactRecorded',
      data: {
        factId: 'c0000000-0000-4000-8000-000000000001',
        kind: 'other',
        occurredAt: '2016',
        summary: 'Key issued',
        confidence: 'confirmed',
        sources: [],
        assertedAt: '2023-07-01',
      },
    };
    const events = recorded([opened, certificate]);
    expect(foldView(events, knownAt('2023-07-05'))).toBeNull();
    expect([...foldView(events, knownAt('2023-07-11'))!.facts.keys()]).toEqual([
      'c0000000-0000-4000-8000-000000000001',
    ]);
  });
});

describe('knownAt covers the whole record', () => {
  const revised: IncidentEvent = {
    type: 'IncidentDetailsRevised',
    data: { changes: { summary: 'Mail of 22 organisations read' }, assertedAt: '2024-04-02', sources: [CSRB] },
  };
  const impact: IncidentEvent = { type: 'ImpactAssessed', data: { organisations: 22, assertedAt: '2024-04-02' } };
  const firstImpact: IncidentEvent = {
    type: 'ImpactAssessed',
    data: { organisations: 25, records: 60000, assertedAt: '2023-07-11' },
  };
  const resolved: IncidentEvent = {
    type: 'IncidentStatusChanged',
    data: { from: 'detected', to: 'resolved', effectiveAt: '2024-04-02T00:00:00.000Z', assertedAt: '2024-04-02' },
  };
  const linked: IncidentEvent = {
    type: 'IncidentLinked',
    data: { incidentId: 'salt-typhoon', relation: 'related', assertedAt: '2024-12-01' },
  };
  const events = recorded([opened, firstImpact, revised, impact, resolved, linked]);

  it('details, impact, status, links and sources are as asserted by then', () => {
    const early = incidentView(foldView(events, knownAt('2023-08-01'))!, knownAt('2023-08-01'));
    expect(early).toMatchObject({
      summary: 'Forged tokens read government mail',
      status: 'detected',
      impact: { organisations: 25, records: 60000 },
      links: [],
      sources: [],
    });
    const late = incidentView(foldView(events, knownAt('2025-01-01'))!, knownAt('2025-01-01'));
    expect(late).toMatchObject({
      summary: 'Mail of 22 organisations read',
      status: 'resolved',
      impact: { organisations: 22, records: 60000 },
    });
    expect(late.links.map((l) => l.incidentId)).toEqual(['salt-typhoon']);
    expect(late.sources.map((s) => s.url)).toEqual([CSRB.url]);
  });

  it('an impact assessment merges with earlier ones field by field', () => {
    expect(stateOf([opened, firstImpact, impact])!.impact).toEqual({ organisations: 22, records: 60000 });
  });

  it('a revision is judged against the details as known at its assertedAt, and may not precede the incident', () => {
    given(opened, revised)
      .when({
        type: 'ReviseIncidentDetails',
        data: { summary: 'Forged tokens read government mail', assertedAt: '2023-08-01' },
      })
      .then([]);
    given(opened)
      .when({ type: 'ReviseIncidentDetails', data: { title: 'Earlier', assertedAt: '2023-07-01' } })
      .thenRefused('asserted-before-incident', 'assertedAt');
  });

  it('a fact source published after knownAt is not shown', () => {
    const withSources: IncidentEvent = {
      type: 'KeyCaptured',
      data: {
        ...(keyCaptured.data as object),
        sources: [{ url: 'https://msrc.example/2023-09', publishedAt: '2023-09-06' }, CSRB],
      } as never,
    };
    const state = foldView(recorded([opened, withSources]), knownAt('2023-10-01'))!;
    expect(timelineOf(state, knownAt('2023-10-01'))[0].sources.map((s) => s.url)).toEqual([
      'https://msrc.example/2023-09',
    ]);
  });
});

describe('errata', () => {
  const typo: IncidentEvent = {
    type: 'FactAmended',
    data: { factId: FACT, changes: { occurredAt: '2021-04-01' }, reason: 'Copied the wrong day from the source' },
  };

  it('an erratum is recorded as FactAmended, not as a public correction', () => {
    given(opened, keyCaptured)
      .when(
        correct({
          changes: { occurredAt: '2021-04-01' },
          erratum: true,
          reason: 'Copied the wrong day from the source',
        }),
      )
      .then([typo]);
  });

  it('applies at every knownAt from the original claim on; asOf before it shows the record as it was', () => {
    const events = recorded([opened, keyCaptured, typo]);
    expect(foldView(events, knownAt('2023-09-06'))?.facts.get(FACT)?.occurredAt.value).toBe('2021-04-01');
    expect(foldView(events, { asOf: events[1].recordedAt })?.facts.get(FACT)?.occurredAt.value).toBe('2021-04');
    const fact = foldEvents(events)!.facts.get(FACT)!;
    expect(fact.corrections).toEqual([]);
    expect(fact.errata).toHaveLength(1);
  });

  it('does not override a later public correction of the same field', () => {
    const corrected: IncidentEvent = {
      type: 'FactCorrected',
      data: { factId: FACT, changes: { occurredAt: '2021-05' }, assertedAt: '2024-03-12', reason: 'New analysis' },
    };
    expect(foldEvents(recorded([opened, keyCaptured, corrected, typo]))!.facts.get(FACT)!.occurredAt.value).toBe(
      '2021-05',
    );
  });

  it('an erratum may move when the original claim became public', () => {
    const moved: IncidentEvent = {
      type: 'FactAmended',
      data: { factId: FACT, changes: {}, assertedAt: '2023-07-11', reason: 'The first post already said it' },
    };
    const events = recorded([opened, keyCaptured, moved]);
    expect(foldView(events, knownAt('2023-08-01'))?.facts.get(FACT)).toBeDefined();
    expect(foldView(events.slice(0, 2), knownAt('2023-08-01'))?.facts.get(FACT)).toBeUndefined();
  });
});

describe('diffViews', () => {
  it('lists facts added and changed field by field, and status changes', () => {
    const events = recorded([
      opened,
      keyCaptured,
      correction('2024-03-12', 'possible'),
      {
        type: 'ReviewPublished',
        data: {
          factId: 'r0000000-0000-4000-8000-000000000001',
          kind: 'review',
          occurredAt: '2024-04-02',
          summary: 'CSRB review',
          confidence: 'confirmed',
          sources: [CSRB],
        },
      },
    ]);
    const view = (date: string) => incidentView(foldView(events, knownAt(date))!, knownAt(date));
    const diff = diffViews(view('2023-10-01'), view('2024-06-01'));
    expect(diff.facts.added.map((f) => f.kind)).toEqual(['review']);
    expect(diff.facts.changed).toEqual([
      expect.objectContaining({ factId: FACT, fields: [{ field: 'confidence', before: 'likely', after: 'possible' }] }),
    ]);
    expect(diff.facts.removed).toEqual([]);
    expect(diff.status).toBeNull();
  });
});

describe('techniques', () => {
  it('records ATT&CK technique ids on a fact, once each', () => {
    const events = decide(
      {
        type: 'RecordFact',
        data: {
          factId: FACT,
          kind: 'token-forgery',
          occurredAt: '2023-05',
          summary: 'Tokens forged',
          techniques: ['T1606.002', 'T1606.002', 'T1078'],
        },
      },
      stateOf([opened]),
      { now: TEST_NOW },
    );
    expect(events[0].data).toMatchObject({ techniques: ['T1606.002', 'T1078'] });
  });

  it('refuses a malformed technique id as invalid techniques[0]', () => {
    given(opened)
      .when({
        type: 'RecordFact',
        data: { factId: FACT, kind: 'other', occurredAt: '2023', summary: 'x', techniques: ['T16'] },
      })
      .thenRefused('invalid', 'techniques[0]');
  });
});
