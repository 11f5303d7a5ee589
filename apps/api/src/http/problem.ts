import type { Response } from 'express';

export interface FieldError {
  field: string;
  message: string;
}

/** RFC 9457 problem details; `errors` lists the fields at fault for validation problems. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  /** The request path the problem occurred at. */
  instance?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const TITLES: Record<number, [slug: string, title: string]> = {
  400: ['validation-failed', 'Your request is not valid'],
  401: ['unauthorized', 'Authentication is required'],
  403: ['forbidden', 'You are not allowed to do this'],
  404: ['not-found', 'Not found'],
  405: ['method-not-allowed', 'Method not allowed'],
  409: ['conflict', 'The request conflicts with the current state of the incident'],
  412: ['precondition-failed', 'The incident has changed since the version you named'],
  413: ['payload-too-large', 'The request body is too large'],
  415: ['unsupported-media-type', 'Send the body as application/json'],
  422: ['idempotency-key-reused', 'This Idempotency-Key was used for a different request'],
  429: ['too-many-requests', 'Too many requests'],
  431: ['request-head-too-large', 'The request head is too large'],
  500: ['internal-error', 'Internal error'],
  503: ['unavailable', 'Service temporarily unavailable'],
};

export function problem(status: number, detail: string, extensions: Partial<Problem> = {}): Problem {
  const [slug, title] = TITLES[status] ?? ['error', 'Error'];
  return { type: `urn:incident-timeline:problem:${slug}`, title, status, detail, ...extensions };
}

const PLAIN_SEGMENT = /^[A-Za-z0-9._~-]{0,64}$/;

/**
 * The path a problem occurred at (RFC 9457 `instance`), without the query. A segment that cannot be an identifier of
 * this API (over 64 characters, or holding anything but letters, digits and `-._~`) reads `...`, so a credential
 * pasted into a URL is never echoed back.
 */
export function instanceOf(response: Response): string | undefined {
  const url = response.req?.originalUrl ?? response.req?.url;
  if (url === undefined) return undefined;
  return url
    .split('?')[0]
    .split('/')
    .map((segment) => (PLAIN_SEGMENT.test(segment) && !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(segment) ? segment : '...'))
    .join('/');
}

export function sendProblem(response: Response, body: Problem, headers: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  const instance = body.instance ?? instanceOf(response);
  response
    .status(body.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(instance === undefined ? body : { ...body, instance }));
}
