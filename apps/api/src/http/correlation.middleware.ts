import { randomUUID } from 'node:crypto';
import type { NextFunction, Response } from 'express';
import { requestContext } from '@app/observability';
import type { AuthenticatedRequest } from './actor';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Accepts a caller's X-Correlation-Id when it is a plain token (anything else could forge log lines), else makes one;
 * echoes it in the response and keeps it in the async context for every log line of the request.
 */
export function correlationMiddleware(request: AuthenticatedRequest, response: Response, next: NextFunction): void {
  const given = request.headers['x-correlation-id'];
  const correlationId = typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
  request.correlationId = correlationId;
  response.setHeader('X-Correlation-Id', correlationId);
  requestContext.run({ correlationId }, next);
}
