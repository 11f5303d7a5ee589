import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { canonicalJson } from '@app/domain';
import type { CommandContext } from '@app/incidents';
import { actorOf, type AuthenticatedRequest } from './actor';
import { parseIfMatch } from './if-match';
import { ValidationProblemException } from './validation';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** Identifies a request for idempotent replay: method, path and body, with object keys in a canonical order. */
export function requestHash(request: AuthenticatedRequest): string {
  return createHash('sha256')
    .update(`${request.method} ${request.path}\n${canonicalJson(request.body ?? null)}`)
    .digest('base64url');
}

function header(request: AuthenticatedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Builds the command context from the request: actor, correlation id, If-Match and Idempotency-Key. */
export const CommandCtx = createParamDecorator((_: unknown, ctx: ExecutionContext): CommandContext => {
  const request = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
  const context: CommandContext = {
    actor: actorOf(request),
    correlationId: request.correlationId ?? randomUUID(),
  };
  const idempotencyKey = header(request, 'idempotency-key');
  if (idempotencyKey !== undefined) {
    if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new ValidationProblemException([
        { field: 'Idempotency-Key', message: 'must be 1-255 visible ASCII characters' },
      ]);
    }
    context.idempotencyKey = idempotencyKey;
    context.requestHash = requestHash(request);
  }
  const ifMatch = header(request, 'if-match');
  if (ifMatch !== undefined) {
    const parsed = parseIfMatch(ifMatch);
    if (!parsed) {
      throw new ValidationProblemException([
        { field: 'If-Match', message: 'must be * or a list of entity tags, e.g. "3" (RFC 9110)' },
      ]);
    }
    context.ifMatch = parsed;
  }
  return context;
});
