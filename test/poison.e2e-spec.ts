import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ApiClient, startTestApp, type TestApp } from '@app/testing';

/**
 * A poison event (one the projection cannot apply) sets its own incident aside and nothing else: the other incidents
 * keep projecting and answering, reads of the parked one answer 503 naming the event, commands on it 503 (never 500),
 * /health/ready stays ready and counts it, and an administrator can list and retry it. Each kind of poison is written
 * into the real SQLite log behind the service's back, as a bad migration or a hand edit would.
 */
const POISONS: [name: string, type: string, data: string][] = [
  ['an unknown event type', 'IncidentTeleported', '{"to":"mars"}'],
  [
    'a stored date that is not EDTF',
    'FactRecorded',
    JSON.stringify({
      factId: 'poison-fact',
      kind: 'other',
      occurredAt: 'yesterday',
      summary: 'x',
      confidence: 'confirmed',
      sources: [],
    }),
  ],
  ['data that is not JSON', 'FactRecorded', '{"factId": "broken'],
  ['data that makes the fold throw', 'ImpactAssessed', 'null'],
];

describe('poison events (e2e, SQLite)', () => {
  let app: TestApp;
  let api: ApiClient;

  beforeAll(async () => {
    app = await startTestApp({ env: { EVENT_STORE: 'sqlite' } });
    api = new ApiClient(app.baseUrl, app.adminToken);
  });

  afterAll(async () => {
    await app.close();
  });

  function inject(incidentId: string, type: string, data: string): string {
    const db = new Database(join(app.dataDir, 'events.db'));
    try {
      const eventId = randomUUID();
      const { version } = db
        .prepare('SELECT MAX(version) AS version FROM events WHERE stream_id = ?')
        .get(`incident-${incidentId}`) as { version: number };
      db.prepare(
        'INSERT INTO events (event_id, stream_id, version, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ).run(
        eventId,
        `incident-${incidentId}`,
        version + 1,
        type,
        data,
        JSON.stringify({ actor: { iss: 'test', sub: 'hand-edit' }, correlationId: 'poison', schemaVersion: 1 }),
        new Date().toISOString(),
      );
      return eventId;
    } finally {
      db.close();
    }
  }

  it.each(POISONS)(
    '%s parks only its incident, visibly, and a retry after repair brings it back',
    async (name, type, data) => {
      const slug = name
        .replace(/[^a-z]+/g, '-')
        .replace(/^-|-$/g, '')
        .slice(0, 40);
      const poisoned = `poisoned-${slug}`;
      const healthy = `healthy-${slug}`;
      for (const id of [poisoned, healthy]) {
        expect((await api.post('/v1/incidents', { id, title: `Incident ${id}`, category: 'other' })).status).toBe(201);
      }
      const eventId = inject(poisoned, type, data);
      // Written after the poison: the healthy incident must project past it.
      const after = await api.post(`/v1/incidents/${healthy}/facts`, {
        kind: 'other',
        occurredAt: '2023',
        summary: 'After the poison',
      });
      expect(after.status).toBe(201);

      const read = await api.get(`/v1/incidents/${healthy}/timeline?minPosition=${after.body.position}`);
      expect(read.status).toBe(200);
      expect(read.body.items.map((fact: { summary: string }) => fact.summary)).toEqual(['After the poison']);

      const parked = await api.get(`/v1/incidents/${poisoned}`);
      expect(parked.status).toBe(503);
      expect(parked.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(parked.body).toMatchObject({ status: 503, eventId, incidentId: poisoned });

      const command = await api.post(`/v1/incidents/${poisoned}/facts`, {
        kind: 'other',
        occurredAt: '2023',
        summary: 'x',
      });
      expect(command.status).toBe(503);
      expect((await api.get(`/v1/incidents/${poisoned}?knownAt=2030-01-01`)).status).toBe(503);
      expect((await api.get('/v1/incidents?knownAt=2030-01-01&limit=200')).status).toBe(200);

      const health = await api.get('/health/ready');
      expect(health.status).toBe(200);
      expect(health.body.checks.projections.parked).toBeGreaterThanOrEqual(1);
      const listed = await api.get('/v1/admin/projections/parked');
      expect(listed.body.items).toEqual(
        expect.arrayContaining([expect.objectContaining({ incidentId: poisoned, eventId })]),
      );
      const metrics = await fetch(`${app.baseUrl}/metrics`).then((response) => response.text());
      expect(metrics).toMatch(/^projection_events_parked_total [1-9]/m);

      // Still poisoned: the retry refuses and the incident stays parked.
      expect((await api.post(`/v1/admin/projections/parked/${poisoned}/retry`, {})).status).toBe(409);

      // Repaired by hand (the event made harmless), a retry unparks it and reads answer again.
      const db = new Database(join(app.dataDir, 'events.db'));
      db.prepare("UPDATE events SET type = 'ImpactAssessed', data = '{\"records\":1}' WHERE event_id = ?").run(eventId);
      db.close();
      const retried = await api.post(`/v1/admin/projections/parked/${poisoned}/retry`, {});
      expect(retried.status).toBe(200);
      const back = await api.get(`/v1/incidents/${poisoned}`);
      expect(back.status).toBe(200);
      expect(back.body.impact).toEqual({ records: 1 });
      expect((await api.get('/v1/admin/projections/parked')).body.items).not.toEqual(
        expect.arrayContaining([expect.objectContaining({ incidentId: poisoned })]),
      );
    },
  );
});
