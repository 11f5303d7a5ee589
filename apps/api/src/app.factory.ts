import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, getSchemaPath, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { authEdge, serveBehindDocsGate } from '@app/auth';
import type { AppConfig } from '@app/config';
import { AppModule } from './app.module';
import { bodyErrorHandler, parseJson, requireJson, requireObjectBody } from './http/body.middleware';
import { correlationMiddleware } from './http/correlation.middleware';
import { inSequence } from './http/in-sequence';
import { securityHeaders } from './http/security-headers.middleware';
import { PROBLEM_CONTENT_TYPE, problem } from './http/problem';
import { ProblemFilter } from './http/problem.filter';
import { ProblemDto } from './http/problem.schema';
import { createValidationPipe } from './http/validation';

export interface CreateAppOptions {
  logger?: LoggerService | false;
}

/** Builds the HTTP application with every edge policy in place; `main.ts` and the e2e tests both use it. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    logger: options.logger ?? false,
    abortOnError: false,
  });
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(inSequence(securityHeaders, correlationMiddleware));
  allowCrossOrigin(app, config.corsOrigins);
  app.use(inSequence(...authEdge(app), requireJson, parseJson, bodyErrorHandler, requireObjectBody));
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemFilter());
  app.enableShutdownHooks();
  answerUnparsableRequests(app);
  setUpOpenApi(app, config);
  return app;
}

/**
 * CORS stays off unless origins are listed: then those origins (and only those) may call the API from a page, with the
 * headers commands and feeds use. Preflights are answered before authentication, which they never carry.
 */
function allowCrossOrigin(app: INestApplication, origins: string[]): void {
  if (origins.length === 0) return;
  app.enableCors({
    origin: origins,
    methods: ['GET', 'POST', 'PATCH', 'PUT'],
    allowedHeaders: ['Authorization', 'Content-Type', 'If-Match', 'Idempotency-Key', 'Last-Event-ID'],
    exposedHeaders: ['ETag', 'Location', 'Link', 'Retry-After', 'Idempotent-Replayed', 'Content-Disposition'],
    maxAge: 600,
  });
}

function setUpOpenApi(app: INestApplication, config: AppConfig): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Incident timeline service')
      .setDescription(
        'Event-sourced records of security incidents: immutable facts, corrections, point-in-time views ' +
          '(asOf = recorded time, knownAt = public knowledge time, validAt = world time). Errors are application/problem+json.',
      )
      .setVersion('1')
      .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
      .addServer('/', 'This service, wherever it is served')
      .addServer('http://127.0.0.1:3000', '`npm start` on its defaults')
      .addTag('incidents', 'Open incidents, record and correct facts, read records at any point in time, export them')
      .addTag('events', 'The global log, for replication and audit')
      .addTag('feeds', 'Server-Sent Events: status changes and every event, resumable')
      .addTag('health', 'Liveness, readiness and Prometheus metrics')
      .addTag('docs', 'This document')
      .addBearerAuth()
      .addSecurityRequirements('bearer')
      .build(),
  );
  documentTheDocuments(document, config);
  markPublicRoutes(document, config);
  problemsEverywhere(document);
  serveBehindDocsGate(app, () =>
    SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json', yamlDocumentUrl: 'docs/yaml' }),
  );
}

/**
 * Every error is a Problem: responses declared with a description only (the 401 and 403 of `@Scopes`) get the shared
 * schema too.
 */
function problemsEverywhere(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'patch', 'delete'] as const) {
      for (const [status, response] of Object.entries(item[method]?.responses ?? {})) {
        if (!/^[45]/.test(status) || !response || '$ref' in response || response.content !== undefined) continue;
        response.content = { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDto) } } };
      }
    }
  }
}

/** The routes that need no token say so with an empty security requirement. */
function markPublicRoutes(document: OpenAPIObject, config: AppConfig): void {
  const isPublic = (path: string) =>
    path.startsWith('/health/') ||
    (path === '/metrics' && config.auth.metricsPublic) ||
    (path.startsWith('/docs') && config.auth.docsPublic) ||
    !config.auth.enabled;
  for (const [path, item] of Object.entries(document.paths)) {
    if (!isPublic(path)) continue;
    for (const method of ['get', 'put', 'post', 'patch', 'delete'] as const) {
      const operation = item[method];
      if (operation) operation.security = [];
    }
  }
}

/** The OpenAPI document and its UI are routes too. */
function documentTheDocuments(document: OpenAPIObject, config: AppConfig): void {
  const problems = config.auth.docsPublic
    ? {}
    : {
        '401': { $ref: '#/components/responses/DocsUnauthorized' },
        '403': { $ref: '#/components/responses/DocsForbidden' },
      };
  const problem = (description: string) => ({
    description,
    content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDto) } } },
  });
  document.components = {
    ...document.components,
    responses: {
      ...document.components?.responses,
      DocsUnauthorized: problem('Missing or invalid bearer token (DOCS_PUBLIC=false)'),
      DocsForbidden: problem('The token lacks incidents:read (DOCS_PUBLIC=false)'),
    },
  };
  const operation = (operationId: string, summary: string, type: string, schema: object) => ({
    get: {
      operationId,
      summary,
      tags: ['docs'],
      responses: { '200': { description: summary, content: { [type]: { schema } } }, ...problems },
    },
  });
  document.paths['/docs'] = operation('docs_ui', 'The OpenAPI document, for people', 'text/html', { type: 'string' });
  document.paths['/docs/json'] = operation('docs_json', 'The OpenAPI document as JSON', 'application/json', {
    type: 'object',
  });
  document.paths['/docs/yaml'] = operation('docs_yaml', 'The OpenAPI document as YAML', 'text/yaml', {
    type: 'string',
  });
}

/**
 * Node's HTTP parser refuses some requests before Express sees them (control characters in a header, a request head
 * over the size limit); answer those as problem+json too, instead of a bare status line.
 */
function answerUnparsableRequests(app: INestApplication): void {
  const server = app.getHttpServer() as Server;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || (error as { code?: string }).code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const body = JSON.stringify(
      problem(tooLarge ? 431 : 400, tooLarge ? 'The request head is too large' : 'The request could not be parsed', {
        errors: [
          { field: 'request', message: tooLarge ? 'head must be at most 16 KiB' : 'must be a valid HTTP request' },
        ],
      }),
    );
    socket.end(
      `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
