import {
  ForbiddenException,
  ServiceUnavailableException,
  UnauthorizedException,
  type HttpException,
} from '@nestjs/common';
import type { AuthFailure } from './principal';
import type { Scope } from './scopes';

const REALM = 'Bearer realm="incident-timeline"';

export interface Refusal {
  exception: HttpException;
  headers: Record<string, string>;
}

/**
 * What the caller hears when authentication fails: whether a token was missing or not valid, never which check
 * failed (that goes to the audit log). Unreachable issuer keys are our problem, not the caller's: 503.
 */
export function authenticationRefusal(reason: AuthFailure): Refusal {
  if (reason === 'missing-token') {
    return {
      exception: new UnauthorizedException('This request needs a bearer token: Authorization: Bearer <token>'),
      headers: { 'WWW-Authenticate': REALM },
    };
  }
  if (reason === 'keys-unavailable') {
    return {
      exception: new ServiceUnavailableException('The token could not be checked right now; retry later'),
      headers: { 'Retry-After': '5' },
    };
  }
  return {
    exception: new UnauthorizedException('The bearer token is not valid'),
    headers: { 'WWW-Authenticate': `${REALM}, error="invalid_token"` },
  };
}

/** A 403 names the scopes the route needs: that much the caller must know to ask for the right token. */
export function scopeRefusal(required: readonly Scope[]): Refusal {
  return {
    exception: new ForbiddenException(`This request needs a token with the scope ${required.join(' ')}`),
    headers: { 'WWW-Authenticate': `${REALM}, error="insufficient_scope", scope="${required.join(' ')}"` },
  };
}

/** A route nobody declared a policy for is closed to everyone; the log tells the developer why. */
export function closedRouteRefusal(): Refusal {
  return { exception: new ForbiddenException('This route is not open to any token'), headers: {} };
}
