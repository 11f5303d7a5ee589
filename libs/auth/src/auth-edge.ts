import type { INestApplication } from '@nestjs/common';
import { AnonymousRateLimit } from './anonymous-rate-limit';
import { AuditLog } from './audit-log';
import { EarlyAuthentication } from './early-authentication';

/**
 * The parts of auth that must sit in front of plain Express handlers and the body parser: the audit line (first, so
 * every refusal is logged), the per-address limit of the routes served without a token, and the token check of /v1
 * (before any body is read). The docs are gated where they are set up (`serveBehindDocsGate`). Call it right after
 * the correlation-id middleware.
 */
export function installAuthEdge(app: INestApplication): void {
  app.use(app.get(AuditLog).middleware);
  app.use(app.get(AnonymousRateLimit).middleware);
  app.use(app.get(EarlyAuthentication).middleware);
}
