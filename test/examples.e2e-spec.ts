import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { IncidentImporter, parseIncidentFile, type ImportReport, type IncidentFile } from '@app/incidents';
import { ApiClient, startTestApp, type TestApp } from '@app/testing';

const EXAMPLES = join(__dirname, '..', 'examples', 'incidents');
/** The example files as they were before every claim carried its public date (the first published version). */
const BEFORE_TIME_MODEL = join(__dirname, 'fixtures', 'examples-before-time-model');

function filesIn(dir: string): IncidentFile[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => parseIncidentFile(name, readFileSync(join(dir, name), 'utf8')));
}

const exampleFiles = () => filesIn(EXAMPLES);

interface FactRow {
  factId: string;
  kind: string;
  occurredAt: string;
  summary: string;
  confidence: string;
}

/** A store of its own, with the importer and an API client on it. */
class Store {
  private constructor(
    readonly app: TestApp,
    readonly api: ApiClient,
    private readonly importer: IncidentImporter,
  ) {}

  static async start(): Promise<Store> {
    const app = await startTestApp();
    // One store sits idle while another imports, for longer than Node's default keep-alive of 5 s under load; a longer
    // server keep-alive keeps the client from reusing a connection the server is closing at that moment.
    (app.app.getHttpServer() as Server).keepAliveTimeout = 120_000;
    return new Store(app, new ApiClient(app.baseUrl, app.adminToken), app.app.get(IncidentImporter));
  }

  async importAll(files: IncidentFile[]): Promise<ImportReport[]> {
    const reports = [];
    for (const file of files) reports.push(await this.importer.importRecord(file));
    for (const [index, file] of files.entries()) await this.importer.importLinks(file, reports[index]);
    return reports;
  }

  async head(): Promise<number> {
    return Number(await this.app.app.get<EventStore>(EVENT_STORE).headPosition());
  }

  async eventsAfter(position: number): Promise<{ type: string; streamId: string }[]> {
    const events = await this.app.app.get<EventStore>(EVENT_STORE).readAll({ after: BigInt(position), limit: 100_000 });
    return events.map((event) => ({ type: event.type, streamId: event.streamId }));
  }

  /** The timeline as known at `knownAt` (the live read model, caught up, without it). */
  async timeline(id: string, knownAt?: string): Promise<{ status: number; rows: FactRow[] }> {
    const query = knownAt === undefined ? `minPosition=${await this.head()}` : `knownAt=${knownAt}`;
    const response = await this.api.get(`/v1/incidents/${id}/timeline?${query}`);
    expect([200, 404]).toContain(response.status);
    const rows = response.status === 200 ? (response.body.items as FactRow[]) : [];
    return {
      status: response.status,
      rows: rows
        .map(({ factId, kind, occurredAt, summary, confidence }) => ({ factId, kind, occurredAt, summary, confidence }))
        .sort((a, b) => a.factId.localeCompare(b.factId)),
    };
  }
}

const IDS = ['dnc-2016', 'salt-typhoon', 'solarwinds-sunburst', 'storm-0558'];
/** Dates along the four incidents' public record, from the DNC disclosure to the SEC case's end. */
const KNOWN_AT = [
  '2016-06-15',
  '2017-01-31',
  '2018-08-01',
  '2020-12-20',
  '2021-05-01',
  '2023-07-13',
  '2023-10-01',
  '2024-03-31',
  '2024-06-01',
  '2024-10-10',
  '2024-12-31',
  '2025-09-01',
  '2026-01-01',
];

describe('example incidents (e2e)', () => {
  let store: Store;
  let api: ApiClient;
  let firstImport: ImportReport[];

  beforeAll(async () => {
    store = await Store.start();
    api = store.api;
    firstImport = await store.importAll(exampleFiles());
  });

  afterAll(async () => {
    await store.app.close();
  });

  it('imports the four example incidents, with their links, and nothing refused or left over', async () => {
    expect(firstImport.flatMap((report) => report.errors)).toEqual([]);
    expect(firstImport.flatMap((report) => report.warnings)).toEqual([]);
    const list = await api.get(`/v1/incidents?minPosition=${await store.head()}`);
    expect(list.body.items.map((item: { id: string }) => item.id).sort()).toEqual(IDS);
    const storm = await api.get(`/v1/incidents/storm-0558?minPosition=${await store.head()}`);
    expect(storm.body.links).toEqual([expect.objectContaining({ incidentId: 'salt-typhoon', relation: 'related' })]);
    expect(storm.body.status).toBe('resolved');
    const solarwinds = await api.get('/v1/incidents/solarwinds-sunburst');
    expect(solarwinds.body.links).toEqual([
      expect.objectContaining({ incidentId: 'dnc-2016', relation: 'same-actor' }),
    ]);
  });

  it('every claim in the files carries the date it became public', () => {
    const undated: string[] = [];
    const dated = (claim: { assertedAt?: string }, where: string) => {
      if (claim.assertedAt === undefined) undated.push(where);
    };
    for (const file of exampleFiles()) {
      dated(file, file.id);
      file.revisions?.forEach((revision) => dated(revision, `${file.id} revision ${revision.key}`));
      file.impactAssessments?.forEach((entry) => dated(entry, `${file.id} impact ${entry.key}`));
      file.statusChanges?.forEach((change) => dated(change, `${file.id} status ${change.key}`));
      file.links?.forEach((link) => dated(link, `${file.id} link ${link.incidentId}`));
      for (const fact of file.facts ?? []) {
        dated(fact, `${file.id} fact ${fact.key}`);
        fact.corrections?.forEach((correction) => dated(correction, `${file.id} ${fact.key}/${correction.key}`));
      }
      expect(file.impact).toBeUndefined();
    }
    expect(undated).toEqual([]);
  });

  it('Salt Typhoon is unknown on 2024-01-01, months before the first public report', async () => {
    const response = await api.get('/v1/incidents/salt-typhoon?knownAt=2024-01-01');
    expect(response.status).toBe(404);
    expect((await api.get('/v1/incidents/salt-typhoon?knownAt=2024-09-25')).status).toBe(200);
  });

  it('Storm-0558 known at 2023-08-01: contained, summary and victims as then public, no Review Board source', async () => {
    const view = await api.get('/v1/incidents/storm-0558?knownAt=2023-08-01');
    expect(view.status).toBe(200);
    expect(view.body.status).toBe('contained');
    expect(view.body.summary).toMatch(/about 15 May 2023/);
    expect(view.body.summary).not.toMatch(/crash dump|Review Board|2024/i);
    expect(view.body.victims).toEqual(
      expect.arrayContaining(['U.S. Department of State', 'U.S. Department of Commerce']),
    );
    expect(view.body.impact).toEqual({ organisations: 25 });
    const sources = [
      ...view.body.sources,
      ...view.body.timeline.flatMap((fact: { sources: unknown[] }) => fact.sources),
    ] as { url: string; publishedAt?: string }[];
    expect(sources.length).toBeGreaterThan(0);
    expect(sources.filter((source) => /cyber-safety-review-board|csrb/i.test(source.url))).toEqual([]);
    expect(sources.filter((source) => (source.publishedAt ?? '') > '2023-08-01')).toEqual([]);
    expect(view.body.timeline.some((fact: { kind: string }) => fact.kind === 'review')).toBe(false);

    const live = await api.get('/v1/incidents/storm-0558');
    expect(live.body.status).toBe('resolved');
    expect(live.body.summary).toMatch(/Review Board/);
    expect(live.body.impact).toEqual({ organisations: 22 });
  });

  it('Storm-0558 key theft: unknown method in July 2023, a likely crash dump in October 2023', async () => {
    const july = await api.get('/v1/incidents/storm-0558/timeline?knownAt=2023-08-01');
    const early = july.body.items.find((fact: { kind: string }) => fact.kind === 'key-capture');
    expect(early).toMatchObject({ confidence: 'confirmed', occurredAt: '../2023-05-15' });
    expect(early.summary).not.toMatch(/crash dump/i);

    const october = await api.get('/v1/incidents/storm-0558/timeline?knownAt=2023-10-01');
    const capture = october.body.items.find((fact: { kind: string }) => fact.kind === 'key-capture');
    expect(capture).toMatchObject({ confidence: 'likely', occurredAt: '2021-04/2023-05-15' });
    expect(capture.summary).toMatch(/crash dump/i);
  });

  it('the Storm-0558 diff from 2023-10-01 to 2024-06-01: the crash-dump claim loses confidence, the review appears', async () => {
    const diff = await api.get('/v1/incidents/storm-0558/diff?from=2023-10-01&to=2024-06-01');
    expect(diff.status).toBe(200);
    const capture = diff.body.facts.changed.find((change: { kind: string }) => change.kind === 'key-capture');
    expect(capture.fields).toEqual(
      expect.arrayContaining([{ field: 'confidence', before: 'likely', after: 'possible' }]),
    );
    expect(capture.after.corrections.map((c: { assertedAt: string }) => c.assertedAt)).toEqual([
      '2023-07-14T00:00:00.000Z',
      '2023-09-06T00:00:00.000Z',
      '2024-03-12T00:00:00.000Z',
      '2024-04-02T00:00:00.000Z',
    ]);
    expect(diff.body.facts.added.map((fact: { kind: string }) => fact.kind)).toContain('review');
    expect(diff.body.status).toMatchObject({ before: { status: 'investigating' }, after: { status: 'resolved' } });
    expect(diff.body.impact).toEqual([{ field: 'organisations', before: 25, after: 22 }]);
  });

  it('Storm-0558 valid at 2023-06-01: tokens forged, mail access under way (unsettled), notification not yet', async () => {
    const view = await api.get('/v1/incidents/storm-0558?validAt=2023-06-01');
    const byKind = (kind: string) => view.body.timeline.filter((fact: { kind: string }) => fact.kind === kind);
    expect(byKind('token-forgery')).toEqual([expect.objectContaining({ settled: true, techniques: ['T1606'] })]);
    expect(byKind('data-access')).toEqual([expect.objectContaining({ settled: false })]);
    expect(byKind('notification')).toEqual([]);
    expect(view.body.status).toBeNull();
  });

  it('appends nothing when the same files are imported again', async () => {
    const before = await store.head();
    const reports = await store.importAll(exampleFiles());
    expect(reports.map((report) => report.appended)).toEqual([0, 0, 0, 0]);
    expect(reports.flatMap((report) => [...report.errors, ...report.warnings])).toEqual([]);
    expect(await store.head()).toBe(before);
  });

  it('a fact edited in the file is an erratum, shown from the original claim on; a new fact is a new claim', async () => {
    // A store of its own, so the other suites compare with the files as they are.
    const own = await Store.start();
    try {
      const api = own.api;
      await own.importAll(exampleFiles());
      const storm = exampleFiles().find((file) => file.id === 'storm-0558')!;
      const edited: IncidentFile = structuredClone(storm);
      const fact = edited.facts!.find((entry) => entry.key === 'microsoft-notified')!;
      fact.summary = `${fact.summary} (wording fixed)`;
      edited.facts!.push({
        key: 'added-later',
        kind: 'other',
        occurredAt: '2024-04',
        summary: 'A fact added to the file after the first import.',
        assertedAt: '2024-04-30',
      });
      const before = await own.head();
      const beforeEdit = new Date().toISOString();
      const [report] = await own.importAll([edited]);
      expect(report.changes.sort()).toEqual(['erratum microsoft-notified', 'fact added-later']);
      // Exactly two events appended (positions need not be dense: PostgreSQL numbers them by transaction).
      expect((await own.eventsAfter(before)).map((event) => event.type)).toEqual(['FactAmended', 'FactRecorded']);
      const july = await api.get('/v1/incidents/storm-0558/timeline?knownAt=2023-07-12');
      const notified = july.body.items.find((item: { kind: string }) => item.kind === 'notification');
      expect(notified).toMatchObject({ amended: true, corrected: false });
      expect(notified.summary).toMatch(/wording fixed/);
      const asOf = await api.get(`/v1/incidents/storm-0558/timeline?asOf=${beforeEdit}`);
      expect(asOf.body.items.find((item: { kind: string }) => item.kind === 'notification').summary).not.toMatch(
        /wording fixed/,
      );
    } finally {
      await own.app.close();
    }
  });

  describe('a store that holds the examples as first published', () => {
    let old: Store;
    let reports: ImportReport[];
    let appended: { type: string; streamId: string }[];

    beforeAll(async () => {
      old = await Store.start();
      const first = await old.importAll(filesIn(BEFORE_TIME_MODEL));
      expect(first.flatMap((report) => report.errors)).toEqual([]);
      const before = await old.head();
      reports = await old.importAll(exampleFiles());
      appended = await old.eventsAfter(before);
    });

    afterAll(async () => {
      await old.app.close();
    });

    it('gets only the differences: new claims, errata and restatements, never a second opening', () => {
      expect(reports.flatMap((report) => report.errors)).toEqual([]);
      expect(appended.length).toBe(reports.reduce((sum, report) => sum + report.appended, 0));
      const types = new Set(appended.map((event) => event.type));
      expect(types.has('IncidentOpened')).toBe(false);
      expect(types.has('FactAmended')).toBe(true);
      const oldKeys = new Map(filesIn(BEFORE_TIME_MODEL).map((file) => [file.id, file.facts!.map((fact) => fact.key)]));
      for (const [index, file] of exampleFiles().entries()) {
        const recorded = reports[index].changes.filter((label) => label.startsWith('fact ')).sort();
        const added = file.facts!.filter((fact) => !oldKeys.get(file.id)!.includes(fact.key));
        expect(recorded).toEqual(added.map((fact) => `fact ${fact.key}`).sort());
      }
    });

    it('warns that an opening cannot be amended, and names what else it could not withdraw', () => {
      for (const report of reports) {
        expect(report.warnings).toEqual(
          expect.arrayContaining([expect.stringMatching(/an opening cannot be amended, so knownAt views before/)]),
        );
      }
      const solarwinds = reports.find((report) => report.id === 'solarwinds-sunburst')!;
      expect(solarwinds.warnings).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/status change resolved-2021-04-15 .* cannot be withdrawn/),
          expect.stringMatching(/link related to dnc-2016 .* cannot be withdrawn/),
        ]),
      );
    });

    it('appends nothing on a second import', async () => {
      const before = await old.head();
      const again = await old.importAll(exampleFiles());
      expect(again.map((report) => report.appended)).toEqual([0, 0, 0, 0]);
      expect(await old.head()).toBe(before);
    });

    it('reads as a fresh import of the files today, while its openings keep their recorded time', async () => {
      for (const id of IDS) {
        expect(await old.timeline(id)).toEqual(await store.timeline(id));
        expect((await old.api.get(`/v1/incidents/${id}?knownAt=2026-01-01`)).status).toBe(404);
      }
    });
  });

  describe('a store that holds the first published facts with the incidents dated', () => {
    let old: Store;

    beforeAll(async () => {
      old = await Store.start();
      const dates = new Map(exampleFiles().map((file) => [file.id, file.assertedAt]));
      const first = await old.importAll(
        filesIn(BEFORE_TIME_MODEL).map((file) => ({ ...file, assertedAt: dates.get(file.id) })),
      );
      expect(first.flatMap((report) => report.errors)).toEqual([]);
      const second = await old.importAll(exampleFiles());
      expect(second.flatMap((report) => report.errors)).toEqual([]);
    });

    afterAll(async () => {
      await old.app.close();
    });

    it.each(KNOWN_AT)('shows the same facts known at %s as a fresh import of the files', async (knownAt) => {
      let known = 0;
      for (const id of IDS) {
        const fresh = await store.timeline(id, knownAt);
        expect({ id, ...(await old.timeline(id, knownAt)) }).toEqual({ id, ...fresh });
        known += fresh.rows.length;
      }
      expect(known).toBeGreaterThan(0);
    });

    it('shows the same details, status and impact known at each date', async () => {
      for (const knownAt of KNOWN_AT) {
        for (const id of IDS) {
          const [a, b] = [old, store].map((s) => s.api.get(`/v1/incidents/${id}?knownAt=${knownAt}`));
          const [mine, fresh] = await Promise.all([a, b]);
          expect(mine.status).toBe(fresh.status);
          if (fresh.status !== 200) continue;
          const pick = ({ title, summary, victims, threatActors, impact }: Record<string, unknown>) => ({
            title,
            summary,
            victims,
            threatActors,
            impact,
          });
          expect({ knownAt, id, ...pick(mine.body) }).toEqual({ knownAt, id, ...pick(fresh.body) });
        }
      }
    });
  });
});
