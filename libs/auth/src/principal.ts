import type { Scope } from './scopes';

/** Who a request acts for, once its token is verified: the issuer, the subject and what the token grants. */
export interface Principal {
  iss: string;
  sub: string;
  scopes: ReadonlySet<Scope>;
  /** When the token stops being valid (its `exp`, in milliseconds since the epoch); absent when nothing expires. */
  expiresAt?: number;
}

/** Why a request was refused authentication; for the audit log only, never for the caller. */
export type AuthFailure =
  | 'missing-token'
  | 'malformed-token'
  | 'unknown-issuer'
  | 'missing-kid'
  | 'algorithm-refused'
  | 'unsupported-header'
  | 'unknown-key'
  | 'bad-signature'
  | 'claims-refused'
  | 'expired'
  | 'keys-unavailable';

/** What the auth layer adds to a request, read by the actor seam and the audit log. */
export interface AuthState {
  principal?: Principal;
  authFailure?: AuthFailure;
  /** The route pattern of a request refused before routing (the token check of /v1 runs before the body parser). */
  refusedRoute?: string;
}

/** One key per principal, for rate limits and logs: the issuer and the subject, never anything from the token. */
export function principalKey(principal: Pick<Principal, 'iss' | 'sub'>): string {
  return JSON.stringify([principal.iss, principal.sub]);
}
