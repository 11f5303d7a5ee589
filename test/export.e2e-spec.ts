import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { IncidentImporter, parseIncidentFile, type IncidentFile } from '@app/incidents';
import { ApiClient, startTestApp, type TestApp } from '@app/testing';
import { loadStixValidators } from './support/stix-schemas';

const DIR = join(__dirname, '..', 'examples', 'incidents');
const EXAMPLES = ['dnc-2016', 'salt-typhoon', 'solarwinds-sunburst', 'storm-0558'];

interface StixObject {
  type: string;
  id: string;
  created: string;
  modified: string;
  confidence?: unknown;
  [property: string]: unknown;
}

/** Every `*_ref` and `*_refs` value of an object, however deep. */
function referencesOf(value: unknown, key = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => referencesOf(item, key));
  if (typeof value === 'string') return key.endsWith('_ref') || key.endsWith('_refs') ? [value] : [];
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([name, inner]) => referencesOf(inner, name));
  }
  return [];
}

describe('incident export: STIX 2.1, markdown, CSV (e2e)', () => {
  let app: TestApp;
  let api: ApiClient;
  const schemaErrors = loadStixValidators();

  async function raw(path: string) {
    const response = await fetch(`${app.baseUrl}${path}`, { headers: { authorization: `Bearer ${app.adminToken}` } });
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  beforeAll(async () => {
    app = await startTestApp();
    api = new ApiClient(app.baseUrl, app.adminToken);
    const importer = app.app.get(IncidentImporter);
    const files: IncidentFile[] = readdirSync(DIR)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => parseIncidentFile(name, readFileSync(join(DIR, name), 'utf8')));
    const reports = [];
    for (const file of files) reports.push(await importer.importRecord(file));
    for (const [index, file] of files.entries()) await importer.importLinks(file, reports[index]);
    expect(reports.flatMap((report) => report.errors)).toEqual([]);
    await api.get(`/v1/incidents?minPosition=${await app.app.get<EventStore>(EVENT_STORE).headPosition()}`);
  });

  afterAll(async () => {
    await app.close();
  });

  it.each(EXAMPLES)(
    '%s: every object validates against the OASIS schema of its type, refs resolve, times and confidence hold',
    async (id) => {
      const response = await raw(`/v1/incidents/${id}/export?format=stix`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/stix+json;version=2.1');
      expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${id}.stix.json"`);
      const bundle = JSON.parse(response.text) as { type: string; id: string; objects: StixObject[] };
      expect(bundle.type).toBe('bundle');
      expect(bundle.id).toMatch(/^bundle--[0-9a-f-]{36}$/);

      const ids = new Set(bundle.objects.map((object) => object.id));
      expect(ids.size).toBe(bundle.objects.length);
      const failures: string[] = [];
      for (const object of bundle.objects) {
        for (const error of schemaErrors(object)) failures.push(`${object.id}: ${error}`);
        for (const ref of referencesOf(object)) if (!ids.has(ref)) failures.push(`${object.id}: dangling ${ref}`);
        if (object.modified < object.created) failures.push(`${object.id}: modified before created`);
        if (object.confidence !== undefined) {
          const confidence = object.confidence;
          if (!Number.isInteger(confidence) || (confidence as number) < 0 || (confidence as number) > 100) {
            failures.push(`${object.id}: confidence ${String(confidence)}`);
          }
        }
      }
      expect(failures).toEqual([]);
      const types = new Set(bundle.objects.map((object) => object.type));
      for (const type of ['incident', 'identity', 'intrusion-set', 'relationship', 'report']) {
        expect(types).toContain(type);
      }

      const again = await raw(`/v1/incidents/${id}/export?format=stix`);
      expect(again.text).toBe(response.text);
    },
  );

  it('maps Storm-0558 facts by kind: disclosures are reports by their publisher, detection a sighting, containment a course of action', async () => {
    const bundle = (await api.get('/v1/incidents/storm-0558/export?format=stix')).body as { objects: StixObject[] };
    const byId = new Map(bundle.objects.map((object) => [object.id, object]));
    const incident = bundle.objects.find((object) => object.type === 'incident')!;
    expect(incident.name).toMatch(/Storm-0558/);

    const reports = bundle.objects.filter((object) => object.type === 'report');
    expect(reports.length).toBe(4);
    const review = reports.find((report) => (report.labels as string[]).includes('review'))!;
    expect(review.published).toBe('2024-04-02T00:00:00.000Z');
    expect(byId.get(review.created_by_ref as string)).toMatchObject({ type: 'identity', roles: ['publisher'] });

    const sighting = bundle.objects.find((object) => object.type === 'sighting')!;
    expect(sighting).toMatchObject({
      sighting_of_ref: incident.id,
      first_seen: '2023-06-15T00:00:00.000Z',
      confidence: 100,
    });
    // Containment (the key invalidated) and two remediations (free logging, the Secure Future Initiative).
    expect(bundle.objects.filter((object) => object.type === 'course-of-action')).toHaveLength(3);
    expect(bundle.objects).toContainEqual(expect.objectContaining({ type: 'intrusion-set', name: 'Storm-0558' }));
    const capture = bundle.objects.find((object) => (object.labels as string[] | undefined)?.includes('key-capture'))!;
    expect(capture.external_references).toContainEqual(
      expect.objectContaining({
        source_name: 'Microsoft Security Response Center',
        url: expect.stringMatching(/^https:\/\/msrc\.microsoft\.com\//),
        description: expect.stringMatching(/; published 2023-09-06$/),
      }),
    );
  });

  it('shows the March 2024 correction as a note with its reason, and not at knownAt 2023-10-01', async () => {
    const live = (await api.get('/v1/incidents/storm-0558/export?format=stix')).body as { objects: StixObject[] };
    const capture = live.objects.find((object) => (object.labels as string[] | undefined)?.includes('key-capture'))!;
    expect(capture.confidence).toBe(50);
    const corrections = live.objects.filter((object) =>
      (object.labels as string[] | undefined)?.includes('correction'),
    );
    expect(corrections).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'note',
          object_refs: [capture.id],
          content: expect.stringMatching(/had not found a crash dump/i),
        }),
      ]),
    );

    const then = await raw('/v1/incidents/storm-0558/export?format=stix&knownAt=2023-10-01');
    expect(then.headers.get('content-disposition')).toBe(
      'attachment; filename="storm-0558-known-2023-10-01.stix.json"',
    );
    const earlier = JSON.parse(then.text) as { id: string; objects: StixObject[] };
    const earlyCapture = earlier.objects.find((object) => object.id === capture.id)!;
    expect(earlyCapture.confidence).toBe(70);
    const earlyNotes = earlier.objects.filter((object) =>
      (object.labels as string[] | undefined)?.includes('correction'),
    );
    expect(earlyNotes.some((note) => /had not found a crash dump/i.test(String(note.content)))).toBe(false);
    expect(earlier.objects.some((object) => (object.labels as string[] | undefined)?.includes('review'))).toBe(false);
    expect(earlier.id).not.toBe((live as unknown as { id: string }).id);
  });

  it('exports a retracted fact as revoked, with a note giving the reason', async () => {
    await api.post('/v1/incidents', { id: 'export-retraction', title: 'Retraction export', category: 'other' });
    const fact = await api.post('/v1/incidents/export-retraction/facts', {
      kind: 'detection',
      occurredAt: '2024-05',
      summary: 'Odd sign-ins noticed.',
    });
    const retracted = await api.post(`/v1/incidents/export-retraction/facts/${fact.body.factId}/retraction`, {
      reason: 'The sign-ins were a test.',
    });
    const bundle = (
      await api.get(`/v1/incidents/export-retraction/export?format=stix&minPosition=${retracted.body.position}`)
    ).body as { objects: StixObject[] };
    const sighting = bundle.objects.find((object) => object.type === 'sighting')!;
    expect(sighting.revoked).toBe(true);
    expect(sighting.modified > sighting.created).toBe(true);
    expect(bundle.objects).toContainEqual(
      expect.objectContaining({ type: 'note', content: 'The sign-ins were a test.', object_refs: [sighting.id] }),
    );
    const csv = await raw('/v1/incidents/export-retraction/export?format=csv');
    expect(csv.text.split('\r\n')[1]).toMatch(/,true,The sign-ins were a test\.$/);
  });

  it('writes a markdown report: header, timeline table with dates as written, footnoted sources, corrections', async () => {
    const response = await raw('/v1/incidents/storm-0558/export?format=markdown');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="storm-0558.md"');
    const report = response.text;
    expect(report.startsWith('# Storm-0558')).toBe(true);
    expect(report).toContain('| When (as written) | What | Confidence | Sources |');
    expect(report).toMatch(/^\| \.\.\/2023-05-15 \| \*\*Key capture\.\*\* .* \| possible \| (\[\^\d+\] )+\|$/m);
    expect(report).toMatch(/^\| 2021-04\/2023-05 \| \*\*Account compromise\.\*\* /m);
    expect(report).toMatch(
      /## Corrections\n\n[^]*- \*\*Key capture, \.\.\/2023-05-15\*\*, asserted 2024-03-12: .*crash dump/,
    );
    expect(report).toMatch(/^\[\^1\]: .*<https:\/\/[^>]+>$/m);
    expect(report).not.toContain('As known at');
    expect((await raw('/v1/incidents/storm-0558/export?format=markdown')).text).toBe(report);

    const then = (await raw('/v1/incidents/storm-0558/export?format=markdown&knownAt=2023-10-01')).text;
    expect(then).toContain('*As known at 2023-10-01: only claims made public by then.*');
    expect(then).not.toContain('asserted 2024-03-12');
  });

  it('writes a CSV timeline: a header and one row per fact, quoted per RFC 4180', async () => {
    const response = await raw('/v1/incidents/storm-0558/export?format=csv');
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="storm-0558.csv"');
    const timeline = (await api.get('/v1/incidents/storm-0558/timeline?includeRetracted=true')).body.items;
    const lines = response.text.split('\r\n');
    expect(lines[0]).toBe(
      'factId,kind,occurredAt,occurredEarliest,occurredLatest,summary,confidence,actors,techniques,sources,' +
        'assertedAt,recordedAt,corrected,corrections,retracted,retractionReason',
    );
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(1, -1).map((line) => line.split(',')[0])).toEqual(
      timeline.map((fact: { factId: string }) => fact.factId),
    );
    expect(response.text).toMatch(/,key-capture,\.\.\/2023-05-15,,2023-05-15T23:59:59\.999Z,"How Storm-0558 obtained /);
    expect(response.text).toMatch(
      /,account-compromise,2021-04\/2023-05,2021-04-01T00:00:00\.000Z,2023-05-31T23:59:59\.999Z,Microsoft's leading hypothesis /,
    );
  });

  it('refuses an unknown format (400 naming the field), an unknown incident (404), a time before it existed (404)', async () => {
    const bad = await api.get('/v1/incidents/storm-0558/export?format=pdf');
    expect(bad.status).toBe(400);
    expect(bad.contentType).toContain('application/problem+json');
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'format' })]);
    expect((await api.get('/v1/incidents/no-such-incident/export?format=csv')).status).toBe(404);
    expect((await api.get('/v1/incidents/storm-0558/export?asOf=2001-01-01T00:00:00Z')).status).toBe(404);
    expect((await api.withToken().get('/v1/incidents/storm-0558/export')).status).toBe(401);
  });
});
