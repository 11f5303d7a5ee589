/** The scopes this service grants on; a token carries them in its space-separated `scope` claim. */
export const SCOPES = ['incidents:read', 'incidents:write', 'incidents:admin'] as const;

export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/**
 * The scopes a verified token grants: the RFC 8693 / RFC 9068 `scope` string, or the `scp` claim some providers use
 * instead (a string or an array). Unknown values are ignored, never an error: other services share these tokens.
 */
export function grantedScopes(claims: Record<string, unknown>): Set<Scope> {
  const raw = claims.scope ?? claims.scp;
  const values = typeof raw === 'string' ? raw.split(' ') : Array.isArray(raw) ? raw : [];
  return new Set(values.filter((value): value is Scope => typeof value === 'string' && isScope(value)));
}
