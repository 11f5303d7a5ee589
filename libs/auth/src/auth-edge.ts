import type { INestApplication } from '@nestjs/common';
import type { RequestHandler } from 'express';
import { AnonymousRateLimit } from './anonymous-rate-limit';
import { AuditLog } from './audit-log';
import { EarlyAuthentication } from './early-authentication';

/**
 * The parts of auth that must sit in front of plain Express handlers and the body parser, in this order: the audit
 * line (first, so every refusal is logged), the per-address limit of the routes served without a token, and the token
 * check of /v1 (before any body is read). The docs are gated where they are set up (`serveBehindDocsGate`). Install
 * them right after the correlation-id middleware.
 */
export function authEdge(app: INestApplication): RequestHandler[] {
  return [
    app.get(AuditLog).middleware,
    app.get(AnonymousRateLimit).middleware,
    app.get(EarlyAuthentication).middleware,
  ];
}
