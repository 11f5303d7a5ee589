import type { Actor } from '@app/domain';
import type { Request } from 'express';

/**
 * The one seam through which a request's identity enters the record. Until authentication is configured, every
 * request acts as the fixed local principal.
 */
export const LOCAL_ACTOR: Actor = { iss: 'urn:incident-timeline:local', sub: 'local' };

export interface AuthenticatedRequest extends Request {
  actor?: Actor;
  correlationId?: string;
}

export function actorOf(request: AuthenticatedRequest): Actor {
  return request.actor ?? LOCAL_ACTOR;
}
