import { ApiClient, startTestApp, type TestApp } from '@app/testing';
import { SseClient } from './support/sse-client';

/**
 * An Idempotency-Key belongs to the principal that sent it. Principals whose subject and key, joined with a
 * separator, spell the same text (`alice|x` + `k1` and `alice` + `x|k1`; `alice:x` + `k1` and `alice` + `x:k1`) must
 * not replay each other's answers nor block each other's writes; and no reader sees another principal's keys, in the
 * history or in the feeds.
 */
describe('Idempotency-Key scope (e2e)', () => {
  let app: TestApp;
  let admin: ApiClient;

  beforeAll(async () => {
    app = await startTestApp();
    admin = new ApiClient(app.baseUrl, app.adminToken);
    expect((await admin.post('/v1/incidents', { id: 'idem-scope', title: 'Scope', category: 'other' })).status).toBe(
      201,
    );
  });

  afterAll(async () => {
    await app.close();
  });

  const fact = (summary: string) => ({ kind: 'other', occurredAt: '2024', summary });

  it.each([
    ['alice', 'x|k1', 'alice|x', 'k1'],
    ['bob', 'y:k2', 'bob:y', 'k2'],
  ])('keeps %s with key %s apart from %s with key %s', async (firstSub, firstKey, secondSub, secondKey) => {
    const first = admin.withToken(await app.token(['incidents:write', 'incidents:read'], firstSub));
    const second = admin.withToken(await app.token(['incidents:write', 'incidents:read'], secondSub));

    const written = await first.post('/v1/incidents/idem-scope/facts', fact(`by ${firstSub}`), {
      headers: { 'Idempotency-Key': firstKey },
    });
    expect(written.status).toBe(201);
    const other = await second.post('/v1/incidents/idem-scope/facts', fact(`by ${secondSub}`), {
      headers: { 'Idempotency-Key': secondKey },
    });
    expect(other.status).toBe(201);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(other.body.factId).not.toBe(written.body.factId);
    expect(other.body.position).toBeGreaterThan(written.body.position);

    const timeline = await admin.get(`/v1/incidents/idem-scope/timeline?minPosition=${other.body.position}`);
    const summaries = (timeline.body.items as Array<{ summary: string }>).map((f) => f.summary);
    expect(summaries).toEqual(expect.arrayContaining([`by ${firstSub}`, `by ${secondSub}`]));

    // Each still replays its own.
    const again = await second.post('/v1/incidents/idem-scope/facts', fact(`by ${secondSub}`), {
      headers: { 'Idempotency-Key': secondKey },
    });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.factId).toBe(other.body.factId);
  });

  it('shows no Idempotency-Key in the history or the feeds', async () => {
    const writer = admin.withToken(await app.token(['incidents:write'], 'carol'));
    const written = await writer.post('/v1/incidents/idem-scope/facts', fact('secret key'), {
      headers: { 'Idempotency-Key': 'carol-secret-key' },
    });
    expect(written.status).toBe(201);
    const history = await admin.get('/v1/incidents/idem-scope/history');
    expect(history.status).toBe(200);
    expect(JSON.stringify(history.body)).not.toContain('carol-secret-key');
    expect(JSON.stringify(history.body)).not.toContain('idempotencyKey');
    const events = await admin.get('/v1/events?after=0');
    expect(JSON.stringify(events.body)).not.toContain('carol-secret-key');

    const feed = await SseClient.connect(`${app.baseUrl}/v1/feeds/events?after=0`, app.adminToken);
    await feed.until(() => feed.ids.includes(written.body.position));
    await feed.close();
    expect(JSON.stringify(feed.events)).not.toContain('carol-secret-key');
    expect(JSON.stringify(feed.events)).not.toContain('idempotencyKey');
  });
});
