import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { READ_MODELS } from '@app/incidents';
import { rebuildReadModels, SqliteReadModelStore, type ReadModelStore } from '@app/read-models';
import { ApiClient, startTestApp, type TestApp } from '@app/testing';

const PROBLEM = 'application/problem+json';

describe('HTTP API (e2e)', () => {
  let app: TestApp;
  let api: ApiClient;

  beforeAll(async () => {
    app = await startTestApp();
    api = new ApiClient(app.baseUrl, app.adminToken);
  });

  afterAll(async () => {
    await app.close();
  });

  async function headPosition(): Promise<number> {
    return Number(await app.app.get<EventStore>(EVENT_STORE).headPosition());
  }

  async function open(id: string, extra: Record<string, unknown> = {}) {
    const response = await api.post('/v1/incidents', { id, title: `Incident ${id}`, category: 'espionage', ...extra });
    expect(response.status).toBe(201);
    return response;
  }

  async function recordFact(id: string, body: Record<string, unknown>) {
    const response = await api.post(`/v1/incidents/${id}/facts`, {
      kind: 'other',
      occurredAt: '2023-06',
      summary: 'x',
      ...body,
    });
    expect(response.status).toBe(201);
    return response.body as { factId: string; version: number; position: number };
  }

  describe('opening an incident', () => {
    it('answers 201 with id, version, position, an ETag and a Location', async () => {
      const response = await open('open-basic', { victims: ['US State Department'], status: 'investigating' });
      expect(response.body).toEqual({ id: 'open-basic', version: 0, position: expect.any(Number) });
      expect(response.headers.get('etag')).toBe('"0"');
      expect(response.headers.get('location')).toBe('/v1/incidents/open-basic');
      const record = await api.get(`/v1/incidents/open-basic?minPosition=${response.body.position}`);
      expect(record.status).toBe(200);
      expect(record.body).toMatchObject({
        id: 'open-basic',
        status: 'investigating',
        victims: ['US State Department'],
        timeline: [],
      });
    });

    it('refuses a duplicate id with 409 and appends nothing', async () => {
      await open('open-twice');
      const before = await headPosition();
      const response = await api.post('/v1/incidents', { id: 'open-twice', title: 'Again', category: 'other' });
      expect(response.status).toBe(409);
      expect(response.contentType).toContain(PROBLEM);
      expect(response.body).toMatchObject({ status: 409, rule: 'already-exists' });
      expect(await headPosition()).toBe(before);
    });

    it('names every bad field and rule in a 400 problem, including unknown fields', async () => {
      const response = await api.post('/v1/incidents', { id: 'Bad Id', title: '', category: 'nope', colour: 'red' });
      expect(response.status).toBe(400);
      expect(response.contentType).toContain(PROBLEM);
      const fields = (response.body.errors as { field: string }[]).map((error) => error.field).sort();
      expect(fields).toEqual(['category', 'colour', 'id', 'title']);
    });

    it('refuses an effectiveAt in the future', async () => {
      const response = await api.post('/v1/incidents', {
        id: 'future-status',
        title: 'Future',
        category: 'other',
        effectiveAt: '2999-01-01T00:00:00Z',
      });
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: 'effectiveAt', message: 'must not be in the future' }]);
    });
  });

  describe('revising details', () => {
    it('appends a revision and answers the new version', async () => {
      await open('revise-me');
      const response = await api.patch('/v1/incidents/revise-me', { title: 'Revised title', victims: ['A', 'B'] });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: 'revise-me', version: 1 });
      const record = await api.get(`/v1/incidents/revise-me?minPosition=${response.body.position}`);
      expect(record.body).toMatchObject({ title: 'Revised title', victims: ['A', 'B'] });
    });

    it('is 404 for an unknown incident and 400 for an empty body', async () => {
      expect((await api.patch('/v1/incidents/no-such-incident', { title: 'x' })).status).toBe(404);
      await open('revise-empty');
      const response = await api.patch('/v1/incidents/revise-empty', {});
      expect(response.status).toBe(400);
      expect(response.body.errors[0].field).toBe('body');
    });

    it('is 400 for a malformed id in the path', async () => {
      const response = await api.patch('/v1/incidents/NOT_A_SLUG', { title: 'x' });
      expect(response.status).toBe(400);
      expect(response.body.errors[0].field).toBe('id');
    });
  });

  describe('facts, corrections and retractions', () => {
    let factId: string;

    beforeAll(async () => {
      await open('facts-demo');
      factId = (
        await recordFact('facts-demo', {
          kind: 'key-capture',
          occurredAt: '2021-04~',
          summary: 'A consumer signing key was captured.',
          confidence: 'likely',
          sources: [{ url: 'https://example.org/analysis', publisher: 'Vendor', publishedAt: '2023-09-06' }],
          actors: ['Storm-0558'],
        })
      ).factId;
    });

    it('records a fact with a server-assigned id and shows it on the timeline', async () => {
      expect(factId).toMatch(/^[0-9a-f-]{36}$/);
      const timeline = await api.get(`/v1/incidents/facts-demo/timeline?minPosition=${await headPosition()}`);
      expect(timeline.body.items).toEqual([
        expect.objectContaining({
          factId,
          kind: 'key-capture',
          type: 'KeyCaptured',
          occurredAt: '2021-04~',
          // Approximate: widened by a month on each side.
          occurredInterval: { earliest: '2021-03-01T00:00:00.000Z', latest: '2021-05-31T23:59:59.999Z' },
          approximate: true,
          uncertain: false,
          confidence: 'likely',
          assertedAt: '2023-09-06T00:00:00.000Z',
        }),
      ]);
    });

    it('refuses a malformed EDTF date, naming occurredAt', async () => {
      const response = await api.post('/v1/incidents/facts-demo/facts', {
        kind: 'other',
        occurredAt: '2023-13-45',
        summary: 'x',
      });
      expect(response.status).toBe(400);
      expect(response.body.errors.map((e: { field: string }) => e.field)).toEqual(['occurredAt']);
    });

    it('refuses more than 50 sources', async () => {
      const sources = Array.from({ length: 51 }, (_, i) => ({ url: `https://example.org/${i}` }));
      const response = await api.post('/v1/incidents/facts-demo/facts', {
        kind: 'other',
        occurredAt: '2023',
        summary: 'x',
        sources,
      });
      expect(response.status).toBe(400);
      expect(response.body.errors[0]).toMatchObject({ field: 'sources' });
    });

    it('refuses a source published in the future', async () => {
      const response = await api.post('/v1/incidents/facts-demo/facts', {
        kind: 'other',
        occurredAt: '2023',
        summary: 'x',
        sources: [{ url: 'https://example.org/', publishedAt: '2999-01-01' }],
      });
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: 'sources[0].publishedAt', message: 'must not be in the future' }]);
    });

    it('corrects a fact: the timeline shows the correction, the history both events', async () => {
      const response = await api.patch(`/v1/incidents/facts-demo/facts/${factId}`, {
        confidence: 'disputed',
        reason: 'No crash dump containing the key was found.',
        assertedAt: '2024-03-12',
      });
      expect(response.status).toBe(200);
      const timeline = await api.get(`/v1/incidents/facts-demo/timeline?minPosition=${response.body.position}`);
      expect(timeline.body.items[0]).toMatchObject({ factId, confidence: 'disputed', corrected: true });
      const history = await api.get('/v1/incidents/facts-demo/history');
      expect(history.body.items.map((e: { type: string }) => e.type)).toEqual([
        'IncidentOpened',
        'KeyCaptured',
        'FactCorrected',
      ]);
      expect(history.body.items[1].data.confidence).toBe('likely');
      expect(history.body.items[2]).toMatchObject({
        actor: { iss: expect.any(String), sub: expect.any(String) },
        recordedAt: expect.any(String),
      });
    });

    it('is 404 when correcting an unknown fact, 400 for a malformed fact id', async () => {
      const unknown = await api.patch('/v1/incidents/facts-demo/facts/00000000-0000-4000-8000-000000000000', {
        summary: 'y',
        reason: 'r',
      });
      expect(unknown.status).toBe(404);
      const malformed = await api.patch('/v1/incidents/facts-demo/facts/not-a-uuid', { summary: 'y', reason: 'r' });
      expect(malformed.status).toBe(400);
      expect(malformed.body.errors[0].field).toBe('factId');
    });

    it('retracts a fact: gone from the timeline unless asked for, and it can no longer change (409)', async () => {
      const other = await recordFact('facts-demo', { summary: 'Recorded by mistake', occurredAt: '2022' });
      const retraction = await api.post(`/v1/incidents/facts-demo/facts/${other.factId}/retraction`, {
        reason: 'Wrong incident',
      });
      expect(retraction.status).toBe(200);
      const visible = await api.get(`/v1/incidents/facts-demo/timeline?minPosition=${retraction.body.position}`);
      expect(visible.body.items.map((f: { factId: string }) => f.factId)).toEqual([factId]);
      const all = await api.get('/v1/incidents/facts-demo/timeline?includeRetracted=true');
      expect(all.body.items.find((f: { factId: string }) => f.factId === other.factId)).toMatchObject({
        retracted: true,
      });
      const again = await api.post(`/v1/incidents/facts-demo/facts/${other.factId}/retraction`, { reason: 'Again' });
      expect(again.status).toBe(409);
      const correction = await api.patch(`/v1/incidents/facts-demo/facts/${other.factId}`, {
        summary: 'z',
        reason: 'r',
      });
      expect(correction.status).toBe(409);
    });
  });

  describe('status', () => {
    it('follows the state machine and keeps a status history with effective and recorded times', async () => {
      await open('status-demo', { effectiveAt: '2023-06-16T00:00:00Z' });
      const contained = await api.post('/v1/incidents/status-demo/status', {
        status: 'contained',
        effectiveAt: '2023-07-11T00:00:00Z',
        reason: 'Key revoked',
      });
      expect(contained.status).toBe(200);
      expect(contained.body).toMatchObject({ id: 'status-demo', status: 'contained', version: 1 });
      const history = await api.get(`/v1/incidents/status-demo/status-history?minPosition=${contained.body.position}`);
      expect(history.body.items).toEqual([
        expect.objectContaining({ from: null, to: 'detected', effectiveAt: '2023-06-16T00:00:00.000Z' }),
        expect.objectContaining({
          from: 'detected',
          to: 'contained',
          effectiveAt: '2023-07-11T00:00:00.000Z',
          reason: 'Key revoked',
        }),
      ]);
      expect(history.body.items[1].recordedAt > '2026').toBe(true);
    });

    it('refuses an illegal transition with 409 and the allowed targets', async () => {
      await open('status-illegal', { status: 'investigating' });
      const response = await api.post('/v1/incidents/status-illegal/status', { status: 'detected' });
      expect(response.status).toBe(409);
      expect(response.body).toMatchObject({
        rule: 'illegal-transition',
        from: 'investigating',
        allowed: ['contained', 'resolved'],
      });
      const same = await api.post('/v1/incidents/status-illegal/status', { status: 'investigating' });
      expect(same.status).toBe(409);
    });

    it('refuses a change that would take effect before the current status', async () => {
      await open('status-order', { effectiveAt: '2023-06-16T00:00:00Z' });
      const response = await api.post('/v1/incidents/status-order/status', {
        status: 'resolved',
        effectiveAt: '2023-01-01T00:00:00Z',
      });
      expect(response.status).toBe(409);
      expect(response.body.errors[0].field).toBe('effectiveAt');
    });
  });

  describe('impact and links', () => {
    it('assesses impact', async () => {
      await open('impact-demo');
      const response = await api.put('/v1/incidents/impact-demo/impact', { organisations: 25, lossUsd: 0 });
      expect(response.status).toBe(200);
      const record = await api.get(`/v1/incidents/impact-demo?minPosition=${response.body.position}`);
      expect(record.body.impact).toEqual({ organisations: 25, lossUsd: 0 });
      expect((await api.put('/v1/incidents/impact-demo/impact', { records: -1 })).status).toBe(400);
    });

    it('links to an existing incident once; a missing target is 400, a repeat is 409', async () => {
      await open('link-a');
      await open('link-b');
      const response = await api.post('/v1/incidents/link-a/links', { incidentId: 'link-b', relation: 'same-actor' });
      expect(response.status).toBe(201);
      expect(
        (await api.post('/v1/incidents/link-a/links', { incidentId: 'link-b', relation: 'same-actor' })).status,
      ).toBe(409);
      const missing = await api.post('/v1/incidents/link-a/links', { incidentId: 'link-nowhere', relation: 'related' });
      expect(missing.status).toBe(400);
      expect(missing.body.errors[0].field).toBe('incidentId');
    });
  });

  describe('conditional and idempotent commands', () => {
    it('applies a command whose If-Match names the current version, and refuses a stale one with 412', async () => {
      await open('if-match');
      const ok = await api.patch('/v1/incidents/if-match', { title: 'One' }, { headers: { 'If-Match': '"0"' } });
      expect(ok.status).toBe(200);
      const before = await headPosition();
      const stale = await api.patch('/v1/incidents/if-match', { title: 'Two' }, { headers: { 'If-Match': '"0"' } });
      expect(stale.status).toBe(412);
      expect(stale.body).toMatchObject({ currentVersion: 1 });
      expect(stale.headers.get('etag')).toBe('"1"');
      expect(await headPosition()).toBe(before);
      const malformed = await api.patch(
        '/v1/incidents/if-match',
        { title: 'Two' },
        { headers: { 'If-Match': 'version 1' } },
      );
      expect(malformed.status).toBe(400);
    });

    it('lets exactly one of 20 parallel commands with the same If-Match succeed; 19 get 412', async () => {
      await open('if-match-race');
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          api.post(
            '/v1/incidents/if-match-race/facts',
            { kind: 'other', occurredAt: '2023', summary: `fact ${i}` },
            { headers: { 'If-Match': '"0"' } },
          ),
        ),
      );
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 412)).toHaveLength(19);
      const history = await api.get('/v1/incidents/if-match-race/history');
      expect(history.body.items).toHaveLength(2);
    });

    it('replays the first response for a retried Idempotency-Key and appends nothing', async () => {
      await open('idempotent');
      const body = { kind: 'notification', occurredAt: '2023-06-16', summary: 'State notifies the vendor' };
      const headers = { 'Idempotency-Key': 'notify-2023-06-16' };
      const first = await api.post('/v1/incidents/idempotent/facts', body, { headers });
      expect(first.status).toBe(201);
      const before = await headPosition();
      const again = await api.post(
        '/v1/incidents/idempotent/facts',
        { summary: body.summary, occurredAt: body.occurredAt, kind: body.kind },
        { headers },
      );
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await headPosition()).toBe(before);
    });

    it('refuses the same Idempotency-Key with another body (422), appending nothing', async () => {
      await open('idempotent-reuse');
      const headers = { 'Idempotency-Key': 'reused-key' };
      expect(
        (
          await api.post(
            '/v1/incidents/idempotent-reuse/facts',
            { kind: 'other', occurredAt: '2023', summary: 'a' },
            { headers },
          )
        ).status,
      ).toBe(201);
      const before = await headPosition();
      const other = await api.post(
        '/v1/incidents/idempotent-reuse/facts',
        { kind: 'other', occurredAt: '2023', summary: 'b' },
        { headers },
      );
      expect(other.status).toBe(422);
      expect(other.contentType).toContain(PROBLEM);
      const elsewhere = await api.patch('/v1/incidents/open-basic', { title: 'c' }, { headers });
      expect(elsewhere.status).toBe(422);
      expect(await headPosition()).toBe(before);
    });

    it('gives concurrent retries of one idempotent command a single append', async () => {
      await open('idempotent-race');
      const headers = { 'Idempotency-Key': 'race-key' };
      const body = { kind: 'other', occurredAt: '2023', summary: 'once' };
      const responses = await Promise.all(
        Array.from({ length: 8 }, () => api.post('/v1/incidents/idempotent-race/facts', body, { headers })),
      );
      expect(new Set(responses.map((r) => r.status))).toEqual(new Set([201]));
      expect(new Set(responses.map((r) => r.body.factId)).size).toBe(1);
      expect((await api.get('/v1/incidents/idempotent-race/history')).body.items).toHaveLength(2);
    });
  });

  describe('transport errors', () => {
    it('is 415 for a body that is not JSON', async () => {
      const response = await api.post('/v1/incidents', undefined, {
        raw: 'id=x',
        headers: { 'content-type': 'text/plain' },
      });
      expect(response.status).toBe(415);
      expect(response.contentType).toContain(PROBLEM);
    });

    it('is 413 for a body over 64 KiB', async () => {
      const response = await api.post('/v1/incidents', {
        id: 'big-body',
        title: 'x'.repeat(70 * 1024),
        category: 'other',
      });
      expect(response.status).toBe(413);
      expect(response.contentType).toContain(PROBLEM);
    });

    it('is 400 for malformed JSON', async () => {
      const response = await api.post('/v1/incidents', undefined, {
        raw: '{"id": ',
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: 'body', message: 'must be valid JSON' }]);
    });

    it('answers a request the HTTP parser refuses (control character in a header) with a 400 problem', async () => {
      const { port } = new URL(app.baseUrl);
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write('GET /v1/incidents HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n');
        });
        let text = '';
        socket.on('data', (chunk) => (text += chunk.toString('utf8')));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(reply).toMatch(/^HTTP\/1.1 400 /);
      expect(reply).toContain('Content-Type: application/problem+json');
      expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toMatchObject({
        status: 400,
        errors: [{ field: 'request' }],
      });
    });

    it('is a 404 problem for an unknown route', async () => {
      const response = await api.get('/v1/nothing-here');
      expect(response.status).toBe(404);
      expect(response.contentType).toContain(PROBLEM);
    });

    it('echoes a given correlation id and records it in the event metadata', async () => {
      const response = await api.post(
        '/v1/incidents',
        { id: 'correlated', title: 'c', category: 'other' },
        { headers: { 'X-Correlation-Id': 'trace-123' } },
      );
      expect(response.headers.get('x-correlation-id')).toBe('trace-123');
      const history = await api.get('/v1/incidents/correlated/history');
      expect(history.body.items[0].correlationId).toBe('trace-123');
    });
  });

  describe('queries', () => {
    it('lists incidents with filters, text search and cursor paging', async () => {
      for (const id of ['list-a', 'list-b', 'list-c'])
        await open(id, { category: 'ransomware', summary: `needle ${id}` });
      const head = await headPosition();
      const first = await api.get(`/v1/incidents?category=ransomware&limit=2&minPosition=${head}`);
      expect(first.status).toBe(200);
      expect(first.body.items.map((i: { id: string }) => i.id)).toEqual(['list-c', 'list-b']);
      expect(first.body.items[0]).toEqual({
        id: 'list-c',
        title: 'Incident list-c',
        category: 'ransomware',
        status: 'detected',
        updatedAt: expect.any(String),
        version: 0,
      });
      const second = await api.get(`/v1/incidents?category=ransomware&limit=2&cursor=${first.body.next}`);
      expect(second.body).toEqual({ items: [expect.objectContaining({ id: 'list-a' })], next: null });
      const search = await api.get('/v1/incidents?q=NEEDLE%20LIST-B');
      expect(search.body.items.map((i: { id: string }) => i.id)).toEqual(['list-b']);
      expect((await api.get('/v1/incidents?limit=201')).status).toBe(400);
      expect((await api.get('/v1/incidents?cursor=bm90LWEtY3Vyc29y')).status).toBe(400);
      expect((await api.get('/v1/incidents?colour=red')).status).toBe(400);
    });

    it('pages the history and the global log', async () => {
      const history = await api.get('/v1/incidents/facts-demo/history?limit=1');
      expect(history.body.items).toHaveLength(1);
      expect(history.body.next).toBe(0);
      const rest = await api.get('/v1/incidents/facts-demo/history?after=0&limit=200');
      expect(rest.body.items[0].version).toBe(1);
      // Positions strictly increase; they need not be dense (PostgreSQL derives them from transaction ids).
      const events = await api.get('/v1/events?limit=3');
      const positions = events.body.items.map((e: { position: number }) => e.position);
      expect(positions).toHaveLength(3);
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
      expect(new Set(positions).size).toBe(3);
      expect(events.body.next).toBe(positions[2]);
      const after = await api.get(`/v1/events?after=${events.body.next}&limit=1`);
      expect(after.body.items[0].position).toBeGreaterThan(positions[2]);
      const all = await api.get('/v1/events?limit=4');
      expect(after.body.items[0].position).toBe(all.body.items[3].position);
      expect((await api.get('/v1/incidents/no-such-incident/history')).status).toBe(404);
    });

    it('is 400 when minPosition is beyond the end of the log (no command returned it)', async () => {
      const response = await api.get(`/v1/incidents/open-basic?minPosition=${(await headPosition()) + 1000}`);
      expect(response.status).toBe(400);
      expect(response.contentType).toContain(PROBLEM);
      expect(response.body.errors).toEqual([expect.objectContaining({ field: 'minPosition' })]);
    });
  });

  describe('point-in-time views', () => {
    it('asOf shows the record as it was recorded then, and 404 before it existed', async () => {
      const opened = await open('as-of', { title: 'First title' });
      const before = new Date(Date.now() - 60_000).toISOString();
      const { body: first } = await api.get(`/v1/incidents/as-of?minPosition=${opened.body.position}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await api.patch('/v1/incidents/as-of', { title: 'Second title' });
      expect((await api.get(`/v1/incidents/as-of?asOf=${first.updatedAt}`)).body.title).toBe('First title');
      expect((await api.get(`/v1/incidents/as-of?asOf=${new Date().toISOString()}`)).body.title).toBe('Second title');
      expect((await api.get(`/v1/incidents/as-of?asOf=${before}`)).status).toBe(404);
      expect((await api.get('/v1/incidents/as-of?asOf=yesterday')).status).toBe(400);
    });

    it('knownAt shows only what had been asserted publicly by then', async () => {
      await open('known-at', { assertedAt: '2023-07-11' });
      const { factId } = await recordFact('known-at', {
        occurredAt: '2021~',
        summary: 'Crash dump held the key',
        confidence: 'likely',
        sources: [{ url: 'https://example.org/2023', publishedAt: '2023-09-06' }],
      });
      await recordFact('known-at', { occurredAt: '2024-04', summary: 'Review published', assertedAt: '2024-04-02' });
      await api.patch(`/v1/incidents/known-at/facts/${factId}`, {
        confidence: 'disputed',
        reason: 'No dump found',
        assertedAt: '2024-03-12',
      });
      const early = await api.get('/v1/incidents/known-at/timeline?knownAt=2023-10-01');
      expect(early.body.items).toEqual([expect.objectContaining({ factId, confidence: 'likely', corrected: false })]);
      const late = await api.get('/v1/incidents/known-at/timeline?knownAt=2024-06-01');
      expect(late.body.items.map((f: { confidence: string }) => f.confidence)).toEqual(['disputed', 'confirmed']);
      expect((await api.get('/v1/incidents/known-at/timeline?knownAt=2023-02-30')).status).toBe(400);
    });

    it('validAt shows facts that had occurred by then, marking a straddling fact unsettled, and the status in effect', async () => {
      await open('valid-at', { effectiveAt: '2023-05-01T00:00:00Z' });
      await recordFact('valid-at', { occurredAt: '2023-05-15', summary: 'Tokens forged' });
      await recordFact('valid-at', { occurredAt: '2023-05/2023-07', summary: 'Mail read over weeks' });
      await recordFact('valid-at', { occurredAt: '2023-08-01', summary: 'Later' });
      const contained = await api.post('/v1/incidents/valid-at/status', {
        status: 'contained',
        effectiveAt: '2023-07-01T00:00:00Z',
      });
      const view = await api.get(`/v1/incidents/valid-at?validAt=2023-06-15&minPosition=${contained.body.position}`);
      expect(view.body.status).toBe('detected');
      expect(view.body.timeline.map((f: { summary: string; settled: boolean }) => [f.summary, f.settled])).toEqual([
        ['Mail read over weeks', false],
        ['Tokens forged', true],
      ]);
      expect((await api.get('/v1/incidents/valid-at?validAt=2023-07-02')).body.status).toBe('contained');
      const list = await api.get('/v1/incidents?validAt=2023-06-15&status=detected');
      expect(list.body.items.map((i: { id: string }) => i.id)).toContain('valid-at');
      const listLater = await api.get('/v1/incidents?validAt=2023-07-02&status=detected');
      expect(listLater.body.items.map((i: { id: string }) => i.id)).not.toContain('valid-at');
    });
  });

  describe('operations', () => {
    it('serves liveness, readiness, metrics and the OpenAPI document', async () => {
      expect((await api.get('/health/live')).body).toEqual({ status: 'ok' });
      const ready = await api.get('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.checks.eventStore.ok).toBe(true);
      // The only process on its store projects, whether or not a lock elects it.
      expect(ready.body.checks.projections).toMatchObject({ ok: true, projector: true });
      const metrics = await api.get('/metrics');
      expect(metrics.body).toContain('incident_events_appended_total');
      expect(metrics.body).toContain('projection_lag_events');
      expect(metrics.body).toContain('http_request_duration_seconds_bucket');
      const docs = await api.get('/docs/json');
      expect(Object.keys(docs.body.paths)).toEqual(
        expect.arrayContaining([
          '/v1/incidents',
          '/v1/incidents/{id}/facts/{factId}/retraction',
          '/v1/events',
          '/health/ready',
        ]),
      );
    });

    it('rebuilds read models equal to the incrementally built ones', async () => {
      const head = await headPosition();
      await api.get(`/v1/incidents/open-basic?minPosition=${head}`);
      const incremental = await app.app.get<ReadModelStore>(READ_MODELS).dump();
      const dir = mkdtempSync(join(tmpdir(), 'rebuild-'));
      const rebuilt = new SqliteReadModelStore(join(dir, 'read-models.db'));
      try {
        await rebuildReadModels(app.app.get<EventStore>(EVENT_STORE), rebuilt, { pageSize: 7 });
        expect(JSON.parse(JSON.stringify(await rebuilt.dump()))).toEqual(JSON.parse(JSON.stringify(incremental)));
        expect(incremental.length).toBeGreaterThan(20);
      } finally {
        await rebuilt.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
