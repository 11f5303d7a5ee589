import type { NextFunction, Request, Response } from 'express';

/**
 * The service's own pages are the docs UI (Swagger UI: its scripts, styles and images from this origin, inline
 * styles, data: images); nothing may frame any response, and JSON answers load nothing at all.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const API = /^\/v1(\/|$)/i;

/**
 * Headers on every response: no MIME sniffing, no referrer leaving the service, no framing (CSP frame-ancestors and
 * the older X-Frame-Options). Answers to authenticated requests (every /v1 route, anything sent with a token) are
 * never stored by a cache: they hold what one principal may read. Set before anything answers, so refusals carry them.
 */
export function securityHeaders(request: Request, response: Response, next: NextFunction): void {
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  response.setHeader('X-Frame-Options', 'DENY');
  if (API.test(request.path) || request.headers.authorization !== undefined) {
    response.setHeader('Cache-Control', 'no-store');
  }
  next();
}
