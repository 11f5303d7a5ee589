import { createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { localIssuerFiles, mintLocalToken } from '@app/auth';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { ApiClient, LogCapture, startTestApp, type ApiResponse, type TestApp } from '@app/testing';

/**
 * Drives the service through successes, refusals and a forced internal error with real tokens, then looks for those
 * tokens and for the local issuer's private key in everything the process said: its logs, anything written to
 * stdout/stderr, every response body and header, and a process.report diagnostic report.
 */
describe('secrets stay secret (e2e)', () => {
  const logs = new LogCapture();
  const written: string[] = [];
  const responses: string[] = [];
  let app: TestApp;
  let tokens: string[];
  let api: ApiClient;

  beforeAll(async () => {
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
      jest.spyOn(stream, 'write').mockImplementation((chunk: unknown, ...rest: unknown[]) => {
        written.push(String(chunk));
        return original(chunk, ...rest);
      });
    }
    app = await startTestApp({ logger: logs.logger });
    const reader = await app.token(['incidents:read'], 'reader');
    const expired = await mintLocalToken({
      dataDir: app.dataDir,
      audience: app.config.auth.audience,
      sub: 'late',
      scopes: ['incidents:read'],
      ttlSeconds: 60,
      now: () => Date.now() - 3600_000,
    });
    tokens = [app.adminToken, reader, expired];
    api = new ApiClient(app.baseUrl, app.adminToken);
  });

  afterAll(async () => {
    await app.close();
    jest.restoreAllMocks();
  });

  function keep(response: ApiResponse): ApiResponse {
    const headers = [...response.headers.entries()].map(([name, value]) => `${name}: ${value}`).join('\n');
    responses.push(`${response.status}\n${headers}\n${JSON.stringify(response.body)}`);
    return response;
  }

  it('drives successes, refusals and a forced internal error', async () => {
    const [admin, reader, expired] = tokens;
    const as = (token: string) => new ApiClient(app.baseUrl, token);
    expect(keep(await api.post('/v1/incidents', { id: 'secret-test', title: 'T', category: 'other' })).status).toBe(
      201,
    );
    expect(keep(await as(reader).get('/v1/incidents/secret-test/history')).status).toBe(200);
    expect(keep(await as(reader).post('/v1/incidents/secret-test/status', { status: 'resolved' })).status).toBe(403);
    expect(keep(await as(expired).get('/v1/incidents')).status).toBe(401);
    expect(keep(await as(`${admin.slice(0, -4)}AAAA`).get('/v1/incidents')).status).toBe(401);
    expect(keep(await api.get('/v1/incidents', { headers: { authorization: `Basic ${admin}` } })).status).toBe(401);
    // Tokens where they do not belong: in the path, the query, a correlation id.
    expect(keep(await api.get(`/v1/incidents/${admin}`)).status).toBe(400);
    expect(keep(await api.get(`/v1/incidents?access_token=${admin}`)).status).toBe(400);
    keep(await api.get('/v1/events', { headers: { 'x-correlation-id': admin } }));
    expect(
      keep(await api.post('/v1/incidents', undefined, { raw: admin, headers: { 'content-type': 'application/json' } }))
        .status,
    ).toBe(400);
    expect(
      keep(await api.post('/v1/incidents', undefined, { raw: admin, headers: { 'content-type': 'text/plain' } }))
        .status,
    ).toBe(415);

    // A failure inside the service while it holds a verified token.
    const store = app.app.get<EventStore>(EVENT_STORE);
    jest.spyOn(store, 'readStream').mockRejectedValueOnce(new Error('the disk went away'));
    const failed = keep(await api.get('/v1/incidents/secret-test/history'));
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({
      type: 'urn:incident-timeline:problem:internal-error',
      title: 'Internal error',
      status: 500,
      detail: 'The request could not be completed',
      instance: '/v1/incidents/secret-test/history',
    });
    expect(logs.records.some((record) => record.level === 'error')).toBe(true);
  });

  it('finds no token and no private key material in logs, output, responses or a diagnostic report', () => {
    const report = JSON.stringify(process.report.getReport());
    const pem = readFileSync(localIssuerFiles(app.dataDir).privateKey, 'utf8');
    const privateJwk = createPrivateKey(pem).export({ format: 'jwk' });
    const pemBody = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    const secrets = [
      ...tokens,
      ...tokens.map((token) => token.split('.')[2]),
      pemBody,
      pemBody.slice(20, 60),
      privateJwk.d as string,
      'PRIVATE KEY',
    ];
    const places: [string, string][] = [
      ['logs', logs.lines.join('\n')],
      ['stdout/stderr', written.join('')],
      ['responses', responses.join('\n')],
      ['process.report', report],
    ];
    expect(logs.lines.length).toBeGreaterThan(10);
    expect(responses.length).toBeGreaterThan(10);
    for (const [place, text] of places) {
      for (const secret of secrets) {
        if (text.includes(secret)) throw new Error(`a secret (${secret.slice(0, 6)}...) appears in ${place}`);
      }
    }
  });

  it('keeps the local issuer key in a 0600 file under DATA_DIR/keys', () => {
    const files = localIssuerFiles(app.dataDir);
    expect(statSync(files.privateKey).mode & 0o777).toBe(0o600);
    expect(statSync(files.jwks).mode & 0o777).toBe(0o600);
    expect(statSync(files.dir).mode & 0o777).toBe(0o700);
    const jwks = JSON.parse(readFileSync(files.jwks, 'utf8'));
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });
});

describe('the audit log (e2e)', () => {
  const logs = new LogCapture();
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ logger: logs.logger });
  });

  afterAll(async () => {
    await app.close();
  });

  const audit = (response: ApiResponse) => {
    const correlationId = response.headers.get('x-correlation-id');
    const lines = logs.records.filter((record) => record.context === 'Audit' && record.correlationId === correlationId);
    expect(lines).toHaveLength(1);
    return lines[0];
  };

  it('writes one line per request with who, what, target, outcome and correlation id', async () => {
    const alice = new ApiClient(app.baseUrl, await app.token(['incidents:read', 'incidents:write'], 'alice'));
    const opened = await alice.post('/v1/incidents', { id: 'audited', title: 'Audited', category: 'other' });
    expect(audit(opened)).toEqual({
      time: expect.any(String),
      level: 'info',
      context: 'Audit',
      msg: 'request',
      actor: { iss: 'urn:incident-timeline:local', sub: 'alice' },
      method: 'POST',
      route: '/v1/incidents',
      incidentId: 'audited',
      status: 201,
      outcome: 'completed',
      correlationId: opened.headers.get('x-correlation-id'),
      ms: expect.any(Number),
    });
    const fact = await alice.post('/v1/incidents/audited/facts', { kind: 'other', occurredAt: '2023', summary: 'x' });
    expect(audit(fact)).toMatchObject({ route: '/v1/incidents/:id/facts', incidentId: 'audited', status: 201 });
  });

  it('writes a line for refused requests too: no token, bad token, missing scope, bad media type, bad body, unknown route', async () => {
    const anonymous = new ApiClient(app.baseUrl);
    const reader = new ApiClient(app.baseUrl, await app.token(['incidents:read'], 'reader'));
    const admin = new ApiClient(app.baseUrl, app.adminToken);
    expect(audit(await anonymous.get('/v1/incidents/audited'))).toMatchObject({
      actor: 'anonymous',
      status: 401,
      incidentId: 'audited',
      authFailure: 'missing-token',
    });
    expect(audit(await anonymous.withToken('x.y.z').get('/v1/events'))).toMatchObject({
      actor: 'anonymous',
      status: 401,
      route: '/v1/events',
      authFailure: 'malformed-token',
    });
    expect(audit(await reader.post('/v1/incidents/audited/status', { status: 'resolved' }))).toMatchObject({
      actor: { sub: 'reader' },
      status: 403,
      route: '/v1/incidents/:id/status',
      incidentId: 'audited',
    });
    expect(
      audit(
        await admin.post('/v1/incidents/audited/facts', undefined, {
          raw: 'x',
          headers: { 'content-type': 'text/plain' },
        }),
      ),
    ).toMatchObject({ status: 415, method: 'POST', incidentId: 'audited' });
    expect(
      audit(
        await admin.post('/v1/incidents', undefined, { raw: '{', headers: { 'content-type': 'application/json' } }),
      ),
    ).toMatchObject({ status: 400 });
    expect(audit(await admin.get('/nowhere'))).toMatchObject({ status: 404, route: 'unmatched' });
    expect(audit(await anonymous.get('/health/live'))).toMatchObject({ actor: 'anonymous', status: 200 });
  });
});
