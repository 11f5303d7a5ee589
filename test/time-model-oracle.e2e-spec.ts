import fc from 'fast-check';
import { ApiClient, startTestApp, type TestApp } from '@app/testing';
import {
  EDTF_TABLE,
  modelView,
  type HistoryEvent,
  type ModelFact,
  type ModelIncident,
  type ModelPointInTime,
  type ModelSource,
} from './support/reference-model';

/**
 * The service's views against a reference model written apart from the domain: random command sequences (backfilled
 * claims, corrections asserted before and after others, errata, retractions, status changes inserted in valid time,
 * impact assessments, links) are sent over HTTP; each incident's stored history is fed to the model; then the live,
 * asOf, knownAt and validAt views must give the same answers in both. A bug in the service's fold cannot hide here
 * behind a test that reuses it. ORACLE_RUNS sets the number of runs (5 or more: the test also requires every kind of
 * command to have been accepted at least once); ORACLE_SEED picks another seed.
 */

const RUNS = Number(process.env.ORACLE_RUNS ?? 20);
const SEED = Number(process.env.ORACLE_SEED ?? 20230711);
if (!Number.isInteger(RUNS) || RUNS < 1 || !Number.isInteger(SEED)) {
  throw new Error('ORACLE_RUNS must be a positive integer and ORACLE_SEED an integer');
}
const MAX_COMMANDS = 25;

// Fixed pools: dates as written by people (a date, an instant in UTC, the same instant with an offset).
const ASSERTED_AT = [
  '2023-05-20',
  '2023-06-16',
  '2023-07-11',
  '2023-07-11T10:00:00Z',
  '2023-07-11T12:00:00+02:00',
  '2023-09-06',
  '2024-03-12',
  '2024-03-12T23:59:59.999Z',
];
const EFFECTIVE_AT = [
  '2023-05-01',
  '2023-06-16',
  '2023-06-16T12:00:00Z',
  '2023-07-11',
  '2023-09-06',
  '2024-01-15T08:00:00+01:00',
];
const SOURCES: ModelSource[] = [
  { url: 'https://news.example/a', title: 'A', publishedAt: '2023-06-16' },
  { url: 'https://news.example/b', publisher: 'B', publishedAt: '2023-07-11T09:30:00Z' },
  { url: 'https://news.example/c', publishedAt: '2024-03-12T00:00:00+01:00' },
  { url: 'https://news.example/d' },
  { url: 'https://news.example/e', title: 'E', publisher: 'E', publishedAt: '2023-09-06' },
];
const KNOWN_AT = [
  '2023-05-19',
  '2023-05-20',
  '2023-06-16',
  '2023-07-11T09:59:59.999Z',
  '2023-07-11T10:00:00Z',
  '2023-07-11',
  '2023-09-05',
  '2024-03-11T22:59:59.999Z',
  '2024-03-12',
  // Exactly when a source was published.
  '2023-07-11T09:30:00Z',
  '2024-03-12T00:00:00+01:00',
];
const VALID_AT = [
  '2019-06-01',
  '2021-04-15',
  '2021-05-31',
  '2022-06-01',
  '2022-12-26',
  '2023-05-15T00:00:00Z',
  '2023-06-16',
  '2023-06-16T11:59:59.999Z',
  '2024-01-01',
  '2024-02-29',
  // Exactly when a status took effect, or an interval starts.
  '2023-05-01T00:00:00Z',
  '2023-06-16T12:00:00Z',
  '2024-01-15T07:00:00Z',
  '2021-03-01T00:00:00Z',
  '2022-01-01T00:00:00.000Z',
  '2023-06-01T00:00:00Z',
];
const OCCURRED_AT = Object.keys(EDTF_TABLE);
const STATUSES = ['detected', 'investigating', 'contained', 'resolved'];
const CATEGORIES = ['espionage', 'supply-chain', 'ransomware', 'other'];
const CONFIDENCES = ['confirmed', 'likely', 'possible', 'disputed'];
const RELATIONS = ['related', 'same-actor', 'same-campaign', 'follow-up'];
const NAMES = ['Storm-0558', 'APT29', 'US State Department', 'Microsoft'];
const TECHNIQUES = ['T1606.002', 'T1078', 'T1552'];
const FACT_KINDS = ['key-capture', 'token-forgery', 'detection', 'disclosure', 'other'];
const INCIDENTS = 2;

const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined, freq: 3 });
const names = fc.subarray(NAMES, { maxLength: 2 });
const claim = fc.record(
  {
    assertedAt: maybe(fc.constantFrom(...ASSERTED_AT)),
    sources: maybe(fc.subarray(SOURCES, { minLength: 1, maxLength: 2 })),
  },
  { requiredKeys: [] },
);
const nonEmpty = <T extends object>(arbitrary: fc.Arbitrary<T>) =>
  arbitrary.filter((value) => Object.values(value).some((field) => field !== undefined));

const detailChanges = nonEmpty(
  fc.record(
    {
      title: fc.constantFrom('Title one', 'Title two', 'Title three'),
      category: fc.constantFrom(...CATEGORIES),
      summary: fc.constantFrom('', 'Summary one', 'Summary two'),
      victims: names,
      threatActors: names,
    },
    { requiredKeys: [] },
  ),
);
const factChanges = nonEmpty(
  fc.record(
    {
      occurredAt: fc.constantFrom(...OCCURRED_AT),
      summary: fc.constantFrom('Changed one', 'Changed two'),
      confidence: fc.constantFrom(...CONFIDENCES),
      actors: names,
      techniques: fc.subarray(TECHNIQUES, { maxLength: 2 }),
    },
    { requiredKeys: [] },
  ),
);
const impactFields = nonEmpty(
  fc.record(
    {
      lossUsd: fc.constantFrom(0, 1500.5, 2_000_000),
      records: fc.constantFrom(0, 10, 60_000),
      organisations: fc.constantFrom(1, 22, 25),
    },
    { requiredKeys: [] },
  ),
);

const incident = fc.nat({ max: INCIDENTS - 1 });
const factRef = fc.nat({ max: 7 });

const opening = fc.record({
  title: fc.constantFrom('Opened one', 'Opened two'),
  category: fc.constantFrom(...CATEGORIES),
  summary: maybe(fc.constantFrom('Opening summary')),
  victims: maybe(names),
  threatActors: maybe(names),
  status: maybe(fc.constantFrom(...STATUSES)),
  effectiveAt: maybe(fc.constantFrom(...EFFECTIVE_AT)),
  claim,
});

const command = fc.oneof(
  fc.record({ op: fc.constant('revise' as const), incident, changes: detailChanges, claim }),
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('fact' as const),
      incident,
      kind: fc.constantFrom(...FACT_KINDS),
      occurredAt: fc.constantFrom(...OCCURRED_AT),
      summary: fc.constantFrom('Fact one', 'Fact two'),
      confidence: maybe(fc.constantFrom(...CONFIDENCES)),
      actors: maybe(names),
      techniques: maybe(fc.subarray(TECHNIQUES, { maxLength: 2 })),
      claim,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('correct' as const), incident, fact: factRef, changes: factChanges, claim }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('erratum' as const), incident, fact: factRef, changes: factChanges, claim }),
  },
  fc.record({
    op: fc.constant('retract' as const),
    incident,
    fact: factRef,
    assertedAt: maybe(fc.constantFrom(...ASSERTED_AT)),
  }),
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('status' as const),
      incident,
      status: fc.constantFrom(...STATUSES),
      effectiveAt: maybe(fc.constantFrom(...EFFECTIVE_AT)),
      claim,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('impact' as const), incident, fields: impactFields, claim }) },
  fc.record({ op: fc.constant('link' as const), incident, relation: fc.constantFrom(...RELATIONS), claim }),
);
type Opening = typeof opening extends fc.Arbitrary<infer O> ? O : never;
type Command = typeof command extends fc.Arbitrary<infer C> ? C : never;

/** A point in time to ask about: a fixed value, or the recorded time of the run's k-th event (minus 1 ms). */
const recordedPoint = fc.record({ index: fc.nat(), before: fc.boolean() });
const knownAtPoint = fc.oneof(fc.constantFrom(...KNOWN_AT), recordedPoint);
const point = fc.record(
  {
    asOf: maybe(recordedPoint),
    knownAt: maybe(knownAtPoint),
    validAt: maybe(fc.constantFrom(...VALID_AT)),
  },
  { requiredKeys: [] },
);
type PointSpec = typeof point extends fc.Arbitrary<infer P> ? P : never;

const scenario = fc.record({
  openings: fc.array(opening, { minLength: INCIDENTS, maxLength: INCIDENTS }),
  commands: fc.array(command, { minLength: 4, maxLength: MAX_COMMANDS, size: 'max' }),
  points: fc.array(point, { minLength: 3, maxLength: 6 }),
});

const defined = (object: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));

/** The meaningful parts of the service's views, shaped like the model's. */
function factOf(fact: Record<string, any>, withSettled: boolean): ModelFact {
  return {
    factId: fact.factId,
    kind: fact.kind,
    occurredAt: fact.occurredAt,
    occurredInterval: fact.occurredInterval,
    approximate: fact.approximate,
    uncertain: fact.uncertain,
    summary: fact.summary,
    confidence: fact.confidence,
    actors: fact.actors,
    techniques: fact.techniques,
    sources: (fact.sources as ModelSource[]).map((source) => defined({ ...source }) as unknown as ModelSource),
    assertedAt: fact.assertedAt,
    retracted: fact.retracted,
    ...(withSettled && { settled: fact.settled }),
  };
}

function incidentOf(view: Record<string, any>, withSettled: boolean) {
  return {
    assertedAt: view.assertedAt,
    title: view.title,
    category: view.category,
    summary: view.summary,
    victims: view.victims,
    threatActors: view.threatActors,
    status: view.status,
    statusEffectiveAt: view.statusEffectiveAt,
    impact: view.impact,
    links: (view.links as { incidentId: string; relation: string }[]).map(({ incidentId, relation }) => ({
      incidentId,
      relation,
    })),
    timeline: (view.timeline as Record<string, any>[]).map((fact) => factOf(fact, withSettled)),
  };
}

function expectedIncident(model: ModelIncident) {
  const { statusHistory: _statusHistory, timeline, ...rest } = model;
  return { ...rest, timeline: timeline.filter((fact) => !fact.retracted) };
}

function queryOf(at: ModelPointInTime, minPosition: number, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({
    ...(defined({ ...at }) as Record<string, string>),
    ...extra,
    minPosition: String(minPosition),
  });
  return `?${params.toString()}`;
}

describe('time model oracle: the service agrees with a reference model written apart from the domain (e2e)', () => {
  let app: TestApp;
  let api: ApiClient;
  let run = 0;
  /** Commands the service accepted, by kind, over all runs: the property must not pass on refusals alone. */
  const accepted = new Map<string, number>();
  /** Views compared, by answer: some incidents must exist and some not at the instants asked. */
  const answers = { found: 0, notFound: 0, facts: 0, retracted: 0 };

  beforeAll(async () => {
    app = await startTestApp();
    api = new ApiClient(app.baseUrl, app.adminToken);
  });

  afterAll(async () => {
    await app.close();
  });

  /** Sends the scenario; answers the incident ids opened and the last position written. */
  async function send(openings: Opening[], commands: Command[]) {
    run += 1;
    const ids = Array.from({ length: INCIDENTS }, (_, index) => `oracle-${run}-${index}`);
    const facts: string[][] = ids.map(() => []);
    let position = 0;
    const expectWritten = (label: string, response: { status: number; body: any }) => {
      if (response.status >= 500 || response.status === 400 || response.status === 404) {
        throw new Error(`${label} answered ${response.status}: ${JSON.stringify(response.body)}`);
      }
      if (response.status >= 300) return false;
      position = Math.max(position, response.body.position);
      accepted.set(label, (accepted.get(label) ?? 0) + 1);
      return true;
    };
    for (const [index, open] of openings.entries()) {
      const { claim: openClaim, ...fields } = open;
      const response = await api.post('/v1/incidents', defined({ id: ids[index], ...fields, ...openClaim }));
      if (response.status !== 201)
        throw new Error(`opening answered ${response.status}: ${JSON.stringify(response.body)}`);
      position = Math.max(position, response.body.position);
    }
    for (const step of commands) {
      const id = ids[step.incident];
      const base = `/v1/incidents/${id}`;
      switch (step.op) {
        case 'revise':
          expectWritten(
            'revise',
            await api.patch(base, defined({ ...step.changes, ...step.claim, reason: 'revised' })),
          );
          break;
        case 'fact': {
          const { op: _op, incident: _incident, claim: factClaim, ...body } = step;
          const response = await api.post(`${base}/facts`, defined({ ...body, ...factClaim }));
          if (expectWritten('fact', response)) facts[step.incident].push(response.body.factId);
          break;
        }
        case 'correct':
        case 'erratum': {
          const known = facts[step.incident];
          if (known.length === 0) break;
          const factId = known[step.fact % known.length];
          const body = defined({
            ...defined(step.changes),
            ...step.claim,
            reason: step.op,
            ...(step.op === 'erratum' && { erratum: true }),
          });
          expectWritten(step.op, await api.patch(`${base}/facts/${factId}`, body));
          break;
        }
        case 'retract': {
          const known = facts[step.incident];
          if (known.length === 0) break;
          const factId = known[step.fact % known.length];
          expectWritten(
            'retract',
            await api.post(
              `${base}/facts/${factId}/retraction`,
              defined({ reason: 'retracted', assertedAt: step.assertedAt }),
            ),
          );
          break;
        }
        case 'status':
          expectWritten(
            'status',
            await api.post(
              `${base}/status`,
              defined({ status: step.status, effectiveAt: step.effectiveAt, ...step.claim }),
            ),
          );
          break;
        case 'impact':
          expectWritten('impact', await api.put(`${base}/impact`, defined({ ...defined(step.fields), ...step.claim })));
          break;
        case 'link':
          expectWritten(
            'link',
            await api.post(
              `${base}/links`,
              defined({ incidentId: ids[(step.incident + 1) % INCIDENTS], relation: step.relation, ...step.claim }),
            ),
          );
          break;
      }
    }
    return { ids, position };
  }

  async function historyOf(id: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let after: number | undefined;
    for (;;) {
      const page = await api.get(
        `/v1/incidents/${id}/history?limit=100${after === undefined ? '' : `&after=${after}`}`,
      );
      if (page.status !== 200) throw new Error(`history of ${id} answered ${page.status}`);
      events.push(...page.body.items);
      if (page.body.next === null || page.body.next === undefined) return events;
      after = page.body.next;
    }
  }

  async function listed(at: ModelPointInTime, minPosition: number, ids: string[]) {
    const found: Record<string, unknown> = {};
    let cursor: string | undefined;
    for (;;) {
      const page = await api.get(
        `/v1/incidents${queryOf(at, minPosition, { limit: '200', ...(cursor && { cursor }) })}`,
      );
      if (page.status !== 200) throw new Error(`list answered ${page.status}: ${JSON.stringify(page.body)}`);
      for (const item of page.body.items) {
        if (ids.includes(item.id)) found[item.id] = { title: item.title, category: item.category, status: item.status };
      }
      if (page.body.next === null) return found;
      cursor = page.body.next;
    }
  }

  function resolve(spec: PointSpec, recorded: string[]): ModelPointInTime {
    const instant = (value: string | { index: number; before: boolean }) => {
      if (typeof value === 'string') return value;
      const at = Date.parse(recorded[value.index % recorded.length]);
      return new Date(value.before ? at - 1 : at).toISOString();
    };
    return defined({
      asOf: spec.asOf && instant(spec.asOf),
      knownAt: spec.knownAt && instant(spec.knownAt),
      validAt: spec.validAt,
    }) as ModelPointInTime;
  }

  /**
   * Compares one point in time for every incident of the run, and the list of incidents (which folds the whole log,
   * so it is asked less often); a mismatch names the request.
   */
  async function compare(
    at: ModelPointInTime,
    histories: Map<string, HistoryEvent[]>,
    minPosition: number,
    list = true,
  ) {
    const withSettled = at.validAt !== undefined;
    const expectedList: Record<string, unknown> = {};
    for (const [id, history] of histories) {
      const model = modelView(history, at);
      // The list shows an incident at validAt only while a status is in effect (the record itself answers with null).
      if (model !== null && model.status !== null) {
        expectedList[id] = { title: model.title, category: model.category, status: model.status };
      }

      const record = await api.get(`/v1/incidents/${id}${queryOf(at, minPosition)}`);
      const timeline = await api.get(
        `/v1/incidents/${id}/timeline${queryOf(at, minPosition, { includeRetracted: 'true' })}`,
      );
      const statusHistory = await api.get(`/v1/incidents/${id}/status-history${queryOf(at, minPosition)}`);
      const context = `${id} at ${JSON.stringify(at)}`;
      if (model === null) answers.notFound += 1;
      else {
        answers.found += 1;
        answers.facts += model.timeline.length;
        answers.retracted += model.timeline.filter((fact) => fact.retracted).length;
      }
      if (model === null) {
        expect({
          context,
          record: record.status,
          timeline: timeline.status,
          statusHistory: statusHistory.status,
        }).toEqual({
          context,
          record: 404,
          timeline: 404,
          statusHistory: 404,
        });
        continue;
      }
      expect({ context, status: record.status }).toEqual({ context, status: 200 });
      expect({ context, record: incidentOf(record.body, withSettled) }).toEqual({
        context,
        record: expectedIncident(model),
      });
      expect({
        context,
        timeline:
          timeline.status === 200 ? timeline.body.items.map((fact: any) => factOf(fact, withSettled)) : timeline.status,
      }).toEqual({
        context,
        timeline: model.timeline,
      });
      expect({
        context,
        statusHistory:
          statusHistory.status === 200
            ? statusHistory.body.items.map(({ from, to, effectiveAt }: any) => ({ from, to, effectiveAt }))
            : statusHistory.status,
      }).toEqual({ context, statusHistory: model.statusHistory });
    }
    if (!list) return;
    const ids = [...histories.keys()];
    expect({ at, list: await listed(at, minPosition, ids) }).toEqual({ at, list: expectedList });
  }

  it(`agrees on live, asOf, knownAt and validAt views for random command sequences (seed ${SEED}, ${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ openings, commands, points }) => {
        const { ids, position } = await send(openings, commands);
        const histories = new Map<string, HistoryEvent[]>();
        for (const id of ids) histories.set(id, await historyOf(id));
        const recorded = [...histories.values()]
          .flat()
          .sort((a, b) => a.position - b.position)
          .map((event) => event.recordedAt);
        await compare({}, histories, position);
        // Every fixed instant on each axis alone (they sit on the boundaries the generator writes), then combinations.
        for (const knownAt of KNOWN_AT) await compare({ knownAt }, histories, position, false);
        for (const validAt of VALID_AT) await compare({ validAt }, histories, position, false);
        for (const spec of points) await compare(resolve(spec, recorded), histories, position);
      }),
      // Shrinking replays whole scenarios over HTTP; ORACLE_SHRINK=1 asks for it when a failure needs minimising.
      { seed: SEED, numRuns: RUNS, endOnFailure: process.env.ORACLE_SHRINK !== '1' },
    );
    for (const kind of ['revise', 'fact', 'correct', 'erratum', 'retract', 'status', 'impact', 'link']) {
      expect({ kind, accepted: (accepted.get(kind) ?? 0) > 0 }).toEqual({ kind, accepted: true });
    }
    expect(answers.found).toBeGreaterThan(0);
    expect(answers.notFound).toBeGreaterThan(0);
    expect(answers.facts).toBeGreaterThan(0);
    expect(answers.retracted).toBeGreaterThan(0);
  }, 600_000);
});
