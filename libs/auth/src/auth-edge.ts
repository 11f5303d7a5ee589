import type { INestApplication } from '@nestjs/common';
import { AuditLog } from './audit-log';
import { DocsGate } from './docs-gate';

/**
 * The parts of auth that must sit in front of plain Express handlers: the audit line (first, so refusals by the body
 * parser or the media-type check are logged too) and the /docs gate (Swagger is not behind Nest's guards). Call it
 * right after the correlation-id middleware.
 */
export function installAuthEdge(app: INestApplication): void {
  app.use(app.get(AuditLog).middleware);
  app.use('/docs', app.get(DocsGate).middleware);
}
