import type { FactData, IncidentEvent, RecordedEvent, Source } from './events';
import { upperBoundOf } from './instant';
import type { FactEventType } from './vocabulary';
import { foldEvents } from './state';
import { foldView, incidentView, isInView, statusAt, timelineOf } from './views';

/** Gives events the envelope the store would, each with the recorded time it names. */
function log(...entries: [recordedAt: string, event: IncidentEvent][]): RecordedEvent[] {
  return entries.map(
    ([recordedAt, event], index) =>
      ({
        ...event,
        eventId: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
        streamId: 'incident-storm-0558',
        version: index,
        position: BigInt(100 + index),
        recordedAt,
        metadata: { actor: { iss: 'test', sub: 'analyst' }, correlationId: 'test', schemaVersion: 1 },
      }) as RecordedEvent,
  );
}

const KEY = 'f1000000-0000-4000-8000-000000000001';
const NOTIFIED = 'f2000000-0000-4000-8000-000000000002';
const REVIEW = 'f3000000-0000-4000-8000-000000000003';

const opened: IncidentEvent = {
  type: 'IncidentOpened',
  data: {
    id: 'storm-0558',
    title: 'Storm-0558 cloud email intrusion',
    category: 'espionage',
    summary: '',
    victims: [],
    threatActors: ['Storm-0558'],
    status: 'detected',
    effectiveAt: '2023-06-16T00:00:00.000Z',
    assertedAt: '2023-07-11',
  },
};

function fact(
  factId: string,
  occurredAt: string,
  extra: Partial<FactData> = {},
  type: FactEventType = 'FactRecorded',
): IncidentEvent {
  return {
    type,
    data: {
      factId,
      kind: 'other',
      occurredAt,
      summary: `Fact ${occurredAt}`,
      confidence: 'confirmed',
      sources: [],
      ...extra,
    },
  };
}

const keyCaptured: IncidentEvent = {
  type: 'KeyCaptured',
  data: {
    factId: KEY,
    kind: 'key-capture',
    occurredAt: '2021-04?',
    summary: 'Consumer signing key captured from a crash dump',
    confidence: 'likely',
    sources: [{ url: 'https://msrc.microsoft.com/blog/2023/09/key-acquisition/', publishedAt: '2023-09-06' }],
    assertedAt: '2023-09-06',
  },
};

const notified: IncidentEvent = {
  type: 'PartyNotified',
  data: {
    factId: NOTIFIED,
    kind: 'notification',
    occurredAt: '2023-06-16',
    summary: 'US State Department notifies the vendor',
    confidence: 'confirmed',
    sources: [
      { url: 'https://example.org/undated' },
      { url: 'https://example.org/later', publishedAt: '2023-07-14' },
      { url: 'https://msrc.microsoft.com/blog/2023/07/mitigation/', publishedAt: '2023-07-11T15:00:00-07:00' },
    ],
  },
};

const keyDisputed: IncidentEvent = {
  type: 'FactCorrected',
  data: {
    factId: KEY,
    changes: { confidence: 'disputed' },
    assertedAt: '2024-03-12',
    reason: 'Vendor found no crash dump containing the key',
  },
};

const investigating: IncidentEvent = {
  type: 'IncidentStatusChanged',
  data: { from: 'detected', to: 'investigating', effectiveAt: '2023-06-20T00:00:00.000Z', assertedAt: '2023-07-14' },
};

const review: IncidentEvent = fact(
  REVIEW,
  '2024-04',
  { kind: 'review', summary: 'CSRB review published' },
  'ReviewPublished',
);

/** The Storm-0558 record as imported in 2026: real dates in asserted and valid time, import dates in recorded time. */
const storm = log(
  ['2026-01-10T09:00:00.000Z', opened],
  ['2026-01-10T09:01:00.000Z', keyCaptured],
  ['2026-01-10T09:02:00.000Z', notified],
  ['2026-01-10T09:03:00.000Z', keyDisputed],
  ['2026-01-10T09:04:00.000Z', investigating],
  ['2026-01-10T09:05:00.000Z', review],
);

const knownAt = (date: string) => upperBoundOf(date);
const validAt = (date: string) => upperBoundOf(date);

describe('point-in-time views', () => {
  describe('asOf (recorded time)', () => {
    it('a view as of a time before the first event is null (the incident did not exist yet)', () => {
      expect(foldView(storm, { asOf: '2026-01-10T08:59:59.999Z' })).toBeNull();
    });

    it('a view as of a time includes exactly the events recorded at or before it', () => {
      const state = foldView(storm, { asOf: '2026-01-10T09:01:00.000Z' });
      expect([...(state?.facts.keys() ?? [])]).toEqual([KEY]);
      expect(state?.version).toBe(1);
      expect(state?.facts.get(KEY)?.confidence).toBe('likely');
    });

    it('a view with no point in time is the live fold', () => {
      expect(foldView(storm, {})).toEqual(foldEvents(storm));
    });
  });

  describe('knownAt (asserted time)', () => {
    it('on 2023-10-01 the key capture was a likely claim, not yet corrected', () => {
      const state = foldView(storm, { knownAt: knownAt('2023-10-01') });
      expect(state?.facts.get(KEY)).toMatchObject({ confidence: 'likely', corrections: [] });
    });

    it('after 2024-03-12 the key capture is disputed', () => {
      const state = foldView(storm, { knownAt: knownAt('2024-06-01') });
      expect(state?.facts.get(KEY)).toMatchObject({ confidence: 'disputed', assertedAt: '2024-03-12T00:00:00.000Z' });
      expect(state?.facts.get(KEY)?.corrections).toHaveLength(1);
    });

    it('a knownAt date includes what was asserted on that day', () => {
      expect(foldView(storm, { knownAt: knownAt('2024-03-12') })?.facts.get(KEY)?.confidence).toBe('disputed');
      expect(foldView(storm, { knownAt: knownAt('2024-03-11') })?.facts.get(KEY)?.confidence).toBe('likely');
    });

    it('facts asserted after knownAt are left out of the view', () => {
      const state = foldView(storm, { knownAt: knownAt('2023-08-01') });
      expect([...(state?.facts.keys() ?? [])]).toEqual([NOTIFIED]);
    });

    it('before the incident itself was asserted there is no incident to show', () => {
      expect(foldView(storm, { knownAt: knownAt('2023-07-10') })).toBeNull();
      expect(foldView(storm, { knownAt: knownAt('2023-07-11') })).toMatchObject({ id: 'storm-0558' });
    });

    it('knownAt filters every claim: the status is as asserted by then', () => {
      expect(foldView(storm, { knownAt: knownAt('2023-07-13') })?.status).toBe('detected');
      expect(foldView(storm, { knownAt: knownAt('2023-07-14') })?.status).toBe('investigating');
    });

    it('a correction asserted before its fact is ignored when the fact is not in view', () => {
      const events = log(
        ['2026-01-10T09:00:00.000Z', opened],
        [
          '2026-01-10T09:01:00.000Z',
          { ...keyCaptured, data: { ...(keyCaptured.data as FactData), assertedAt: '2024-01-01' } },
        ],
        [
          '2026-01-10T09:02:00.000Z',
          { ...keyDisputed, data: { ...keyDisputed.data, assertedAt: '2023-01-01' } } as IncidentEvent,
        ],
      );
      const state = foldView(events, { knownAt: knownAt('2023-08-01') });
      expect(state?.facts.size).toBe(0);
    });

    it('a retraction asserted after knownAt does not yet hide the fact', () => {
      const events = log(
        ['2026-01-10T09:00:00.000Z', opened],
        ['2026-01-10T09:01:00.000Z', keyCaptured],
        [
          '2026-01-10T09:02:00.000Z',
          { type: 'FactRetracted', data: { factId: KEY, reason: 'Withdrawn', assertedAt: '2024-05-01' } },
        ],
      );
      const before = foldView(events, { knownAt: knownAt('2024-04-30') });
      const after = foldView(events, { knownAt: knownAt('2024-05-01') });
      expect(timelineOf(before!).map((f) => f.factId)).toEqual([KEY]);
      expect(timelineOf(after!)).toEqual([]);
    });

    it('asOf and knownAt combine: both filters apply', () => {
      const state = foldView(storm, { asOf: '2026-01-10T09:02:00.000Z', knownAt: knownAt('2024-06-01') });
      expect([...(state?.facts.keys() ?? [])].sort()).toEqual([KEY, NOTIFIED].sort());
      expect(state?.facts.get(KEY)?.confidence).toBe('likely');
    });
  });

  describe('assertedAt defaults', () => {
    it('an explicit assertedAt date is read as the start of that day', () => {
      expect(foldEvents(storm)?.facts.get(KEY)?.firstAssertedAt).toBe('2023-09-06T00:00:00.000Z');
    });

    it('without assertedAt a fact is asserted at the earliest publishedAt of its sources', () => {
      expect(foldEvents(storm)?.facts.get(NOTIFIED)?.assertedAt).toBe('2023-07-11T22:00:00.000Z');
    });

    it('without assertedAt or a dated source a fact is asserted when it was recorded', () => {
      expect(foldEvents(storm)?.facts.get(REVIEW)?.assertedAt).toBe('2026-01-10T09:05:00.000Z');
    });

    it('a correction without assertedAt is asserted at its earliest new source, else when it was recorded', () => {
      const events = log(
        ['2026-01-10T09:00:00.000Z', opened],
        ['2026-01-10T09:01:00.000Z', keyCaptured],
        [
          '2026-01-10T09:02:00.000Z',
          {
            type: 'FactCorrected',
            data: {
              factId: KEY,
              changes: { confidence: 'possible' },
              sources: [{ url: 'https://example.org/csrb', publishedAt: '2024-04-02' } satisfies Source],
              reason: 'CSRB review',
            },
          },
        ],
        [
          '2026-01-10T09:03:00.000Z',
          { type: 'FactCorrected', data: { factId: KEY, changes: { summary: 'Key captured' }, reason: 'Wording' } },
        ],
      );
      const [fromSource, fromRecord] = foldEvents(events)!.facts.get(KEY)!.corrections;
      expect(fromSource.assertedAt).toBe('2024-04-02T00:00:00.000Z');
      expect(fromRecord.assertedAt).toBe('2026-01-10T09:03:00.000Z');
      expect(isInView(events[2], { knownAt: knownAt('2024-04-01') })).toBe(false);
      expect(isInView(events[2], { knownAt: knownAt('2024-04-02') })).toBe(true);
    });

    it('a fact recorded without assertedAt or dated source is only known from its recorded time on', () => {
      expect(isInView(storm[5], { knownAt: '2026-01-10T09:04:59.999Z' })).toBe(false);
      expect(isInView(storm[5], { knownAt: '2026-01-10T09:05:00.000Z' })).toBe(true);
    });
  });

  describe('validAt (valid time)', () => {
    const STRADDLING = 'f4000000-0000-4000-8000-000000000004';
    const OPEN_START = 'f5000000-0000-4000-8000-000000000005';
    const OPEN_END = 'f6000000-0000-4000-8000-000000000006';
    const state = foldEvents(
      log(
        ['2026-01-10T09:00:00.000Z', opened],
        ['2026-01-10T09:01:00.000Z', keyCaptured],
        ['2026-01-10T09:02:00.000Z', notified],
        ['2026-01-10T09:03:00.000Z', fact(STRADDLING, '2023-05/2023-07')],
        ['2026-01-10T09:04:00.000Z', fact(OPEN_START, '../2023-05')],
        ['2026-01-10T09:05:00.000Z', fact(OPEN_END, '2023-05/..')],
        ['2026-01-10T09:06:00.000Z', investigating],
      ),
    )!;
    const settledAt = (date: string) =>
      Object.fromEntries(timelineOf(state, { validAt: validAt(date) }).map((f) => [f.factId, f.settled]));

    it('keeps facts whose earliest moment is at or before validAt; settled only when their latest is too', () => {
      expect(settledAt('2023-06-15')).toEqual({
        // 2021-04? is uncertain: never settled, however long ago.
        [KEY]: false,
        [STRADDLING]: false,
        [OPEN_START]: true,
        [OPEN_END]: false,
      });
    });

    it('a fact on the validAt day is in view and settled (a date means the end of that day)', () => {
      expect(settledAt('2023-06-16')[NOTIFIED]).toBe(true);
    });

    it('an open-start interval is in view at any time, unsettled until its end', () => {
      expect(settledAt('2020-01-01')).toEqual({ [OPEN_START]: false });
    });

    it('a straddling interval settles once its latest moment has passed', () => {
      expect(settledAt('2023-07-31')[STRADDLING]).toBe(true);
      expect(
        timelineOf(state, { validAt: '2023-07-31T23:59:59.998Z' }).find((f) => f.factId === STRADDLING)?.settled,
      ).toBe(false);
    });

    it('facts carry no settled flag without validAt', () => {
      expect(timelineOf(state).every((f) => f.settled === undefined)).toBe(true);
    });

    it('the status in effect at validAt comes from the status history', () => {
      const at = (date: string) => {
        const view = incidentView(state, { validAt: date });
        return [view.status, view.statusEffectiveAt];
      };
      expect(at(validAt('2023-06-15'))).toEqual([null, null]);
      expect(at('2023-06-16T00:00:00.000Z')).toEqual(['detected', '2023-06-16T00:00:00.000Z']);
      expect(at(validAt('2023-06-19'))).toEqual(['detected', '2023-06-16T00:00:00.000Z']);
      expect(at('2023-06-20T00:00:00.000Z')).toEqual(['investigating', '2023-06-20T00:00:00.000Z']);
      expect(incidentView(state).status).toBe('investigating');
    });

    it('statusAt is null before the first status took effect', () => {
      expect(statusAt(state.statusHistory, '2023-06-15T23:59:59.999Z')).toBeNull();
      expect(statusAt(state.statusHistory, '2024-01-01T00:00:00.000Z')).toMatchObject({
        from: 'detected',
        to: 'investigating',
      });
    });
  });

  describe('timeline', () => {
    const ids = {
      before: 'a0000000-0000-4000-8000-000000000001',
      beforeMarch: 'a0000000-0000-4000-8000-000000000002',
      year: 'a0000000-0000-4000-8000-000000000003',
      june: 'a0000000-0000-4000-8000-000000000004',
      juneFirst: 'a0000000-0000-4000-8000-000000000005',
      notifiedA: 'a0000000-0000-4000-8000-000000000006',
      notifiedB: 'a0000000-0000-4000-8000-000000000007',
      openEnd: 'a0000000-0000-4000-8000-000000000008',
      retracted: 'a0000000-0000-4000-8000-000000000009',
    };
    const state = foldEvents(
      log(
        ['2026-01-10T09:00:00.000Z', opened],
        ['2026-01-10T09:01:00.000Z', fact(ids.notifiedA, '2023-06-16')],
        ['2026-01-10T09:02:00.000Z', fact(ids.openEnd, '2023-06-16/..')],
        ['2026-01-10T09:03:00.000Z', fact(ids.june, '2023-06')],
        ['2026-01-10T09:04:00.000Z', fact(ids.before, '../2023-05')],
        ['2026-01-10T09:05:00.000Z', fact(ids.notifiedB, '2023-06-16')],
        ['2026-01-10T09:06:00.000Z', fact(ids.year, '2023')],
        ['2026-01-10T09:07:00.000Z', fact(ids.juneFirst, '2023-06-01')],
        ['2026-01-10T09:08:00.000Z', fact(ids.beforeMarch, '../2023-03')],
        ['2026-01-10T09:09:00.000Z', fact(ids.retracted, '2022')],
        [
          '2026-01-10T09:10:00.000Z',
          { type: 'FactRetracted', data: { factId: ids.retracted, reason: 'Wrong incident' } },
        ],
      ),
    )!;

    it('orders facts by earliest (latest for an open start), then latest, then position in the log', () => {
      expect(timelineOf(state).map((f) => f.factId)).toEqual([
        ids.year,
        ids.beforeMarch,
        ids.before,
        ids.juneFirst,
        ids.june,
        ids.notifiedA,
        ids.notifiedB,
        ids.openEnd,
      ]);
    });

    it('shows each fact with its EDTF value and normalised interval', () => {
      const before = timelineOf(state).find((f) => f.factId === ids.before);
      expect(before).toMatchObject({
        occurredAt: '../2023-05',
        occurredInterval: { earliest: null, latest: '2023-05-31T23:59:59.999Z' },
      });
    });

    it('hides retracted facts', () => {
      expect(timelineOf(state).some((f) => f.factId === ids.retracted)).toBe(false);
      expect(incidentView(state).timeline.some((f) => f.factId === ids.retracted)).toBe(false);
    });

    it('shows retracted facts, marked with their retraction, when asked to include them', () => {
      const timeline = timelineOf(state, { includeRetracted: true });
      expect(timeline.map((f) => f.factId).indexOf(ids.retracted)).toBe(0);
      expect(timeline.find((f) => f.factId === ids.retracted)).toMatchObject({
        retracted: true,
        retraction: { reason: 'Wrong incident', assertedAt: '2026-01-10T09:10:00.000Z' },
      });
    });

    it('orders a corrected fact by its corrected occurredAt', () => {
      const corrected = foldEvents(
        log(
          ['2026-01-10T09:00:00.000Z', opened],
          ['2026-01-10T09:01:00.000Z', fact(ids.year, '2023')],
          ['2026-01-10T09:02:00.000Z', fact(ids.june, '2023-06')],
          [
            '2026-01-10T09:03:00.000Z',
            { type: 'FactCorrected', data: { factId: ids.year, changes: { occurredAt: '2023-07' }, reason: 'Dated' } },
          ],
        ),
      )!;
      expect(timelineOf(corrected).map((f) => [f.factId, f.occurredAt, f.corrected])).toEqual([
        [ids.june, '2023-06', false],
        [ids.year, '2023-07', true],
      ]);
    });
  });
});
