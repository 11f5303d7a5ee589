import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { AuthenticatedRequest } from './actor';
import { DomainError } from '@app/domain';
import { EventStoreUnavailableError } from '@app/event-store';
import {
  ConcurrencyExhaustedError,
  IdempotencyKeyReusedError,
  IncidentNotFoundError,
  IncidentParkedError,
  IncidentUnreadableError,
  PreconditionFailedError,
} from '@app/incidents';
import { BusyException } from './busy';
import { problem, sendProblem, type Problem } from './problem';
import { ValidationProblemException } from './validation';

const DOMAIN_STATUS: Record<DomainError['code'], number> = {
  invalid: 400,
  'not-found': 404,
  'already-exists': 409,
  'illegal-transition': 409,
  'fact-retracted': 409,
  'duplicate-link': 409,
  'status-order': 409,
  'asserted-before-fact': 409,
  'asserted-before-incident': 409,
  'still-unreadable': 409,
};

/** Every error leaves as application/problem+json; anything unexpected is a 500 that says nothing about internals. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const request = host.switchToHttp().getRequest<Request>();
    const [body, headers] = this.toProblem(exception, request);
    // A Retry-After the refusing code chose (the rate limit, the feed caps) stays.
    if (response.hasHeader('Retry-After')) delete headers['Retry-After'];
    if (body.status >= 500 && !(exception instanceof BusyException)) {
      this.logger.error({
        msg: 'request failed',
        correlationId: (request as AuthenticatedRequest).correlationId,
        method: request.method,
        path: request.path,
        err: exception instanceof Error ? exception : 'non-error thrown',
      });
    }
    sendProblem(response, body, headers);
  }

  private toProblem(exception: unknown, request: Request): [Problem, Record<string, string>] {
    if (exception instanceof ValidationProblemException) {
      return [problem(400, exception.message, { errors: exception.errors }), {}];
    }
    if (exception instanceof DomainError) {
      const status = DOMAIN_STATUS[exception.code];
      const extensions: Partial<Problem> = { ...exception.details };
      if (exception.errors.length > 0) extensions.errors = exception.errors;
      if (exception.code !== 'invalid' && exception.code !== 'not-found') extensions.rule = exception.code;
      return [problem(status, exception.message, extensions), {}];
    }
    if (exception instanceof PreconditionFailedError) {
      return [
        problem(
          412,
          exception.message,
          exception.currentVersion < 0 ? {} : { currentVersion: exception.currentVersion },
        ),
        exception.currentVersion < 0 ? {} : { ETag: `"${exception.currentVersion}"` },
      ];
    }
    if (exception instanceof IdempotencyKeyReusedError) {
      return [
        problem(422, exception.message, {
          errors: [{ field: 'Idempotency-Key', message: 'was used for a different request' }],
        }),
        {},
      ];
    }
    if (exception instanceof IncidentNotFoundError) return [problem(404, exception.message), {}];
    if (exception instanceof IncidentParkedError) {
      return [
        problem(503, exception.message, {
          incidentId: exception.incidentId,
          eventId: exception.eventId,
          position: Number(exception.position),
        }),
        { 'Retry-After': '60' },
      ];
    }
    if (exception instanceof IncidentUnreadableError) {
      return [problem(503, exception.message, { incidentId: exception.incidentId }), { 'Retry-After': '60' }];
    }
    if (exception instanceof ConcurrencyExhaustedError)
      return [problem(503, exception.message), { 'Retry-After': '1' }];
    if (exception instanceof EventStoreUnavailableError) {
      return [problem(503, 'The event store is not reachable; retry later'), { 'Retry-After': '5' }];
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const detail = status === 404 ? `No route for ${request.method} ${request.path}` : exception.message;
      // A 400 raised outside validation (Express cannot percent-decode a path parameter) still names what is wrong.
      const extensions: Partial<Problem> = status === 400 ? { errors: [{ field: 'request', message: detail }] } : {};
      return [problem(status, detail, extensions), status === 503 ? { 'Retry-After': '1' } : {}];
    }
    return [problem(500, 'The request could not be completed'), {}];
  }
}
