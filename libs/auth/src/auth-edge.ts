import type { INestApplication } from '@nestjs/common';
import { AuditLog } from './audit-log';

/**
 * The part of auth that must sit in front of plain Express handlers: the audit line (first, so refusals by the body
 * parser or the media-type check are logged too). The docs are gated where they are set up (`serveBehindDocsGate`).
 * Call it right after the correlation-id middleware.
 */
export function installAuthEdge(app: INestApplication): void {
  app.use(app.get(AuditLog).middleware);
}
