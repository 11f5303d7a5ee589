import type { Scope } from './scopes';

/** Who a request acts for, once its token is verified: the issuer, the subject and what the token grants. */
export interface Principal {
  iss: string;
  sub: string;
  scopes: ReadonlySet<Scope>;
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
}

/** One key per principal, for rate limits and logs: the issuer and the subject, never anything from the token. */
export function principalKey(principal: Pick<Principal, 'iss' | 'sub'>): string {
  return JSON.stringify([principal.iss, principal.sub]);
}
