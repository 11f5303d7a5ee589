import type { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { installAuthEdge } from '@app/auth';
import type { AppConfig } from '@app/config';
import { AppModule } from './app.module';
import { bodyErrorHandler, parseJson, requireJson, requireObjectBody } from './http/body.middleware';
import { correlationMiddleware } from './http/correlation.middleware';
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
  installAuthEdge(app);
  app.use(requireJson);
  app.use(parseJson);
  app.use(bodyErrorHandler);
  app.use(requireObjectBody);
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemFilter());
  app.enableShutdownHooks();
  setUpOpenApi(app);
  return app;
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
