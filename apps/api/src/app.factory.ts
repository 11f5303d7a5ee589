import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { installAuthEdge } from '@app/auth';
import type { AppConfig } from '@app/config';
import { AppModule } from './app.module';
import { bodyErrorHandler, parseJson, requireJson, requireObjectBody } from './http/body.middleware';
import { correlationMiddleware } from './http/correlation.middleware';
import { NextPageLinkInterceptor } from './http/next-page-link.interceptor';
import { PROBLEM_CONTENT_TYPE, problem } from './http/problem';
import { ProblemFilter } from './http/problem.filter';
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
  app.use(correlationMiddleware);
  allowCrossOrigin(app, config.corsOrigins);
  installAuthEdge(app);
  app.use(requireJson);
  app.use(parseJson);
  app.use(bodyErrorHandler);
  app.use(requireObjectBody);
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemFilter());
  app.useGlobalInterceptors(new NextPageLinkInterceptor());
  app.enableShutdownHooks();
  answerUnparsableRequests(app);
  setUpOpenApi(app);
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

function setUpOpenApi(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Incident timeline service')
      .setDescription(
        'Event-sourced records of security incidents: immutable facts, corrections, point-in-time views ' +
          '(asOf = recorded time, knownAt = public knowledge time, validAt = world time). Errors are application/problem+json.',
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
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
