/**
 * The bearer token lives in sessionStorage only: read once from the `#token=` fragment (never sent to the server),
 * then removed from the address bar. Nothing here verifies the token; the API does. The claims are read only to
 * show who is signed in, which forms to offer, and when the token runs out.
 */
const STORAGE_KEY = 'incident-timeline.token';

export interface Session {
  token: string;
  sub: string;
  scopes: ReadonlySet<string>;
  /** Milliseconds since the epoch, or undefined when the token names no expiry. */
  expiresAt: number | undefined;
}

export type SessionResult = { session: Session } | { session: null; message?: string };

function decodeClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
    const claims: unknown = JSON.parse(json);
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A session for a token, or the reason it cannot be one. */
export function sessionOf(raw: string, now = Date.now()): SessionResult {
  const token = raw.trim();
  const claims = decodeClaims(token);
  if (claims === undefined)
    return { session: null, message: 'That does not look like a token (three dot-separated parts).' };
  const expiresAt = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  if (expiresAt !== undefined && expiresAt <= now) {
    return {
      session: null,
      message:
        'Your token has expired. Get a new sign-in link (npm run -s token -- --scopes incidents:read --sub <you> --url) or paste a new token.',
    };
  }
  const scope = typeof claims.scope === 'string' ? claims.scope : '';
  return {
    session: {
      token,
      sub: typeof claims.sub === 'string' ? claims.sub : 'unknown',
      scopes: new Set(scope.split(' ').filter(Boolean)),
      expiresAt,
    },
  };
}

/** Moves a `#token=` fragment into sessionStorage and out of the address bar (and so out of the history). */
export function takeTokenFromFragment(): void {
  const match = /^#token=([^&]*)/.exec(window.location.hash);
  if (match === null) return;
  sessionStorage.setItem(STORAGE_KEY, decodeURIComponent(match[1]));
  window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
}

export function storedSession(): SessionResult {
  const token = sessionStorage.getItem(STORAGE_KEY);
  if (token === null) return { session: null };
  const result = sessionOf(token);
  if (result.session === null) sessionStorage.removeItem(STORAGE_KEY);
  return result;
}

export function saveToken(token: string): void {
  sessionStorage.setItem(STORAGE_KEY, token.trim());
}

export function forgetToken(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
