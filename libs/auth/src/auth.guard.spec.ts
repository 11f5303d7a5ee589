import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigModule, loadConfig, type AppConfig } from '@app/config';
import { AuthModule } from './auth.module';
import { Public, Scopes } from './decorators';
import { mintLocalToken } from './local-issuer';
import { SCOPES } from './scopes';

@Controller('v1/things')
class ThingsController {
  @Get('declared')
  @Scopes('incidents:read')
  declared() {
    return { ok: true };
  }

  @Get('forgotten')
  forgotten() {
    return { ok: true };
  }

  @Get('open')
  @Public()
  open() {
    return { ok: true };
  }
}

@Controller()
class OtherController {
  @Get('health/probe')
  probe() {
    return { ok: true };
  }

  @Get('elsewhere')
  elsewhere() {
    return { ok: true };
  }
}

describe('AuthGuard policy', () => {
  let app: INestApplication;
  let config: AppConfig;
  let dataDir: string;
  let baseUrl: string;
  let token: string;
  const warnings: unknown[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'auth-guard-'));
    config = loadConfig({ DATA_DIR: dataDir, RATE_LIMIT_PER_MINUTE: '0' });
    @Module({ imports: [ConfigModule.forRoot(config), AuthModule], controllers: [ThingsController, OtherController] })
    class TestModule {}
    app = await NestFactory.create(TestModule, {
      logger: { log() {}, error() {}, warn: (message: unknown) => warnings.push(message), debug() {}, verbose() {} },
    });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    token = await mintLocalToken({
      dataDir,
      audience: config.auth.audience,
      sub: 'dev',
      scopes: [...SCOPES],
      ttlSeconds: 60,
    });
  });

  afterAll(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const get = (path: string, bearer?: string) =>
    fetch(`${baseUrl}${path}`, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} }).then((r) => r.status);

  it('lets a declared route through with its scope', async () => {
    expect(await get('/v1/things/declared')).toBe(401);
    expect(await get('/v1/things/declared', token)).toBe(200);
  });

  it('refuses a /v1 route with neither @Scopes() nor @Public(), even to a token with every scope, and warns', async () => {
    expect(await get('/v1/things/forgotten')).toBe(401);
    expect(await get('/v1/things/forgotten', token)).toBe(403);
    expect(warnings).toContainEqual(expect.objectContaining({ route: '/v1/things/forgotten' }));
  });

  it('refuses an undecorated route outside /v1 as well, except under /health', async () => {
    expect(await get('/elsewhere', token)).toBe(403);
    expect(await get('/health/probe')).toBe(200);
  });

  it('opens a @Public() route to anyone', async () => {
    expect(await get('/v1/things/open')).toBe(200);
  });

  it('warns once per undeclared route, not once per request', async () => {
    await get('/v1/things/forgotten', token);
    await get('/v1/things/forgotten', token);
    const routes = warnings.map((warning) => (warning as { route?: string }).route);
    expect(routes.filter((route) => route === '/v1/things/forgotten')).toHaveLength(1);
    expect(routes.filter((route) => route === '/elsewhere')).toHaveLength(1);
  });
});
