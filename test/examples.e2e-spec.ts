import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { IncidentImporter, parseIncidentFile, type IncidentFile } from '@app/incidents';
import { ApiClient, startTestApp, type TestApp } from '@app/testing';

const DIR = join(__dirname, '..', 'examples', 'incidents');

function exampleFiles(): IncidentFile[] {
  return readdirSync(DIR)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => parseIncidentFile(name, readFileSync(join(DIR, name), 'utf8')));
}

describe('example incidents (e2e)', () => {
  let app: TestApp;
  let api: ApiClient;
  let importer: IncidentImporter;

  async function importAll(files: IncidentFile[]) {
    const reports = [];
    for (const file of files) reports.push(await importer.importRecord(file));
    for (const [index, file] of files.entries()) await importer.importLinks(file, reports[index]);
    return reports;
  }

  async function head(): Promise<number> {
    return Number(await app.app.get<EventStore>(EVENT_STORE).headPosition());
  }

  beforeAll(async () => {
    app = await startTestApp();
    api = new ApiClient(app.baseUrl, app.adminToken);
    importer = app.app.get(IncidentImporter);
    const reports = await importAll(exampleFiles());
    expect(reports.flatMap((report) => report.errors)).toEqual([]);
  });

  afterAll(async () => {
    await app.close();
  });

  it('imports the four example incidents, with their links', async () => {
    const list = await api.get(`/v1/incidents?minPosition=${await head()}`);
    expect(list.body.items.map((item: { id: string }) => item.id).sort()).toEqual([
      'dnc-2016',
      'salt-typhoon',
      'solarwinds-sunburst',
      'storm-0558',
    ]);
    const storm = await api.get('/v1/incidents/storm-0558');
    expect(storm.body.links).toEqual([expect.objectContaining({ incidentId: 'salt-typhoon', relation: 'related' })]);
    expect(storm.body.status).toBe('resolved');
  });

  it('Storm-0558 known at 2023-10-01 attributes the key theft to a crash dump, as it then stood', async () => {
    const timeline = await api.get('/v1/incidents/storm-0558/timeline?knownAt=2023-10-01');
    const capture = timeline.body.items.find((fact: { kind: string }) => fact.kind === 'key-capture');
    expect(capture).toMatchObject({ confidence: 'likely', corrected: false });
    expect(capture.summary).toMatch(/crash dump/i);
    expect(timeline.body.items.some((fact: { kind: string }) => fact.kind === 'review')).toBe(false);
  });

  it('Storm-0558 known at 2024-06-01 shows the crash-dump claim disputed, and the CSRB review', async () => {
    const timeline = await api.get('/v1/incidents/storm-0558/timeline?knownAt=2024-06-01');
    const capture = timeline.body.items.find((fact: { kind: string }) => fact.kind === 'key-capture');
    expect(capture).toMatchObject({ confidence: 'disputed', corrected: true });
    expect(capture.corrections[0].assertedAt).toBe('2024-03-12T00:00:00.000Z');
    expect(timeline.body.items.some((fact: { kind: string }) => fact.kind === 'review')).toBe(true);
  });

  it('Storm-0558 valid at 2023-06-01: tokens forged, mail access under way (unsettled), notification not yet', async () => {
    const view = await api.get('/v1/incidents/storm-0558?validAt=2023-06-01');
    const byKind = (kind: string) => view.body.timeline.filter((fact: { kind: string }) => fact.kind === kind);
    expect(byKind('token-forgery')).toEqual([expect.objectContaining({ settled: true })]);
    expect(byKind('data-access')).toEqual([expect.objectContaining({ settled: false })]);
    expect(byKind('notification')).toEqual([]);
    expect(view.body.status).toBeNull();
  });

  it('appends nothing when the same files are imported again', async () => {
    const before = await head();
    const reports = await importAll(exampleFiles());
    expect(reports.map((report) => report.appended)).toEqual([0, 0, 0, 0]);
    expect(await head()).toBe(before);
  });

  it('appends only what changed in an edited file, and the history shows how the record evolved', async () => {
    const storm = exampleFiles().find((file) => file.id === 'storm-0558')!;
    const edited: IncidentFile = structuredClone(storm);
    const fact = edited.facts!.find((entry) => entry.key === 'microsoft-notified')!;
    fact.summary = `${fact.summary} (wording revised)`;
    edited.facts!.push({
      key: 'added-later',
      kind: 'other',
      occurredAt: '2024-04',
      summary: 'A fact added to the file after the first import.',
    });
    const before = await head();
    const [report] = await importAll([edited]);
    expect(report.changes.sort()).toEqual(['fact added-later', 'revised fact microsoft-notified']);
    expect(await head()).toBe(before + 2);
    const history = await api.get('/v1/incidents/storm-0558/history?limit=200');
    const types = history.body.items.map((event: { type: string }) => event.type);
    expect(types.slice(-2)).toEqual(['FactCorrected', 'FactRecorded']);
    expect(history.body.items.at(-2).data.changes.summary).toMatch(/wording revised/);
  });
});
