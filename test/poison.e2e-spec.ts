import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { postgresEventStoreSql, quoteIdentifier } from '../libs/event-store/src/postgres.event-store';
import { ApiClient, startTestApp, type TestApp } from '@app/testing';

/**
 * A poison event (one the projection cannot apply) sets its own incident aside and nothing else: the other incidents
 * keep projecting and answering, reads of the parked one answer 503 naming the event, commands on it 503 (never 500),
 * /health/ready stays ready and counts it, and an administrator can list and retry it. Each kind of poison is written
 * into the real event log behind the service's back, as a bad migration or a hand edit would: into the SQLite file,
 * or into the PostgreSQL events table (EVENT_STORE=postgres), taking the next position the way an append does.
 */
const STORE = process.env.EVENT_STORE === 'postgres' ? 'postgres' : 'sqlite';

interface Poison {
  type: string;
  /** What the parked incident gives as the reason: which path the poison took. */
  reason: RegExp;
  /** The stored data column, as SQLite keeps it (text) and as PostgreSQL keeps it (the text of a JSONB value). */
  sqlite: string;
  postgres: string;
}

const same = (type: string, reason: RegExp, data: string): Poison => ({
  type,
  reason,
  sqlite: data,
  postgres: data,
});

const POISONS: [name: string, poison: Poison][] = [
  ['an unknown event type', same('IncidentTeleported', /Unknown event type: IncidentTeleported/, '{"to":"mars"}')],
  [
    'a stored date that is not EDTF',
    same(
      'FactRecorded',
      /not EDTF: yesterday/,
      JSON.stringify({
        factId: 'poison-fact',
        kind: 'other',
        occurredAt: 'yesterday',
        summary: 'x',
        confidence: 'confirmed',
        sources: [],
      }),
    ),
  ],
  [
    // JSONB holds only valid JSON: the PostgreSQL form of data that cannot be decoded is the broken text kept as a
    // JSON string (what a copy that never parsed it writes), which the adapter refuses as it is not an object.
    'data the store cannot decode (not JSON; on PostgreSQL, a JSON string)',
    {
      type: 'FactRecorded',
      reason: /is unreadable: stored data (or metadata is not valid JSON|is a string, not a JSON object)/,
      sqlite: '{"factId": "broken',
      postgres: JSON.stringify('{"factId": "broken'),
    },
  ],
  ['data that makes the fold throw', same('ImpactAssessed', /is not a function/, '{"sources": 5}')],
];

/** Writes and repairs events in the service's own log, behind its back. */
interface LogEditor {
  /** Appends `poison` to the incident's stream; returns its event id and the position it took. */
  inject(incidentId: string, poison: Poison): Promise<{ eventId: string; position: number }>;
  /** Makes the event harmless: an impact assessment of one record. */
  repair(eventId: string): Promise<void>;
  close(): Promise<void>;
}

const HAND_EDIT_METADATA = JSON.stringify({
  actor: { iss: 'test', sub: 'hand-edit' },
  correlationId: 'poison',
  schemaVersion: 1,
});
const REPAIRED_DATA = '{"records":1}';

function sqliteEditor(app: TestApp): LogEditor {
  const db = new Database(join(app.dataDir, 'events.db'));
  return {
    async inject(incidentId, poison) {
      const eventId = randomUUID();
      const { version } = db
        .prepare('SELECT MAX(version) AS version FROM events WHERE stream_id = ?')
        .get(`incident-${incidentId}`) as { version: number };
      const { lastInsertRowid } = db
        .prepare(
          'INSERT INTO events (event_id, stream_id, version, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          eventId,
          `incident-${incidentId}`,
          version + 1,
          poison.type,
          poison.sqlite,
          HAND_EDIT_METADATA,
          new Date().toISOString(),
        );
      return { eventId, position: Number(lastInsertRowid) };
    },
    async repair(eventId) {
      db.prepare("UPDATE events SET type = 'ImpactAssessed', data = ? WHERE event_id = ?").run(REPAIRED_DATA, eventId);
    },
    async close() {
      db.close();
    },
  };
}

async function postgresEditor(app: TestApp): Promise<LogEditor> {
  const schema = app.config.databaseSchema;
  const sql = postgresEventStoreSql(schema);
  const events = `${quoteIdentifier(schema)}.events`;
  const client = new Client({ connectionString: app.config.databaseUrl });
  await client.connect();
  return {
    async inject(incidentId, poison) {
      const eventId = randomUUID();
      await client.query('BEGIN');
      try {
        // The position an append in this transaction would take (from the transaction's id, see the adapter).
        const reserved = await client.query<{ position: string }>(sql.reserve, [1]);
        const { rows } = await client.query<{ position: string }>(
          `INSERT INTO ${events} (position, event_id, stream_id, version, type, data, metadata, recorded_at)
           SELECT $6::bigint, $1, $2,
                  (SELECT max(version) + 1 FROM ${events} WHERE stream_id = $2), $3, $4::jsonb, $5::jsonb,
                  greatest((SELECT max(recorded_at) FROM ${events}), date_trunc('milliseconds', clock_timestamp()))
           RETURNING position::text`,
          [eventId, `incident-${incidentId}`, poison.type, poison.postgres, HAND_EDIT_METADATA, reserved.rows[0].position],
        );
        await client.query(`NOTIFY ${sql.channel}`);
        await client.query('COMMIT');
        return { eventId, position: Number(rows[0].position) };
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    },
    async repair(eventId) {
      await client.query(`UPDATE ${events} SET type = 'ImpactAssessed', data = $1::jsonb WHERE event_id = $2`, [
        REPAIRED_DATA,
        eventId,
      ]);
    },
    async close() {
      await client.end();
    },
  };
}

describe(`poison events (e2e, ${STORE})`, () => {
  let app: TestApp;
  let api: ApiClient;
  let editor: LogEditor;

  beforeAll(async () => {
    app = await startTestApp({ env: { EVENT_STORE: STORE } });
    api = new ApiClient(app.baseUrl, app.adminToken);
    editor = STORE === 'postgres' ? await postgresEditor(app) : sqliteEditor(app);
  });

  afterAll(async () => {
    await editor?.close();
    await app?.close();
  });

  it('runs against the store it names', () => {
    expect(app.config.eventStore).toBe(STORE);
  });

  it.each(POISONS)(
    '%s parks only its incident, visibly, and a retry after repair brings it back',
    async (name, poison) => {
      const slug = name
        .replace(/[^a-z]+/g, '-')
        .replace(/^-|-$/g, '')
        .slice(0, 40)
        .replace(/-$/, '');
      const poisoned = `poisoned-${slug}`;
      const healthy = `healthy-${slug}`;
      let head = 0;
      for (const id of [poisoned, healthy]) {
        const opened = await api.post('/v1/incidents', { id, title: `Incident ${id}`, category: 'other' });
        expect(opened.status).toBe(201);
        head = opened.body.position;
      }
      const { eventId, position } = await editor.inject(poisoned, poison);
      // The injected event took the next position in the log, as an append would have (positions need not be
      // consecutive: PostgreSQL's are not).
      expect(position).toBeGreaterThan(head);
      const logged = await api.get(`/v1/events?after=${head}&limit=1`);
      expect(logged.body.items).toEqual([
        expect.objectContaining({ eventId, position, streamId: `incident-${poisoned}`, type: poison.type }),
      ]);
      // Written after the poison: the healthy incident must project past it.
      const after = await api.post(`/v1/incidents/${healthy}/facts`, {
        kind: 'other',
        occurredAt: '2023',
        summary: 'After the poison',
      });
      expect(after.status).toBe(201);
      expect(after.body.position).toBeGreaterThan(position);

      const read = await api.get(`/v1/incidents/${healthy}/timeline?minPosition=${after.body.position}`);
      expect(read.status).toBe(200);
      expect(read.body.items.map((fact: { summary: string }) => fact.summary)).toEqual(['After the poison']);

      const parked = await api.get(`/v1/incidents/${poisoned}?minPosition=${after.body.position}`);
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
        expect.arrayContaining([
          expect.objectContaining({ incidentId: poisoned, eventId, error: expect.stringMatching(poison.reason) }),
        ]),
      );
      const metrics = await fetch(`${app.baseUrl}/metrics`).then((response) => response.text());
      expect(metrics).toMatch(/^projection_events_parked_total [1-9]/m);

      // Still poisoned: the retry refuses and the incident stays parked.
      expect((await api.post(`/v1/admin/projections/parked/${poisoned}/retry`, {})).status).toBe(409);
      expect((await api.get(`/v1/incidents/${poisoned}`)).status).toBe(503);

      // Repaired by hand (the event made harmless), a retry unparks it and reads answer again.
      await editor.repair(eventId);
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
