import { given, stateOf, TEST_NOW } from '@app/testing/specification';
import type { IncidentCommand } from './commands';
import { decide } from './decide';
import { DomainError } from './errors';
import type { FactData, IncidentEvent, IncidentOpenedData, Source } from './events';
import { FACT_EVENT_TYPES, type FactKind, type IncidentStatus } from './vocabulary';

/** A value the types forbid, as a client could still send it. */
function unchecked(value: unknown): never {
  return value as never;
}

/** The refusal a command meets, so its details can be inspected; fails the test when the command is accepted. */
function refusalOf(history: IncidentEvent[], command: IncidentCommand): DomainError {
  let caught: unknown;
  try {
    decide(command, stateOf(history), { now: TEST_NOW });
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DomainError);
  return caught as DomainError;
}

const ID = 'storm-0558';
const FACT_ID = '3f2b7c1e-8a4d-4e6f-9b0a-1c2d3e4f5a6b';
const OTHER_FACT_ID = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const MSRC_JULY: Source = {
  url: 'https://msrc.microsoft.com/blog/2023/07/microsoft-mitigates-china-based-threat-actor-storm-0558/',
  title: 'Microsoft mitigates China-based threat actor Storm-0558 targeting of customer email',
  publisher: 'Microsoft Security Response Center',
  publishedAt: '2023-07-11',
};
const MSRC_SEPTEMBER: Source = {
  url: 'https://msrc.microsoft.com/blog/2023/09/results-of-major-technical-investigations-for-storm-0558-key-acquisition/',
  publisher: 'Microsoft Security Response Center',
  publishedAt: '2023-09-06',
};

function opened(overrides: Partial<IncidentOpenedData> = {}): IncidentEvent {
  return {
    type: 'IncidentOpened',
    data: {
      id: ID,
      title: 'Storm-0558 cloud email intrusion',
      category: 'espionage',
      summary: '',
      victims: [],
      threatActors: [],
      status: 'detected',
      effectiveAt: '2023-06-16T00:00:00.000Z',
      ...overrides,
    },
  };
}

function keyCaptured(overrides: Partial<FactData> = {}): IncidentEvent {
  return {
    type: 'KeyCaptured',
    data: {
      factId: FACT_ID,
      kind: 'key-capture',
      occurredAt: '2021-04?',
      summary: 'Consumer signing key captured from a crash dump',
      confidence: 'likely',
      sources: [MSRC_SEPTEMBER],
      actors: ['Storm-0558'],
      ...overrides,
    },
  };
}

const retracted: IncidentEvent = { type: 'FactRetracted', data: { factId: FACT_ID, reason: 'Recorded twice' } };

function statusChanged(from: IncidentStatus, to: IncidentStatus, effectiveAt: string): IncidentEvent {
  return { type: 'IncidentStatusChanged', data: { from, to, effectiveAt } };
}

const recordFact = (data: Partial<Extract<IncidentCommand, { type: 'RecordFact' }>['data']> = {}): IncidentCommand => ({
  type: 'RecordFact',
  data: {
    factId: OTHER_FACT_ID,
    kind: 'notification',
    occurredAt: '2023-06-16',
    summary: 'US State Department notifies the vendor of anomalous mail access',
    ...data,
  },
});

const correctFact = (
  data: Partial<Extract<IncidentCommand, { type: 'CorrectFact' }>['data']> = {},
): IncidentCommand => ({
  type: 'CorrectFact',
  data: { factId: FACT_ID, changes: {}, reason: 'Vendor found no crash dump containing the key', ...data },
});

const manySources = (count: number): Source[] =>
  Array.from({ length: count }, (_, index) => ({ url: `https://example.org/sources/${index}` }));
const names = (count: number): string[] => Array.from({ length: count }, (_, index) => `Organisation ${index}`);

describe('decide', () => {
  describe('every command but OpenIncident needs an existing incident', () => {
    it.each<IncidentCommand>([
      { type: 'ReviseIncidentDetails', data: { title: 'New title' } },
      recordFact(),
      correctFact({ changes: { confidence: 'disputed' } }),
      { type: 'RetractFact', data: { factId: FACT_ID, reason: 'Duplicate' } },
      { type: 'ChangeStatus', data: { status: 'investigating' } },
      { type: 'AssessImpact', data: { organisations: 25 } },
      { type: 'LinkIncident', data: { incidentId: 'midnight-blizzard', relation: 'related' } },
    ])('$type on a missing incident is refused as not-found', (command) => {
      given().when(command).thenRefused('not-found');
    });
  });

  describe('OpenIncident', () => {
    const open = (data: Partial<Extract<IncidentCommand, { type: 'OpenIncident' }>['data']> = {}): IncidentCommand => ({
      type: 'OpenIncident',
      data: { id: ID, title: 'Storm-0558 cloud email intrusion', category: 'espionage', ...data },
    });

    it('opens an incident as detected, effective now, with empty defaults', () => {
      given()
        .when(open())
        .then([
          {
            type: 'IncidentOpened',
            data: {
              id: ID,
              title: 'Storm-0558 cloud email intrusion',
              category: 'espionage',
              summary: '',
              victims: [],
              threatActors: [],
              status: 'detected',
              effectiveAt: TEST_NOW,
            },
          },
        ]);
    });

    it('keeps every given field and normalises effectiveAt to a UTC instant', () => {
      given()
        .when(
          open({
            summary: 'Forged tokens gave access to mail at about 25 organisations',
            victims: ['US State Department'],
            threatActors: ['Storm-0558'],
            status: 'investigating',
            effectiveAt: '2023-06-16T02:00:00+02:00',
          }),
        )
        .then([
          {
            type: 'IncidentOpened',
            data: {
              id: ID,
              title: 'Storm-0558 cloud email intrusion',
              category: 'espionage',
              summary: 'Forged tokens gave access to mail at about 25 organisations',
              victims: ['US State Department'],
              threatActors: ['Storm-0558'],
              status: 'investigating',
              effectiveAt: '2023-06-16T00:00:00.000Z',
            },
          },
        ]);
    });

    it('accepts a 64-character slug, the longest the id pattern allows', () => {
      const id = `a${'b'.repeat(62)}c`;
      expect(decide(open({ id }), null, { now: TEST_NOW })).toHaveLength(1);
    });

    it('refuses an id that is already taken as already-exists', () => {
      given(opened()).when(open()).thenRefused('already-exists');
    });

    it.each([
      ['too short', 'ab'],
      ['uppercase', 'Storm-0558'],
      ['leading hyphen', '-storm-0558'],
      ['trailing hyphen', 'storm-0558-'],
      ['spaces', 'storm 0558'],
      ['longer than 64 characters', `a${'b'.repeat(63)}c`],
      ['not a string', 558],
    ])('refuses an id that is not a slug (%s) as invalid id', (_case, id) => {
      given()
        .when(open({ id: unchecked(id) }))
        .thenRefused('invalid', 'id');
    });

    it.each([
      ['empty', ''],
      ['blank', '   '],
      ['longer than 200 characters', 'x'.repeat(201)],
      ['not a string', 42],
    ])('refuses a title that is %s as invalid title', (_case, title) => {
      given()
        .when(open({ title: unchecked(title) }))
        .thenRefused('invalid', 'title');
    });

    it('refuses a category outside the vocabulary as invalid category', () => {
      given()
        .when(open({ category: unchecked('hacking') }))
        .thenRefused('invalid', 'category');
    });

    it('refuses a summary longer than 5000 characters as invalid summary', () => {
      given()
        .when(open({ summary: 'x'.repeat(5001) }))
        .thenRefused('invalid', 'summary');
    });

    it('refuses more than 100 victims as invalid victims', () => {
      given()
        .when(open({ victims: names(101) }))
        .thenRefused('invalid', 'victims');
    });

    it('accepts exactly 100 victims', () => {
      expect(decide(open({ victims: names(100) }), null, { now: TEST_NOW })).toHaveLength(1);
    });

    it('refuses an empty victim name as invalid victims[i]', () => {
      given()
        .when(open({ victims: ['US State Department', ''] }))
        .thenRefused('invalid', 'victims[1]');
    });

    it('refuses more than 50 threat actors as invalid threatActors', () => {
      given()
        .when(open({ threatActors: names(51) }))
        .thenRefused('invalid', 'threatActors');
    });

    it('refuses a status outside the vocabulary as invalid status', () => {
      given()
        .when(open({ status: unchecked('closed') }))
        .thenRefused('invalid', 'status');
    });

    it.each([
      ['an instant without offset', '2023-06-16T00:00:00'],
      ['an impossible day', '2023-02-30T00:00:00Z'],
      ['an impossible calendar date', '2023-02-30'],
      ['free text', 'yesterday'],
      ['a year beyond 9999 reached through an offset', '9999-12-31T23:59:59-23:59'],
    ])(
      'refuses an effectiveAt that is not a date or RFC 3339 instant (%s) as invalid effectiveAt',
      (_case, effectiveAt) => {
        given().when(open({ effectiveAt })).thenRefused('invalid', 'effectiveAt');
      },
    );

    it('accepts a calendar date as effectiveAt, read as its first instant (UTC)', () => {
      const events = decide(open({ effectiveAt: '2023-06-16' }), null, { now: TEST_NOW });
      expect(events[0].data).toMatchObject({ effectiveAt: '2023-06-16T00:00:00.000Z' });
    });

    it('refuses an effectiveAt in the future as invalid effectiveAt', () => {
      given()
        .when(open({ effectiveAt: '2026-01-15T12:00:00.001Z' }))
        .thenRefused('invalid', 'effectiveAt');
    });

    it('accepts an effectiveAt equal to now', () => {
      const [event] = decide(open({ effectiveAt: TEST_NOW }), null, { now: TEST_NOW });
      expect(event).toMatchObject({ data: { effectiveAt: TEST_NOW } });
    });
  });

  describe('ReviseIncidentDetails', () => {
    const revise = (data: Extract<IncidentCommand, { type: 'ReviseIncidentDetails' }>['data']): IncidentCommand => ({
      type: 'ReviseIncidentDetails',
      data,
    });
    const known = opened({ summary: 'Mail access', victims: ['US State Department'], threatActors: ['Storm-0558'] });

    it('records only the fields that change', () => {
      given(known)
        .when(
          revise({
            title: 'Storm-0558: forged tokens for cloud email',
            category: 'espionage',
            victims: ['US State Department', 'US Department of Commerce'],
          }),
        )
        .then([
          {
            type: 'IncidentDetailsRevised',
            data: {
              changes: {
                title: 'Storm-0558: forged tokens for cloud email',
                victims: ['US State Department', 'US Department of Commerce'],
              },
            },
          },
        ]);
    });

    it('allows the summary to be emptied', () => {
      given(known)
        .when(revise({ summary: '' }))
        .then([{ type: 'IncidentDetailsRevised', data: { changes: { summary: '' } } }]);
    });

    it('revising with identical values records nothing', () => {
      given(known)
        .when(
          revise({
            title: 'Storm-0558 cloud email intrusion',
            category: 'espionage',
            summary: 'Mail access',
            victims: ['US State Department'],
            threatActors: ['Storm-0558'],
          }),
        )
        .then([]);
    });

    it('a revision after an earlier revision compares with the revised values', () => {
      given(known, { type: 'IncidentDetailsRevised', data: { changes: { title: 'Renamed' } } })
        .when(revise({ title: 'Renamed' }))
        .then([]);
    });

    it('refuses a revision that names no field as invalid body', () => {
      given(known).when(revise({})).thenRefused('invalid', 'body');
    });

    it.each<[string, Extract<IncidentCommand, { type: 'ReviseIncidentDetails' }>['data'], string]>([
      ['an empty title', { title: '' }, 'title'],
      ['a title over 200 characters', { title: 'x'.repeat(201) }, 'title'],
      ['an unknown category', { category: unchecked('hacking') }, 'category'],
      ['a summary over 5000 characters', { summary: 'x'.repeat(5001) }, 'summary'],
      ['more than 100 victims', { victims: names(101) }, 'victims'],
      ['victims that are not an array', { victims: unchecked('US State Department') }, 'victims'],
      ['an empty threat actor', { threatActors: [' '] }, 'threatActors[0]'],
      ['more than 50 threat actors', { threatActors: names(51) }, 'threatActors'],
    ])('refuses %s as invalid', (_case, data, field) => {
      given(known).when(revise(data)).thenRefused('invalid', field);
    });

    it('refuses the whole revision when one field is invalid, even if another would change', () => {
      given(known)
        .when(revise({ title: 'Valid new title', category: unchecked('hacking') }))
        .thenRefused('invalid', 'category');
    });
  });

  describe('RecordFact', () => {
    it('records a fact with confidence confirmed and no sources by default', () => {
      given(opened())
        .when(recordFact())
        .then([
          {
            type: 'PartyNotified',
            data: {
              factId: OTHER_FACT_ID,
              kind: 'notification',
              occurredAt: '2023-06-16',
              summary: 'US State Department notifies the vendor of anomalous mail access',
              confidence: 'confirmed',
              sources: [],
            },
          },
        ]);
    });

    it('keeps occurredAt verbatim and every optional field given', () => {
      given(opened())
        .when(
          recordFact({
            kind: 'key-capture',
            occurredAt: '2021-04?',
            summary: 'Consumer signing key captured from a crash dump',
            confidence: 'likely',
            sources: [MSRC_SEPTEMBER],
            assertedAt: '2023-09-06T17:00:00Z',
            actors: ['Storm-0558'],
          }),
        )
        .then([
          {
            type: 'KeyCaptured',
            data: {
              factId: OTHER_FACT_ID,
              kind: 'key-capture',
              occurredAt: '2021-04?',
              summary: 'Consumer signing key captured from a crash dump',
              confidence: 'likely',
              sources: [MSRC_SEPTEMBER],
              assertedAt: '2023-09-06T17:00:00Z',
              actors: ['Storm-0558'],
            },
          },
        ]);
    });

    it.each(Object.entries(FACT_EVENT_TYPES) as [FactKind, string][])(
      'a fact of kind %s is stored as the event type %s',
      (kind, type) => {
        const [event] = decide(recordFact({ kind }), stateOf([opened()]), { now: TEST_NOW });
        expect(event.type).toBe(type);
        expect(event.data).toMatchObject({ kind });
      },
    );

    it.each(['2023-06-16', '2023-06', '2023', '2023-05/2023-06', '../2023-05', '2021-04?', '2021~', '2023-XX'])(
      'accepts the EDTF occurredAt %s',
      (occurredAt) => {
        const [event] = decide(recordFact({ occurredAt }), stateOf([opened()]), { now: TEST_NOW });
        expect(event.data).toMatchObject({ occurredAt });
      },
    );

    it('refuses a fact id that is already used as already-exists', () => {
      given(opened(), keyCaptured())
        .when(recordFact({ factId: FACT_ID }))
        .thenRefused('already-exists');
    });

    it('refuses a fact id of a retracted fact as already-exists', () => {
      given(opened(), keyCaptured(), retracted)
        .when(recordFact({ factId: FACT_ID }))
        .thenRefused('already-exists');
    });

    it('refuses a kind outside the vocabulary as invalid kind', () => {
      given(opened())
        .when(recordFact({ kind: unchecked('KeyCaptured') }))
        .thenRefused('invalid', 'kind');
    });

    it.each([
      ['empty', ''],
      ['free text', 'summer 2023'],
      ['month 13', '2023-13'],
      ['30 February', '2023-02-30'],
      ['a level 2 set', '{2023-06,2023-07}'],
      ['a reversed interval', '2023-07/2023-05'],
      ['not a string', 2023],
    ])('refuses a malformed occurredAt (%s) as invalid occurredAt', (_case, occurredAt) => {
      given(opened())
        .when(recordFact({ occurredAt: unchecked(occurredAt) }))
        .thenRefused('invalid', 'occurredAt');
    });

    it.each([
      ['a day after today', '2026-01-16'],
      ['next year', '2027'],
      ['an interval beginning tomorrow', '2026-01-16/2026-02'],
    ])('refuses an occurredAt beginning in the future (%s) as invalid occurredAt', (_case, occurredAt) => {
      given(opened()).when(recordFact({ occurredAt })).thenRefused('invalid', 'occurredAt');
    });

    it.each(['2026', '2026-01', '2025/2027', '2026-01-15', '2026-01-15/..'])(
      'accepts an occurredAt that began by now even if it may end later (%s)',
      (occurredAt) => {
        expect(decide(recordFact({ occurredAt }), stateOf([opened()]), { now: TEST_NOW })).toHaveLength(1);
      },
    );

    it.each([
      ['empty', ''],
      ['longer than 2000 characters', 'x'.repeat(2001)],
    ])('refuses a summary that is %s as invalid summary', (_case, summary) => {
      given(opened()).when(recordFact({ summary })).thenRefused('invalid', 'summary');
    });

    it('refuses a confidence outside the vocabulary as invalid confidence', () => {
      given(opened())
        .when(recordFact({ confidence: unchecked('certain') }))
        .thenRefused('invalid', 'confidence');
    });

    it('refuses more than 50 sources as invalid sources', () => {
      given(opened())
        .when(recordFact({ sources: manySources(51) }))
        .thenRefused('invalid', 'sources');
    });

    it('accepts exactly 50 sources', () => {
      const [event] = decide(recordFact({ sources: manySources(50) }), stateOf([opened()]), { now: TEST_NOW });
      expect((event.data as FactData).sources).toHaveLength(50);
    });

    it('refuses sources that are not an array as invalid sources', () => {
      given(opened())
        .when(recordFact({ sources: unchecked(MSRC_JULY) }))
        .thenRefused('invalid', 'sources');
    });

    it('refuses a source that is not an object as invalid sources[i]', () => {
      given(opened())
        .when(recordFact({ sources: unchecked([MSRC_JULY, 'https://example.org']) }))
        .thenRefused('invalid', 'sources[1]');
    });

    it.each([
      ['not a URL', 'msrc blog post'],
      ['an ftp URL', 'ftp://example.org/report.pdf'],
      ['a javascript URL', 'javascript:alert(1)'],
      ['a relative path', '/blog/2023/07'],
      ['longer than 2048 characters', `https://example.org/${'a'.repeat(2048)}`],
      ['missing', undefined],
    ])('refuses a source URL that is %s as invalid sources[i].url', (_case, url) => {
      given(opened())
        .when(recordFact({ sources: [MSRC_JULY, { url: unchecked(url) }] }))
        .thenRefused('invalid', 'sources[1].url');
    });

    it('accepts an http URL', () => {
      expect(
        decide(recordFact({ sources: [{ url: 'http://example.org/advisory' }] }), stateOf([opened()]), {
          now: TEST_NOW,
        }),
      ).toHaveLength(1);
    });

    it.each([
      ['a date after today', '2026-01-16'],
      ['an instant after now', '2026-01-15T12:00:00.001Z'],
    ])('refuses a source publishedAt in the future (%s) as invalid sources[i].publishedAt', (_case, publishedAt) => {
      given(opened())
        .when(recordFact({ sources: [{ url: MSRC_JULY.url, publishedAt }] }))
        .thenRefused('invalid', 'sources[0].publishedAt');
    });

    it('accepts a source published today, given as a date', () => {
      expect(
        decide(recordFact({ sources: [{ url: MSRC_JULY.url, publishedAt: '2026-01-15' }] }), stateOf([opened()]), {
          now: TEST_NOW,
        }),
      ).toHaveLength(1);
    });

    it.each([
      ['a month', '2023-07'],
      ['an impossible date', '2023-02-30'],
      ['free text', 'July 2023'],
    ])('refuses a source publishedAt that is not a date or instant (%s) as invalid', (_case, publishedAt) => {
      given(opened())
        .when(recordFact({ sources: [{ url: MSRC_JULY.url, publishedAt }] }))
        .thenRefused('invalid', 'sources[0].publishedAt');
    });

    it('refuses an empty source title as invalid sources[i].title', () => {
      given(opened())
        .when(recordFact({ sources: [{ url: MSRC_JULY.url, title: '' }] }))
        .thenRefused('invalid', 'sources[0].title');
    });

    it('refuses an empty source publisher as invalid sources[i].publisher', () => {
      given(opened())
        .when(recordFact({ sources: [{ url: MSRC_JULY.url, publisher: ' ' }] }))
        .thenRefused('invalid', 'sources[0].publisher');
    });

    it('keeps only the known source fields', () => {
      const [event] = decide(
        recordFact({ sources: [unchecked({ ...MSRC_JULY, secret: 'dropped' })] }),
        stateOf([opened()]),
        { now: TEST_NOW },
      );
      expect((event.data as FactData).sources).toEqual([MSRC_JULY]);
    });

    it.each([
      ['a date after today', '2026-01-16'],
      ['an instant after now', '2026-01-15T12:00:01Z'],
    ])('refuses an assertedAt in the future (%s) as invalid assertedAt', (_case, assertedAt) => {
      given(opened()).when(recordFact({ assertedAt })).thenRefused('invalid', 'assertedAt');
    });

    it('refuses an assertedAt that is not a date or instant as invalid assertedAt', () => {
      given(opened())
        .when(recordFact({ assertedAt: '2023-09' }))
        .thenRefused('invalid', 'assertedAt');
    });

    it.each([
      ['more than 50 actors', names(51), 'actors'],
      ['an empty actor', ['Storm-0558', ''], 'actors[1]'],
    ])('refuses %s as invalid', (_case, actors, field) => {
      given(opened()).when(recordFact({ actors })).thenRefused('invalid', field);
    });
  });

  describe('CorrectFact', () => {
    it('records the changed fields with the reason, new sources and assertedAt', () => {
      given(opened(), keyCaptured())
        .when(
          correctFact({
            changes: { confidence: 'disputed', summary: 'Key capture via crash dump is unproven' },
            sources: [{ url: 'https://msrc.microsoft.com/blog/2023/09/update', publishedAt: '2024-03-12' }],
            assertedAt: '2024-03-12',
          }),
        )
        .then([
          {
            type: 'FactCorrected',
            data: {
              factId: FACT_ID,
              changes: { confidence: 'disputed', summary: 'Key capture via crash dump is unproven' },
              sources: [{ url: 'https://msrc.microsoft.com/blog/2023/09/update', publishedAt: '2024-03-12' }],
              assertedAt: '2024-03-12',
              reason: 'Vendor found no crash dump containing the key',
            },
          },
        ]);
    });

    it('records only the fields that differ from the fact as it stands', () => {
      given(opened(), keyCaptured())
        .when(correctFact({ changes: { occurredAt: '2021-04?', confidence: 'disputed', actors: ['Storm-0558'] } }))
        .then([
          {
            type: 'FactCorrected',
            data: {
              factId: FACT_ID,
              changes: { confidence: 'disputed' },
              reason: 'Vendor found no crash dump containing the key',
            },
          },
        ]);
    });

    it('keeps the sources as cited when one of them is new (the fold lists each source once)', () => {
      given(opened(), keyCaptured())
        .when(correctFact({ sources: [MSRC_SEPTEMBER, MSRC_JULY], assertedAt: '2023-10-01' }))
        .then([
          {
            type: 'FactCorrected',
            data: {
              factId: FACT_ID,
              changes: {},
              sources: [MSRC_SEPTEMBER, MSRC_JULY],
              assertedAt: '2023-10-01',
              reason: 'Vendor found no crash dump containing the key',
            },
          },
        ]);
    });

    it('refuses a correction dated (by default) by a source older than the fact as asserted-before-fact', () => {
      given(opened(), keyCaptured())
        .when(correctFact({ sources: [MSRC_JULY] }))
        .thenRefused('asserted-before-fact', 'assertedAt');
    });

    it('a correction that changes nothing records nothing', () => {
      given(opened(), keyCaptured())
        .when(
          correctFact({
            changes: {
              occurredAt: '2021-04?',
              summary: 'Consumer signing key captured from a crash dump',
              confidence: 'likely',
              actors: ['Storm-0558'],
            },
            sources: [MSRC_SEPTEMBER],
            assertedAt: '2024-03-12',
          }),
        )
        .then([]);
    });

    it('compares with the fact as earlier corrections left it', () => {
      given(opened(), keyCaptured(), {
        type: 'FactCorrected',
        data: { factId: FACT_ID, changes: { confidence: 'disputed' }, reason: 'No crash dump found' },
      })
        .when(correctFact({ changes: { confidence: 'disputed' } }))
        .then([]);
    });

    it.each(['constructor', 'toString', '__proto__'])(
      'refuses a correction of %s, a name every object inherits but no fact has, as not-found',
      (factId) => {
        given(opened(), keyCaptured())
          .when(correctFact({ factId, changes: { confidence: 'disputed' } }))
          .thenRefused('not-found', 'factId');
      },
    );

    it('refuses a correction of an unknown fact as not-found', () => {
      given(opened(), keyCaptured())
        .when(correctFact({ factId: OTHER_FACT_ID, changes: { confidence: 'disputed' } }))
        .thenRefused('not-found', 'factId');
    });

    it('refuses a correction of a retracted fact as fact-retracted', () => {
      given(opened(), keyCaptured(), retracted)
        .when(correctFact({ changes: { confidence: 'disputed' } }))
        .thenRefused('fact-retracted', 'factId');
    });

    it('refuses a correction that names no change and no source as invalid body', () => {
      given(opened(), keyCaptured())
        .when(correctFact({ assertedAt: '2024-03-12' }))
        .thenRefused('invalid', 'body');
    });

    it.each([
      ['empty', ''],
      ['longer than 2000 characters', 'x'.repeat(2001)],
    ])('refuses a reason that is %s as invalid reason', (_case, reason) => {
      given(opened(), keyCaptured())
        .when(correctFact({ changes: { confidence: 'disputed' }, reason }))
        .thenRefused('invalid', 'reason');
    });

    it.each<[string, Partial<Extract<IncidentCommand, { type: 'CorrectFact' }>['data']>, string]>([
      ['a malformed occurredAt', { changes: { occurredAt: '2021-04-31' } }, 'occurredAt'],
      ['an occurredAt beginning in the future', { changes: { occurredAt: '2027' } }, 'occurredAt'],
      ['an empty summary', { changes: { summary: '' } }, 'summary'],
      ['an unknown confidence', { changes: { confidence: unchecked('certain') } }, 'confidence'],
      ['an empty actor', { changes: { actors: [''] } }, 'actors[0]'],
      ['more than 50 sources', { sources: manySources(51) }, 'sources'],
      ['a bad source URL', { sources: [{ url: 'not a url' }] }, 'sources[0].url'],
      [
        'a source published in the future',
        { sources: [{ url: MSRC_JULY.url, publishedAt: '2026-02-01' }] },
        'sources[0].publishedAt',
      ],
      ['an assertedAt in the future', { changes: { confidence: 'disputed' }, assertedAt: '2026-01-16' }, 'assertedAt'],
      ['a malformed assertedAt', { changes: { confidence: 'disputed' }, assertedAt: 'March 2024' }, 'assertedAt'],
    ])('refuses %s as invalid', (_case, data, field) => {
      given(opened(), keyCaptured()).when(correctFact(data)).thenRefused('invalid', field);
    });
  });

  describe('RetractFact', () => {
    const retract = (
      data: Partial<Extract<IncidentCommand, { type: 'RetractFact' }>['data']> = {},
    ): IncidentCommand => ({
      type: 'RetractFact',
      data: { factId: FACT_ID, reason: 'Recorded twice', ...data },
    });

    it('retracts a fact with its reason', () => {
      given(opened(), keyCaptured())
        .when(retract())
        .then([{ type: 'FactRetracted', data: { factId: FACT_ID, reason: 'Recorded twice' } }]);
    });

    it('keeps the assertedAt of the retraction', () => {
      given(opened(), keyCaptured())
        .when(retract({ assertedAt: '2024-03-12' }))
        .then([
          { type: 'FactRetracted', data: { factId: FACT_ID, reason: 'Recorded twice', assertedAt: '2024-03-12' } },
        ]);
    });

    it.each(['constructor', 'toString', '__proto__'])(
      'refuses a retraction of %s, a name every object inherits but no fact has, as not-found',
      (factId) => {
        given(opened(), keyCaptured()).when(retract({ factId })).thenRefused('not-found', 'factId');
      },
    );

    it('refuses a retraction of an unknown fact as not-found', () => {
      given(opened(), keyCaptured())
        .when(retract({ factId: OTHER_FACT_ID }))
        .thenRefused('not-found', 'factId');
    });

    it('refuses a second retraction of the same fact as fact-retracted', () => {
      given(opened(), keyCaptured(), retracted).when(retract()).thenRefused('fact-retracted', 'factId');
    });

    it('refuses an empty reason as invalid reason', () => {
      given(opened(), keyCaptured())
        .when(retract({ reason: '' }))
        .thenRefused('invalid', 'reason');
    });

    it.each([
      ['in the future', '2026-01-16'],
      ['malformed', '2024-13-01'],
    ])('refuses an assertedAt %s as invalid assertedAt', (_case, assertedAt) => {
      given(opened(), keyCaptured()).when(retract({ assertedAt })).thenRefused('invalid', 'assertedAt');
    });
  });

  describe('ChangeStatus', () => {
    const change = (
      status: IncidentStatus,
      extra: { effectiveAt?: string; reason?: string } = {},
    ): IncidentCommand => ({
      type: 'ChangeStatus',
      data: { status, ...extra },
    });

    // Written out from SPEC §2 rather than derived from STATUS_TRANSITIONS, so a wrong table cannot pass.
    const TRANSITIONS: [IncidentStatus, IncidentStatus, boolean][] = [
      ['detected', 'detected', false],
      ['detected', 'investigating', true],
      ['detected', 'contained', true],
      ['detected', 'resolved', true],
      ['investigating', 'detected', false],
      ['investigating', 'investigating', false],
      ['investigating', 'contained', true],
      ['investigating', 'resolved', true],
      ['contained', 'detected', false],
      ['contained', 'investigating', true],
      ['contained', 'contained', false],
      ['contained', 'resolved', true],
      ['resolved', 'detected', false],
      ['resolved', 'investigating', true],
      ['resolved', 'contained', false],
      ['resolved', 'resolved', false],
    ];
    const ALLOWED: Record<IncidentStatus, IncidentStatus[]> = {
      detected: ['investigating', 'contained', 'resolved'],
      investigating: ['contained', 'resolved'],
      contained: ['investigating', 'resolved'],
      resolved: ['investigating'],
    };

    it.each(TRANSITIONS.filter(([, , legal]) => legal))('allows the change from %s to %s', (from, to) => {
      given(opened({ status: from }))
        .when(change(to))
        .then([{ type: 'IncidentStatusChanged', data: { from, to, effectiveAt: TEST_NOW } }]);
    });

    it.each(TRANSITIONS.filter(([, , legal]) => !legal))(
      'refuses the change from %s to %s as illegal-transition, naming the allowed targets',
      (from, to) => {
        const error = refusalOf([opened({ status: from })], change(to));
        expect(error.code).toBe('illegal-transition');
        expect(error.details).toMatchObject({ from, to, allowed: ALLOWED[from], after: null });
      },
    );

    it('checks the transition against the status as earlier changes left it', () => {
      const history = [
        opened(),
        statusChanged('detected', 'resolved', '2023-09-06T00:00:00.000Z'),
        statusChanged('resolved', 'investigating', '2024-03-12T00:00:00.000Z'),
      ];
      given(...history)
        .when(change('contained'))
        .then([
          { type: 'IncidentStatusChanged', data: { from: 'investigating', to: 'contained', effectiveAt: TEST_NOW } },
        ]);
      expect(refusalOf(history, change('investigating')).code).toBe('illegal-transition');
    });

    it('keeps the reason and normalises effectiveAt', () => {
      given(opened())
        .when(change('contained', { effectiveAt: '2023-07-11T12:00:00-04:00', reason: 'Key revoked' }))
        .then([
          {
            type: 'IncidentStatusChanged',
            data: { from: 'detected', to: 'contained', effectiveAt: '2023-07-11T16:00:00.000Z', reason: 'Key revoked' },
          },
        ]);
    });

    it('refuses a status outside the vocabulary as invalid status', () => {
      given(opened())
        .when(change(unchecked('closed')))
        .thenRefused('invalid', 'status');
    });

    it.each([
      ['an instant without offset', '2023-07-11T12:00:00'],
      ['free text', 'last week'],
      ['year 10000 through an offset', '9999-12-31T23:59:59-23:59'],
    ])(
      'refuses an effectiveAt that is not a date or RFC 3339 instant (%s) as invalid effectiveAt',
      (_case, effectiveAt) => {
        given(opened()).when(change('investigating', { effectiveAt })).thenRefused('invalid', 'effectiveAt');
      },
    );

    it('accepts a calendar date as effectiveAt, as its first instant (UTC)', () => {
      given(opened())
        .when(change('investigating', { effectiveAt: '2023-07-11' }))
        .then([
          {
            type: 'IncidentStatusChanged',
            data: { from: 'detected', to: 'investigating', effectiveAt: '2023-07-11T00:00:00.000Z' },
          },
        ]);
    });

    it('refuses an effectiveAt in the future as invalid effectiveAt', () => {
      given(opened())
        .when(change('investigating', { effectiveAt: '2026-01-15T12:00:00.001Z' }))
        .thenRefused('invalid', 'effectiveAt');
    });

    it('refuses an effectiveAt before the first status took effect as status-order, naming it', () => {
      const history = [opened({ effectiveAt: '2023-06-16T00:00:00.000Z' })];
      const command = change('investigating', { effectiveAt: '2023-06-15T23:59:59.999Z' });
      given(...history)
        .when(command)
        .thenRefused('status-order', 'effectiveAt');
      expect(refusalOf(history, command).details).toEqual({
        before: null,
        after: { status: 'detected', effectiveAt: '2023-06-16T00:00:00.000Z' },
      });
    });

    it('compares effectiveAt as an instant, whatever offset it is written with', () => {
      given(opened({ effectiveAt: '2023-06-16T00:00:00.000Z' }))
        .when(change('investigating', { effectiveAt: '2023-06-16T01:00:00+02:00' }))
        .thenRefused('status-order', 'effectiveAt');
    });

    it('inserts a change between two periods when both transitions around it are allowed', () => {
      given(opened(), statusChanged('detected', 'investigating', '2023-07-11T00:00:00.000Z'))
        .when(change('contained', { effectiveAt: '2023-07-01T00:00:00Z' }))
        .then([
          {
            type: 'IncidentStatusChanged',
            data: { from: 'detected', to: 'contained', effectiveAt: '2023-07-01T00:00:00.000Z' },
          },
        ]);
    });

    it('a change learned later ("investigating again from 2023-09-06") takes its place in valid time', () => {
      const history = [
        opened(),
        statusChanged('detected', 'contained', '2023-07-11T00:00:00.000Z'),
        statusChanged('contained', 'resolved', '2024-04-02T00:00:00.000Z'),
        {
          type: 'IncidentStatusChanged',
          data: { from: 'contained', to: 'investigating', effectiveAt: '2023-09-06T00:00:00.000Z' },
        } as IncidentEvent,
      ];
      const state = stateOf(history)!;
      expect(state.statusHistory.map((period) => [period.from, period.to, period.effectiveAt.slice(0, 10)])).toEqual([
        [null, 'detected', '2023-06-16'],
        ['detected', 'contained', '2023-07-11'],
        ['contained', 'investigating', '2023-09-06'],
        ['investigating', 'resolved', '2024-04-02'],
      ]);
      expect(state.status).toBe('resolved');
    });

    it('refuses an insertion whose way out is not allowed, naming both neighbours', () => {
      const history = [opened(), statusChanged('detected', 'resolved', '2024-04-02T00:00:00.000Z')];
      const command = change('investigating', { effectiveAt: '2023-09-06' });
      // detected -> investigating is allowed, investigating -> resolved is allowed: accepted.
      expect(decide(command, stateOf(history), { now: TEST_NOW })).toHaveLength(1);
      const refused = change('resolved', { effectiveAt: '2023-09-06' });
      const error = refusalOf([...history], refused);
      expect(error.code).toBe('illegal-transition');
      expect(error.details).toMatchObject({
        before: { status: 'detected', effectiveAt: '2023-06-16T00:00:00.000Z' },
        after: { status: 'resolved', effectiveAt: '2024-04-02T00:00:00.000Z' },
      });
    });

    it('allows a change effective at the same instant as the current status', () => {
      given(opened({ effectiveAt: '2023-06-16T00:00:00.000Z' }))
        .when(change('investigating', { effectiveAt: '2023-06-16T00:00:00Z' }))
        .then([
          {
            type: 'IncidentStatusChanged',
            data: { from: 'detected', to: 'investigating', effectiveAt: '2023-06-16T00:00:00.000Z' },
          },
        ]);
    });

    it('refuses an empty reason as invalid reason', () => {
      given(opened())
        .when(change('investigating', { reason: '' }))
        .thenRefused('invalid', 'reason');
    });
  });

  describe('AssessImpact', () => {
    const assess = (data: Extract<IncidentCommand, { type: 'AssessImpact' }>['data']): IncidentCommand => ({
      type: 'AssessImpact',
      data,
    });

    it('records the assessed impact', () => {
      given(opened())
        .when(assess({ lossUsd: 1250.5, records: 60000, organisations: 25 }))
        .then([{ type: 'ImpactAssessed', data: { lossUsd: 1250.5, records: 60000, organisations: 25 } }]);
    });

    it('accepts zero', () => {
      given(opened())
        .when(assess({ lossUsd: 0 }))
        .then([{ type: 'ImpactAssessed', data: { lossUsd: 0 } }]);
    });

    it('an assessment equal to the current one records nothing', () => {
      given(opened(), { type: 'ImpactAssessed', data: { records: 60000, organisations: 25 } })
        .when(assess({ organisations: 25 }))
        .then([]);
    });

    it('an assessment that changes one field records every field it names', () => {
      given(opened(), { type: 'ImpactAssessed', data: { records: 60000, organisations: 25 } })
        .when(assess({ records: 60000, organisations: 26 }))
        .then([{ type: 'ImpactAssessed', data: { records: 60000, organisations: 26 } }]);
    });

    it('refuses an assessment that names no field as invalid body', () => {
      given(opened()).when(assess({})).thenRefused('invalid', 'body');
    });

    it.each<[string, Extract<IncidentCommand, { type: 'AssessImpact' }>['data'], string]>([
      ['a negative loss', { lossUsd: -1 }, 'lossUsd'],
      ['a NaN loss', { lossUsd: Number.NaN }, 'lossUsd'],
      ['an infinite loss', { lossUsd: Number.POSITIVE_INFINITY }, 'lossUsd'],
      ['a loss given as text', { lossUsd: unchecked('1000') }, 'lossUsd'],
      ['a fractional record count', { records: 1.5 }, 'records'],
      ['a negative record count', { records: -1 }, 'records'],
      ['a record count beyond safe integers', { records: 2 ** 53 }, 'records'],
      ['a fractional organisation count', { organisations: 25.5 }, 'organisations'],
      ['a negative organisation count', { organisations: -25 }, 'organisations'],
    ])('refuses %s as invalid', (_case, data, field) => {
      given(opened()).when(assess(data)).thenRefused('invalid', field);
    });
  });

  describe('LinkIncident', () => {
    const link = (incidentId: string, relation = 'same-actor'): IncidentCommand => ({
      type: 'LinkIncident',
      data: { incidentId, relation: unchecked(relation) },
    });
    const linked = (incidentId: string, relation: 'related' | 'same-actor' = 'same-actor'): IncidentEvent => ({
      type: 'IncidentLinked',
      data: { incidentId, relation },
    });

    it('links another incident with a relation', () => {
      given(opened())
        .when(link('midnight-blizzard', 'related'))
        .then([{ type: 'IncidentLinked', data: { incidentId: 'midnight-blizzard', relation: 'related' } }]);
    });

    it('allows a second link to the same incident under another relation', () => {
      given(opened(), linked('midnight-blizzard', 'related'))
        .when(link('midnight-blizzard', 'same-actor'))
        .then([{ type: 'IncidentLinked', data: { incidentId: 'midnight-blizzard', relation: 'same-actor' } }]);
    });

    it('refuses a link to the incident itself as invalid incidentId', () => {
      given(opened()).when(link(ID)).thenRefused('invalid', 'incidentId');
    });

    it('refuses the same link twice as duplicate-link', () => {
      given(opened(), linked('midnight-blizzard')).when(link('midnight-blizzard')).thenRefused('duplicate-link');
    });

    it('refuses an incidentId that is not a slug as invalid incidentId', () => {
      given(opened()).when(link('Midnight Blizzard')).thenRefused('invalid', 'incidentId');
    });

    it('refuses a relation outside the vocabulary as invalid relation', () => {
      given(opened()).when(link('midnight-blizzard', 'caused-by')).thenRefused('invalid', 'relation');
    });

    it('refuses a link beyond 500 per incident as invalid incidentId', () => {
      const links = Array.from({ length: 500 }, (_, index) => linked(`incident-${index}`));
      given(opened(), ...links)
        .when(link('midnight-blizzard'))
        .thenRefused('invalid', 'incidentId');
    });
  });
});
