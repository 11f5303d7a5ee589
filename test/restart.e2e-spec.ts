import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient, startTestApp, type ApiResponse, type TestApp } from '@app/testing';
import { readEventLog } from './support/event-log';

/**
 * A stop and a start on the same DATA_DIR lose nothing: the log, the read models and every view derived from them are
 * as they were, an Idempotency-Key still replays, and writes go on at the next version. Read models deleted while the
 * service is stopped are rebuilt from the log, equal to what they were.
 */

const ALPHA = 'restart-alpha';
const BETA = 'restart-beta';
const INCIDENTS = [ALPHA, BETA];

describe('restart on the same data directory (e2e)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'incident-restart-'));
  let app: TestApp | undefined;
  let api: ApiClient;
  /** Position of the last write before the first restart, and an instant in the middle of the writes. */
  let head: number;
  let midway: string;
  let idempotent: ApiResponse;
  const IDEMPOTENT_FACT = {
    kind: 'disclosure',
    occurredAt: '2023-07-11',
    summary: 'The vendor publishes an analysis.',
  };

  async function start(): Promise<void> {
    app = await startTestApp({ dataDir });
    api = new ApiClient(app.baseUrl, app.adminToken);
  }

  async function restart(beforeStart: () => void = () => undefined): Promise<void> {
    await app?.close();
    app = undefined;
    beforeStart();
    await start();
  }

  async function ok(response: Promise<ApiResponse>, status = 200): Promise<ApiResponse> {
    const answered = await response;
    expect({ status: answered.status, body: answered.body }).toEqual({ status, body: expect.anything() });
    return answered;
  }

  /** Everything a client can read about this suite's incidents, through the read models and from the log. */
  async function everything() {
    const read = async (path: string) => {
      const response = await api.get(path);
      return { path, status: response.status, body: response.body as unknown };
    };
    const views = [];
    for (const id of INCIDENTS) {
      views.push(
        await read(`/v1/incidents/${id}?minPosition=${head}`),
        await read(`/v1/incidents/${id}/timeline?includeRetracted=true&minPosition=${head}`),
        await read(`/v1/incidents/${id}/timeline?knownAt=2023-10-01&minPosition=${head}`),
        await read(`/v1/incidents/${id}/history`),
        await read(`/v1/incidents/${id}/status-history?minPosition=${head}`),
        await read(`/v1/incidents/${id}?asOf=${midway}`),
      );
    }
    const list = await read(`/v1/incidents?minPosition=${head}`);
    const items = (list.body as { items: Array<{ id: string }> }).items.filter((item) => INCIDENTS.includes(item.id));
    const log = (await readEventLog(api)).filter((event) => event.streamId.startsWith('incident-restart-'));
    return { views, list: { status: list.status, items }, log };
  }

  beforeAll(async () => {
    await start();
    await ok(
      api.post('/v1/incidents', {
        id: ALPHA,
        title: 'Forged tokens accepted for enterprise mail',
        category: 'espionage',
        victims: ['US State Department'],
        status: 'investigating',
        effectiveAt: '2023-06-16T00:00:00Z',
        assertedAt: '2023-07-11',
      }),
      201,
    );
    await ok(
      api.post('/v1/incidents', { id: BETA, title: 'Follow-up review', category: 'other', assertedAt: '2023-01-01' }),
      201,
    );
    const key = await ok(
      api.post(`/v1/incidents/${ALPHA}/facts`, {
        kind: 'key-capture',
        occurredAt: '2021-04~',
        summary: 'A consumer signing key was captured from a crash dump.',
        confidence: 'likely',
        sources: [{ url: 'https://example.org/analysis', publisher: 'Vendor', publishedAt: '2023-09-06' }],
        actors: ['Storm-0558'],
      }),
      201,
    );
    await ok(
      api.post(`/v1/incidents/${ALPHA}/facts`, {
        kind: 'notification',
        occurredAt: '2023-06-16',
        summary: 'The State Department notifies the vendor.',
      }),
      201,
    );
    const wrong = await ok(
      api.post(`/v1/incidents/${ALPHA}/facts`, { kind: 'other', occurredAt: '2023', summary: 'Recorded by mistake.' }),
      201,
    );
    midway = (await readEventLog(api)).at(-1)!.recordedAt;
    await ok(
      api.patch(`/v1/incidents/${ALPHA}/facts/${key.body.factId}`, {
        confidence: 'disputed',
        reason: 'No crash dump containing the key was found.',
        assertedAt: '2024-03-12',
      }),
    );
    await ok(api.post(`/v1/incidents/${ALPHA}/facts/${wrong.body.factId}/retraction`, { reason: 'Wrong incident.' }));
    await ok(api.post(`/v1/incidents/${ALPHA}/status`, { status: 'contained', reason: 'Key revoked.' }));
    await ok(api.put(`/v1/incidents/${ALPHA}/impact`, { records: 60000, organisations: 25 }));
    await ok(api.post(`/v1/incidents/${ALPHA}/links`, { incidentId: BETA, relation: 'follow-up' }), 201);
    await ok(
      api.patch(`/v1/incidents/${BETA}`, { title: 'Cyber Safety Review Board review', summary: 'Published 2024-04.' }),
    );
    idempotent = await ok(
      api.post(`/v1/incidents/${BETA}/facts`, IDEMPOTENT_FACT, { headers: { 'idempotency-key': 'restart-key-1' } }),
      201,
    );
    head = idempotent.body.position;
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows after a restart exactly what it showed before: log, records, timelines, histories, past views', async () => {
    const before = await everything();
    expect(before.log.map((event) => `${event.streamId} ${event.version} ${event.type}`)).toEqual([
      'incident-restart-alpha 0 IncidentOpened',
      'incident-restart-beta 0 IncidentOpened',
      'incident-restart-alpha 1 KeyCaptured',
      'incident-restart-alpha 2 PartyNotified',
      'incident-restart-alpha 3 FactRecorded',
      'incident-restart-alpha 4 FactCorrected',
      'incident-restart-alpha 5 FactRetracted',
      'incident-restart-alpha 6 IncidentStatusChanged',
      'incident-restart-alpha 7 ImpactAssessed',
      'incident-restart-alpha 8 IncidentLinked',
      'incident-restart-beta 1 IncidentDetailsRevised',
      'incident-restart-beta 2 DisclosurePublished',
    ]);
    expect(before.views.every((view) => view.status === 200)).toBe(true);

    await restart();

    expect(await everything()).toEqual(before);
  });

  it('replays an Idempotency-Key used before the restart, appending nothing', async () => {
    const replay = await api.post(`/v1/incidents/${BETA}/facts`, IDEMPOTENT_FACT, {
      headers: { 'idempotency-key': 'restart-key-1' },
    });
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(idempotent.body);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await readEventLog(api, head)).length).toBe(0);
  });

  it('writes on at the next version and position, and the read models show it', async () => {
    const record = await ok(api.get(`/v1/incidents/${ALPHA}`));
    const version: number = record.body.version;
    expect(record.headers.get('etag')).toBe(`"${version}"`);

    const stale = await api.post(
      `/v1/incidents/${ALPHA}/facts`,
      { kind: 'review', occurredAt: '2024-04', summary: 'Stale write.' },
      { headers: { 'if-match': `"${version - 1}"` } },
    );
    expect(stale.status).toBe(412);

    const next = await ok(
      api.post(
        `/v1/incidents/${ALPHA}/facts`,
        { kind: 'review', occurredAt: '2024-04', summary: 'The review board publishes its report.' },
        { headers: { 'if-match': `"${version}"` } },
      ),
      201,
    );
    expect(next.body.version).toBe(version + 1);
    expect(next.body.position).toBeGreaterThan(head);
    const status = await ok(api.post(`/v1/incidents/${ALPHA}/status`, { status: 'resolved' }));
    expect(status.body.version).toBe(version + 2);

    const after = await ok(api.get(`/v1/incidents/${ALPHA}?minPosition=${status.body.position}`));
    expect(after.body).toMatchObject({ version: version + 2, status: 'resolved' });
    expect(after.body.timeline.map((fact: { factId: string }) => fact.factId)).toContain(next.body.factId);
    head = status.body.position;
  });

  it('rebuilds read models deleted while stopped, equal to what they were', async () => {
    const before = await everything();

    await restart(() => {
      for (const file of readdirSync(dataDir).filter((name) => name.startsWith('read-models.db'))) {
        rmSync(join(dataDir, file));
      }
    });

    expect(await everything()).toEqual(before);
  });
});
