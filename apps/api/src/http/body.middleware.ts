import express, { type NextFunction, type Request, type Response } from 'express';
import { problem, sendProblem } from './problem';

export const BODY_LIMIT_BYTES = 64 * 1024;

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH']);

function hasBody(request: Request): boolean {
  return request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
}

/** Commands take JSON only: another media type is a 415 before anything is parsed. */
export function requireJson(request: Request, response: Response, next: NextFunction): void {
  if (WRITE_METHODS.has(request.method) && hasBody(request) && !request.is('application/json')) {
    return sendProblem(response, problem(415, 'Send the request body as application/json'));
  }
  next();
}

export const parseJson = express.json({ limit: BODY_LIMIT_BYTES, strict: true, type: 'application/json' });

/** A JSON body must be an object; arrays and scalars are refused before validation. */
export function requireObjectBody(request: Request, response: Response, next: NextFunction): void {
  if (WRITE_METHODS.has(request.method) && request.body !== undefined && hasBody(request)) {
    const body: unknown = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return sendProblem(
        response,
        problem(400, 'The request body must be a JSON object', {
          errors: [{ field: 'body', message: 'must be a JSON object' }],
        }),
      );
    }
  }
  next();
}

interface BodyParserError {
  type?: string;
  status?: number;
}

/** Turns body-parser failures into problem+json instead of Express's HTML error page. */
export function bodyErrorHandler(error: unknown, _request: Request, response: Response, next: NextFunction): void {
  const failure = error as BodyParserError;
  if (failure?.type === 'entity.too.large') {
    return sendProblem(response, problem(413, `The request body must be at most ${BODY_LIMIT_BYTES} bytes`));
  }
  if (failure?.type === 'entity.parse.failed') {
    return sendProblem(
      response,
      problem(400, 'The request body is not valid JSON', {
        errors: [{ field: 'body', message: 'must be valid JSON' }],
      }),
    );
  }
  if (failure?.type === 'charset.unsupported' || failure?.type === 'encoding.unsupported') {
    return sendProblem(response, problem(415, 'Send the request body as UTF-8 JSON'));
  }
  if (typeof failure?.status === 'number' && failure.status >= 400 && failure.status < 500) {
    return sendProblem(response, problem(failure.status, 'The request body could not be read'));
  }
  next(error);
}
