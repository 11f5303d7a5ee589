import type { AuthState } from '@app/auth';
import type { Actor } from '@app/domain';
import type { Request } from 'express';

export interface AuthenticatedRequest extends Request, AuthState {
  correlationId?: string;
}

/**
 * The one seam through which a request's identity enters the record: the issuer and subject of the principal the
 * auth guard verified (with AUTH=off, the fixed auth-off principal). A handler reached without one is a wiring
 * mistake, and it fails rather than record an event under a made-up name.
 */
export function actorOf(request: AuthenticatedRequest): Actor {
  const principal = request.principal;
  if (principal === undefined) throw new Error('No verified principal on this request; is the route decorated?');
  return { iss: principal.iss, sub: principal.sub };
}
