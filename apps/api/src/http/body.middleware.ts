import express, { type NextFunction, type Request, type Response } from 'express';
import { isUtf8 } from 'node:buffer';
import { problem, sendProblem } from './problem';

export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * No command body nests deeper than 3 (body, sources[], a source). Far deeper input would overflow the stack of the
 * recursive transformer and validator, a 500; it is refused here instead.
 */
export const BODY_MAX_DEPTH = 16;

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

interface BodyReadError extends Error {
  status: number;
  type: string;
}

function bodyReadError(status: number, type: string, message: string): BodyReadError {
  return Object.assign(new Error(message), { status, type });
}

/**
 * JSON is UTF-8 (RFC 8259 §8.1). Another declared charset is a 415; bytes that are not UTF-8 are a 400, instead of
 * being decoded into U+FFFD and stored as if the client had sent that.
 */
function requireUtf8(_request: Request, _response: Response, body: Buffer, encoding: string): void {
  if (encoding.toLowerCase() !== 'utf-8') throw bodyReadError(415, 'charset.unsupported', 'charset must be utf-8');
  if (!isUtf8(body)) throw bodyReadError(400, 'entity.encoding.invalid', 'body is not valid UTF-8');
}

export const parseJson = express.json({
  limit: BODY_LIMIT_BYTES,
  strict: true,
  type: 'application/json',
  verify: requireUtf8,
});

/** How deep a parsed body nests, counted without recursion, and giving up once past `limit`. */
function exceedsDepth(value: unknown, limit: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
}

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
    if (exceedsDepth(body, BODY_MAX_DEPTH)) {
      return sendProblem(
        response,
        problem(400, `The request body nests deeper than ${BODY_MAX_DEPTH} levels`, {
          errors: [{ field: 'body', message: `must not nest deeper than ${BODY_MAX_DEPTH} levels` }],
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
  if (failure?.type === 'entity.encoding.invalid') {
    return sendProblem(
      response,
      problem(400, 'The request body is not valid UTF-8', {
        errors: [{ field: 'body', message: 'must be UTF-8' }],
      }),
    );
  }
  if (typeof failure?.status === 'number' && failure.status >= 400 && failure.status < 500) {
    return sendProblem(
      response,
      problem(failure.status, 'The request body could not be read', {
        ...(failure.status === 400 && { errors: [{ field: 'body', message: 'could not be read or decompressed' }] }),
      }),
    );
  }
  next(error);
}
