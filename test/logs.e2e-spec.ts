import { EVENT_STORE, type EventStore } from '@app/event-store';
import { ApiClient, LogCapture, startTestApp, type TestApp } from '@app/testing';

describe('logs of an unexpected failure (e2e)', () => {
  const logs = new LogCapture();
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ logger: logs.logger });
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await app.close();
  });

  it('logs a 500 with the error type, message and stack, and the correlation id; the caller learns nothing of it', async () => {
    const api = new ApiClient(app.baseUrl, app.adminToken);
    await api.post('/v1/incidents', { id: 'log-stack', title: 'Stack', category: 'other' });
    jest
      .spyOn(app.app.get<EventStore>(EVENT_STORE), 'readStream')
      .mockRejectedValueOnce(new RangeError('the disk went away'));
    const failed = await api.get('/v1/incidents/log-stack/history');
    expect(failed.status).toBe(500);
    expect(JSON.stringify(failed.body)).not.toMatch(/disk|RangeError|at /);
    const correlationId = failed.headers.get('x-correlation-id');
    const record = logs.records.find((line) => line.level === 'error' && line.correlationId === correlationId);
    expect(record).toMatchObject({
      msg: 'request failed',
      path: '/v1/incidents/log-stack/history',
      err: { type: 'RangeError', message: 'the disk went away' },
    });
    expect((record!.err as { stack: string }).stack).toMatch(/^RangeError: the disk went away\n\s+at /);
  });
});
