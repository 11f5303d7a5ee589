import { ApiClient, LogCapture, startTestApp, type TestApp } from '@app/testing';

/**
 * A `minPosition` the read models do not reach in time is the client's to retry, not a fault of the service: it
 * answers 503 with Retry-After, is counted in a metric and logged at debug, never as an error line per request.
 * This process runs no projection (PROJECTIONS=false), so its read models stay behind every write.
 */
describe('read-your-writes timeouts (e2e)', () => {
  let app: TestApp;
  let api: ApiClient;
  const logs = new LogCapture();

  beforeAll(async () => {
    app = await startTestApp({ env: { READ_MODEL_WAIT_MS: '100', PROJECTIONS: 'false' }, logger: logs.logger });
    api = new ApiClient(app.baseUrl, app.adminToken);
  });

  afterAll(async () => {
    await app.close();
  });

  it('answers 503, counts each in read_your_writes_timeouts_total and logs no error', async () => {
    const opened = await api.post('/v1/incidents', { id: 'written', title: 'Written', category: 'other' });
    expect(opened.status).toBe(201);
    for (const path of ['/v1/incidents', '/v1/incidents?status=detected', '/v1/incidents?category=other']) {
      const response = await api.get(`${path}${path.includes('?') ? '&' : '?'}minPosition=${opened.body.position}`);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).not.toBeNull();
    }
    const metrics = await api.get('/metrics');
    expect(metrics.body).toMatch(/^read_your_writes_timeouts_total 3$/m);
    expect(logs.records.filter((record) => record.level === 'error')).toEqual([]);
    expect(logs.records.filter((record) => record.msg === 'read models behind minPosition')).toHaveLength(3);
  });

  it('refuses at once (400) a minPosition beyond the end of the log: no command returned it', async () => {
    const response = await api.get('/v1/incidents?minPosition=999999999999');
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([expect.objectContaining({ field: 'minPosition' })]);
    expect((await api.get('/metrics')).body).toMatch(/^read_your_writes_timeouts_total 3$/m);
  });
});
