import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { localIssuerFiles } from '@app/auth';
import { loadConfig } from '@app/config';
import { ApiClient, startTestApp } from '@app/testing';
import { tokenCommand } from '../apps/cli/src/commands/token.command';

async function runToken(dataDir: string, args: string[], env: Record<string, string> = {}) {
  const out = { stdout: '', stderr: '' };
  const code = await tokenCommand(loadConfig({ DATA_DIR: dataDir, ...env }), args, {
    stdout: (text) => (out.stdout += text),
    stderr: (text) => (out.stderr += text),
  });
  return { code, ...out };
}

describe('zero-configuration local issuer and the token command (e2e)', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'local-issuer-'));
  });

  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints a token and nothing else on stdout; the service accepts it and records the actor', async () => {
    const app = await startTestApp({ dataDir });
    try {
      const result = await runToken(dataDir, [
        '--scopes',
        'incidents:read,incidents:write',
        '--sub',
        'alice',
        '--ttl',
        '1h',
      ]);
      expect(result).toEqual({ code: 0, stdout: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+\n$/), stderr: '' });
      const token = result.stdout.trim();
      expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
      const claims = decodeJwt(token);
      expect(claims).toMatchObject({
        iss: 'urn:incident-timeline:local',
        sub: 'alice',
        aud: 'incident-timeline',
        scope: 'incidents:read incidents:write',
      });
      expect(claims.exp! - claims.iat!).toBe(3600);

      const alice = new ApiClient(app.baseUrl, token);
      const opened = await alice.post(
        '/v1/incidents',
        { id: 'alice-opens', title: 'T', category: 'other' },
        {
          headers: { 'x-correlation-id': 'tour-1' },
        },
      );
      expect(opened.status).toBe(201);
      const history = await alice.get('/v1/incidents/alice-opens/history');
      expect(history.body.items[0]).toMatchObject({
        actor: { iss: 'urn:incident-timeline:local', sub: 'alice' },
        correlationId: 'tour-1',
      });
      const events = await alice.get('/v1/events');
      expect(events.body.items.at(-1)).toMatchObject({
        actor: { iss: 'urn:incident-timeline:local', sub: 'alice' },
        correlationId: 'tour-1',
      });
    } finally {
      await app.close();
    }
  });

  it('makes the key pair when the token command runs first, and the service then trusts it, across restarts', async () => {
    const result = await runToken(dataDir, ['--scopes=incidents:read', '--sub=bob']);
    expect(result.code).toBe(0);
    expect(existsSync(localIssuerFiles(dataDir).privateKey)).toBe(true);
    for (let start = 0; start < 2; start += 1) {
      const app = await startTestApp({ dataDir });
      try {
        expect((await new ApiClient(app.baseUrl, result.stdout.trim()).get('/v1/events')).status).toBe(200);
      } finally {
        await app.close();
      }
    }
  });

  it.each([
    [['--sub', 'alice'], /--scopes is required/],
    [['--scopes', 'incidents:read'], /--sub is required/],
    [['--scopes', 'incidents:everything', '--sub', 'alice'], /unknown scope: incidents:everything/],
    [['--scopes', 'incidents:read', '--sub', 'alice', '--ttl', '2days'], /--ttl must be a duration/],
    [['--scopes', 'incidents:read', '--sub', 'alice', '--ttl', '25h'], /--ttl must be at most 24h/],
    [['--scopes', 'incidents:read', '--sub', 'alice', '--verbose'], /unknown argument: --verbose/],
  ])('refuses %j with a message on stderr and nothing on stdout', async (args, message) => {
    const result = await runToken(dataDir, args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });

  it('says so when the local issuer is turned off', async () => {
    const result = await runToken(dataDir, ['--scopes', 'incidents:read', '--sub', 'alice'], {
      AUTH_LOCAL_ISSUER: 'false',
      AUTH_ISSUERS_FILE: '/dev/null',
    });
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toMatch(/AUTH_LOCAL_ISSUER=false/);
  });
});

describe('AUTH=off on loopback (e2e)', () => {
  it('serves /v1 without a token, records the auth-off principal and makes no keys', async () => {
    const app = await startTestApp({ env: { AUTH: 'off' } });
    try {
      const anonymous = new ApiClient(app.baseUrl);
      expect((await anonymous.post('/v1/incidents', { id: 'no-auth', title: 'T', category: 'other' })).status).toBe(
        201,
      );
      const history = await anonymous.get('/v1/incidents/no-auth/history');
      expect(history.body.items[0].actor).toEqual({ iss: 'urn:incident-timeline:auth-off', sub: 'local' });
      expect(existsSync(localIssuerFiles(app.dataDir).privateKey)).toBe(false);
    } finally {
      await app.close();
    }
  });
});
