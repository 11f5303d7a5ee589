import SwaggerParser from '@apidevtools/swagger-parser';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp, type TestApp } from '@app/testing';
import { servedRoutes } from './support/served-routes';

const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

type Operation = {
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { schema?: unknown }>; headers?: Record<string, unknown> }>;
};

function operations(document: any): [string, string, Operation][] {
  return Object.entries(document.paths as Record<string, Record<string, Operation>>).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method): [string, string, Operation] => [method, path, item[method]]),
  );
}

describe('OpenAPI document (/docs/json)', () => {
  let app: TestApp;
  let document: any;

  beforeAll(async () => {
    app = await startTestApp();
    const response = await fetch(`${app.baseUrl}/docs/json`);
    expect(response.status).toBe(200);
    document = await response.json();
  });

  afterAll(async () => {
    await app.close();
  });

  it('is a valid OpenAPI document (swagger-parser)', async () => {
    await expect(SwaggerParser.validate(structuredClone(document))).resolves.toBeDefined();
  });

  it('passes Redocly lint with the recommended rules, without errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(document));
      const output = await new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
        execFile(
          process.execPath,
          [require.resolve('@redocly/cli/bin/cli.js'), 'lint', file, '--extends=recommended', '--format=json'],
          { cwd: dir, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } },
          (error, stdout, stderr) =>
            done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
      const report = JSON.parse(output.stdout) as { problems: { severity: string; ruleId: string; message: string }[] };
      const errors = report.problems.filter((problem) => problem.severity === 'error');
      expect(errors.map((problem) => `${problem.ruleId}: ${problem.message}`)).toEqual([]);
      expect(output.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The linter is a CLI of its own, started cold.
  }, 120_000);

  it('documents every route the router serves, and serves every route it documents', () => {
    const documented = operations(document).map(([method, path]) => `${method} ${path}`);
    expect(documented.sort()).toEqual(servedRoutes(app).sort());
  });

  it('gives every success a schema, and every error the shared Problem as application/problem+json', () => {
    expect(Object.keys(document.components.schemas.Problem.properties)).toEqual(
      expect.arrayContaining(['type', 'title', 'status', 'detail', 'instance', 'errors']),
    );
    const missing: string[] = [];
    for (const [method, path, operation] of operations(document)) {
      const statuses = Object.keys(operation.responses);
      if (!statuses.some((status) => status.startsWith('2'))) missing.push(`${method} ${path}: no 2xx`);
      for (const status of statuses) {
        const response = operation.responses[status] as any;
        if (response.$ref) continue;
        const content = response.content ?? {};
        if (status.startsWith('2') && Object.values(content).every((media: any) => media.schema === undefined)) {
          missing.push(`${method} ${path} ${status}: no schema`);
        }
        if (/^[45]/.test(status) && !(path === '/health/ready' && status === '503')) {
          const problem = content['application/problem+json']?.schema?.$ref;
          if (problem !== '#/components/schemas/Problem') missing.push(`${method} ${path} ${status}: not a Problem`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('documents the errors each kind of route can return', () => {
    const statuses = (method: string, path: string) => Object.keys(document.paths[path][method].responses).sort();
    expect(statuses('post', '/v1/incidents/{id}/facts')).toEqual(
      ['201', '400', '401', '403', '404', '409', '412', '413', '415', '422', '429', '503'].sort(),
    );
    expect(statuses('get', '/v1/incidents/{id}')).toEqual(['200', '400', '401', '403', '404', '429', '503'].sort());
    expect(document.paths['/v1/incidents/{id}/facts'].post.responses['429'].headers['Retry-After']).toBeDefined();
    expect(document.paths['/v1/incidents/{id}/facts'].post.responses['412'].headers.ETag).toBeDefined();
  });

  it('documents the ETag, Location, Idempotent-Replayed and Link headers where they are sent', () => {
    const created = document.paths['/v1/incidents'].post.responses['201'].headers;
    expect(Object.keys(created).sort()).toEqual(['ETag', 'Idempotent-Replayed', 'Location']);
    expect(document.paths['/v1/incidents/{id}'].patch.responses['200'].headers.ETag).toBeDefined();
    expect(document.paths['/v1/incidents/{id}'].get.responses['200'].headers.ETag).toBeDefined();
    expect(document.paths['/v1/incidents'].get.responses['200'].headers.Link).toBeDefined();
    expect(document.paths['/v1/events'].get.responses['200'].headers.Link).toBeDefined();
  });

  it('describes the SSE feeds as text/event-stream and the exports by media type', () => {
    for (const path of ['/v1/feeds/status-changes', '/v1/feeds/events']) {
      expect(Object.keys(document.paths[path].get.responses['200'].content)).toEqual(['text/event-stream']);
    }
    expect(Object.keys(document.paths['/v1/incidents/{id}/export'].get.responses['200'].content).sort()).toEqual([
      'application/stix+json;version=2.1',
      'text/csv; charset=utf-8',
      'text/markdown; charset=utf-8',
    ]);
  });

  it('asks for a bearer token everywhere but the public routes, which say `security: []`; it names its servers', () => {
    expect(document.security).toEqual([{ bearer: [] }]);
    const open = operations(document)
      .filter(([, , operation]) => Array.isArray(operation.security) && operation.security.length === 0)
      .map(([method, path]) => `${method} ${path}`);
    expect(open.sort()).toEqual(
      ['get /docs', 'get /docs/json', 'get /docs/yaml', 'get /health/live', 'get /health/ready', 'get /metrics'].sort(),
    );
    expect(document.servers.map((server: { url: string }) => server.url)).toEqual(['/', 'http://127.0.0.1:3000']);
  });
});
