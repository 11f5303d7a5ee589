import { ApiClient, startTestApp, type TestApp } from '@app/testing';

/**
 * The time model over HTTP, one case for each way the record used to leak from the future or refuse what users
 * meant (the examples of the issue that rewrote SPEC §3); each failed on the service before that rewrite.
 */
describe('time model (e2e)', () => {
  let app: TestApp;
  let api: ApiClient;

  beforeAll(async () => {
    app = await startTestApp();
    api = new ApiClient(app.baseUrl, app.adminToken);
  });

  afterAll(async () => {
    await app.close();
  });

  async function open(id: string, extra: Record<string, unknown> = {}) {
    const response = await api.post('/v1/incidents', { id, title: `Incident ${id}`, category: 'espionage', ...extra });
    expect(response.status).toBe(201);
    return response.body as { position: number };
  }

  async function fact(id: string, body: Record<string, unknown>) {
    const response = await api.post(`/v1/incidents/${id}/facts`, {
      kind: 'other',
      occurredAt: '2023',
      summary: 'x',
      ...body,
    });
    expect(response.status).toBe(201);
    return response.body as { factId: string; position: number };
  }

  it('an incident, its status and its impact are not known before they were asserted', async () => {
    await open('tm-hidden', { assertedAt: '2024-09-25', status: 'detected', effectiveAt: '2024-09-01' });
    await api.put('/v1/incidents/tm-hidden/impact', { organisations: 9, assertedAt: '2025-01-01' });
    const contained = await api.post('/v1/incidents/tm-hidden/status', {
      status: 'contained',
      effectiveAt: '2024-12-01',
      assertedAt: '2025-07-03',
    });
    expect(contained.status).toBe(200);
    expect((await api.get('/v1/incidents/tm-hidden?knownAt=2024-01-01')).status).toBe(404);
    const known = await api.get('/v1/incidents/tm-hidden?knownAt=2024-12-31');
    expect(known.body).toMatchObject({ status: 'detected', impact: {} });
    const later = await api.get(`/v1/incidents/tm-hidden?knownAt=2025-08-01&minPosition=${contained.body.position}`);
    expect(later.body).toMatchObject({ status: 'contained', impact: { organisations: 9 } });
    const list = await api.get('/v1/incidents?knownAt=2024-01-01&limit=200');
    expect(list.body.items.map((item: { id: string }) => item.id)).not.toContain('tm-hidden');
  });

  it('details and sources are as asserted by then: a summary and a source from 2024 do not show in 2023', async () => {
    await open('tm-details', { assertedAt: '2023-07-11', summary: 'Forged tokens read mail.' });
    const revised = await api.patch('/v1/incidents/tm-details', {
      summary: 'The Board found the intrusion preventable.',
      assertedAt: '2024-04-02',
      sources: [{ url: 'https://www.cisa.gov/csrb', publisher: 'CSRB', publishedAt: '2024-04-02' }],
    });
    expect(revised.status).toBe(200);
    const then = await api.get(`/v1/incidents/tm-details?knownAt=2023-08-01&minPosition=${revised.body.position}`);
    expect(then.body).toMatchObject({ summary: 'Forged tokens read mail.', sources: [] });
    const now = await api.get('/v1/incidents/tm-details');
    expect(now.body.summary).toBe('The Board found the intrusion preventable.');
    expect(now.body.sources.map((source: { url: string }) => source.url)).toEqual(['https://www.cisa.gov/csrb']);
  });

  it('a correction recorded today but asserted 2023-11-15 does not override one asserted 2024-03-12', async () => {
    await open('tm-order', { assertedAt: '2023-07-11' });
    const { factId } = await fact('tm-order', { kind: 'key-capture', confidence: 'likely', assertedAt: '2023-09-06' });
    await api.patch(`/v1/incidents/tm-order/facts/${factId}`, {
      confidence: 'possible',
      assertedAt: '2024-03-12',
      reason: 'No crash dump found',
    });
    const late = await api.patch(`/v1/incidents/tm-order/facts/${factId}`, {
      confidence: 'disputed',
      assertedAt: '2023-11-15',
      reason: 'Recorded late',
    });
    expect(late.status).toBe(200);
    const live = await api.get(`/v1/incidents/tm-order/timeline?minPosition=${late.body.position}`);
    expect(live.body.items[0]).toMatchObject({ confidence: 'possible', assertedAt: '2024-03-12T00:00:00.000Z' });
    const between = await api.get('/v1/incidents/tm-order/timeline?knownAt=2023-12-01');
    expect(between.body.items[0].confidence).toBe('disputed');
    const before = await api.patch(`/v1/incidents/tm-order/facts/${factId}`, {
      confidence: 'confirmed',
      assertedAt: '2023-01-01',
      reason: 'Too early',
    });
    expect(before.status).toBe(409);
    expect(before.body.rule).toBe('asserted-before-fact');
  });

  it('EDTF: approximate dates widen and never settle, seasons follow the northern hemisphere, open starts sort by their end', async () => {
    await open('tm-edtf', { assertedAt: '2020-01-01' });
    await fact('tm-edtf', { occurredAt: '2021-04~', summary: 'approximate' });
    await fact('tm-edtf', { occurredAt: '2023-22', summary: 'summer' });
    await fact('tm-edtf', { occurredAt: '2016', summary: 'old' });
    const last = await fact('tm-edtf', { occurredAt: '../2023-05', summary: 'open start' });
    const at = await api.get(`/v1/incidents/tm-edtf/timeline?validAt=2022-01-01&minPosition=${last.position}`);
    const approximate = at.body.items.find((item: { summary: string }) => item.summary === 'approximate');
    expect(approximate).toMatchObject({ settled: false, approximate: true });
    const early = await api.get('/v1/incidents/tm-edtf/timeline?validAt=2021-03-31');
    expect(early.body.items.map((item: { summary: string }) => item.summary)).toContain('approximate');
    const all = await api.get('/v1/incidents/tm-edtf/timeline');
    const summer = all.body.items.find((item: { summary: string }) => item.summary === 'summer');
    expect(summer.occurredInterval).toEqual({
      earliest: '2023-06-01T00:00:00.000Z',
      latest: '2023-08-31T23:59:59.999Z',
    });
    expect(all.body.items.map((item: { summary: string }) => item.summary)).toEqual([
      'old',
      'approximate',
      'open start',
      'summer',
    ]);
  });

  it('a status learned later is inserted in valid time; an insertion whose neighbours refuse it is 409 naming them', async () => {
    await open('tm-status', { status: 'detected', effectiveAt: '2023-06-16' });
    await api.post('/v1/incidents/tm-status/status', { status: 'contained', effectiveAt: '2023-07-11' });
    await api.post('/v1/incidents/tm-status/status', { status: 'resolved', effectiveAt: '2024-04-02' });
    const inserted = await api.post('/v1/incidents/tm-status/status', {
      status: 'investigating',
      effectiveAt: '2023-09-06',
    });
    expect(inserted.status).toBe(200);
    const history = await api.get(`/v1/incidents/tm-status/status-history?minPosition=${inserted.body.position}`);
    expect(history.body.items.map((period: { from: string | null; to: string }) => [period.from, period.to])).toEqual([
      [null, 'detected'],
      ['detected', 'contained'],
      ['contained', 'investigating'],
      ['investigating', 'resolved'],
    ]);
    expect((await api.get('/v1/incidents/tm-status?validAt=2023-10-01')).body.status).toBe('investigating');
    expect((await api.get('/v1/incidents/tm-status')).body.status).toBe('resolved');
    const refused = await api.post('/v1/incidents/tm-status/status', { status: 'detected', effectiveAt: '2023-08-01' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      rule: 'illegal-transition',
      before: { status: 'contained' },
      after: { status: 'investigating' },
    });
  });

  it('an erratum fixes our own typo at every knownAt from the original claim on; asOf and the history keep the record', async () => {
    await open('tm-erratum', { assertedAt: '2023-07-11' });
    const recorded = await fact('tm-erratum', { occurredAt: '2023-06-26', assertedAt: '2023-07-11' });
    const beforeErratum = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const erratum = await api.patch(`/v1/incidents/tm-erratum/facts/${recorded.factId}`, {
      occurredAt: '2023-06-16',
      erratum: true,
      reason: 'Copied the wrong day from the source',
    });
    expect(erratum.status).toBe(200);
    const then = await api.get(
      `/v1/incidents/tm-erratum/timeline?knownAt=2023-08-01&minPosition=${erratum.body.position}`,
    );
    expect(then.body.items[0]).toMatchObject({ occurredAt: '2023-06-16', amended: true, corrected: false });
    const asRecorded = await api.get(`/v1/incidents/tm-erratum/timeline?asOf=${beforeErratum}`);
    expect(asRecorded.body.items[0].occurredAt).toBe('2023-06-26');
    const history = await api.get('/v1/incidents/tm-erratum/history');
    expect(history.body.items.map((item: { type: string }) => item.type)).toContain('FactAmended');
  });

  it('accepts a calendar date wherever an instant is, and refuses year 10000 reached through an offset', async () => {
    await open('tm-dates', { effectiveAt: '2023-06-16' });
    const changed = await api.post('/v1/incidents/tm-dates/status', {
      status: 'investigating',
      effectiveAt: '2023-06-20',
    });
    expect(changed.status).toBe(200);
    const history = await api.get(`/v1/incidents/tm-dates/status-history?minPosition=${changed.body.position}`);
    expect(history.body.items.map((period: { effectiveAt: string }) => period.effectiveAt)).toEqual([
      '2023-06-16T00:00:00.000Z',
      '2023-06-20T00:00:00.000Z',
    ]);
    const far = await api.post('/v1/incidents/tm-dates/status', {
      status: 'contained',
      effectiveAt: '9999-12-31T23:59:59-23:59',
    });
    expect(far.status).toBe(400);
    expect(far.body.errors.map((error: { field: string }) => error.field)).toContain('effectiveAt');
  });

  it('the diff names what changed between two knownAt dates, and refuses from after to', async () => {
    await open('tm-diff', { assertedAt: '2023-07-11' });
    const { factId } = await fact('tm-diff', { kind: 'key-capture', confidence: 'likely', assertedAt: '2023-09-06' });
    await api.patch(`/v1/incidents/tm-diff/facts/${factId}`, {
      confidence: 'possible',
      assertedAt: '2024-03-12',
      reason: 'Update',
    });
    const review = await fact('tm-diff', { kind: 'review', occurredAt: '2024-04-02', assertedAt: '2024-04-02' });
    const diff = await api.get(
      `/v1/incidents/tm-diff/diff?from=2023-10-01&to=2024-06-01&minPosition=${review.position}`,
    );
    expect(diff.status).toBe(200);
    expect(diff.body.facts.added.map((added: { kind: string }) => added.kind)).toEqual(['review']);
    expect(diff.body.facts.changed[0].fields).toEqual([{ field: 'confidence', before: 'likely', after: 'possible' }]);
    const reversed = await api.get('/v1/incidents/tm-diff/diff?from=2024-06-01&to=2023-10-01');
    expect(reversed.status).toBe(400);
    expect(reversed.body.errors[0].field).toBe('from');
  });

  it('facts carry ATT&CK techniques, shown in views and filterable in the list (live and point in time)', async () => {
    await open('tm-technique', { assertedAt: '2023-07-11' });
    const forged = await fact('tm-technique', { kind: 'token-forgery', techniques: ['T1606.002'] });
    const timeline = await api.get(`/v1/incidents/tm-technique/timeline?minPosition=${forged.position}`);
    expect(timeline.body.items[0].techniques).toEqual(['T1606.002']);
    const ids = async (query: string) =>
      (await api.get(`/v1/incidents?limit=200&${query}`)).body.items.map((item: { id: string }) => item.id);
    expect(await ids('technique=T1606')).toContain('tm-technique');
    expect(await ids('technique=T1606.002&knownAt=2030-01-01')).toContain('tm-technique');
    expect(await ids('technique=T1078')).not.toContain('tm-technique');
    const bad = await api.get('/v1/incidents?technique=T16');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('technique');
    const refused = await api.post('/v1/incidents/tm-technique/facts', {
      kind: 'other',
      occurredAt: '2023',
      summary: 'x',
      techniques: ['phishing'],
    });
    expect(refused.status).toBe(400);
  });
});
