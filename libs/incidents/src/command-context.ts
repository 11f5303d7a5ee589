import type { Actor } from '@app/domain';
import type { IfMatch } from './if-match';

/** What every command carries besides its payload, taken from the request by the transport. */
export interface CommandContext {
  actor: Actor;
  correlationId: string;
  causationId?: string;
  idempotencyKey?: string;
  /** Hash of the request, to tell a replay (same hash) from a reused key (different hash). */
  requestHash?: string;
  /** From If-Match: the versions the client accepts (or `*`, any existing incident). */
  ifMatch?: IfMatch;
}

export interface CommandResult {
  incidentId: string;
  version: number;
  position: bigint;
  factId?: string;
  /** True when this command appended events; false for a no-op or a replay. */
  appended: boolean;
  /** True when an earlier request with the same Idempotency-Key answered and nothing new was appended. */
  replayed: boolean;
}

/** An Idempotency-Key with the principal that sent it: keys of different principals never meet. */
export interface IdempotencyScope {
  iss: string;
  sub: string;
  key: string;
}

export function idempotencyScope(context: CommandContext): IdempotencyScope | undefined {
  return context.idempotencyKey === undefined
    ? undefined
    : { iss: context.actor.iss, sub: context.actor.sub, key: context.idempotencyKey };
}
