export interface FieldError {
  field: string;
  message: string;
}

/** An application/problem+json answer (RFC 9457), as the API sends for every refusal. */
export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${problem.status}`);
  }

  get status(): number {
    return this.problem.status;
  }
}

export interface Api {
  get<T>(path: string, query?: Record<string, string | undefined>): Promise<T>;
  send<T>(method: 'POST' | 'PATCH' | 'PUT', path: string, body: unknown): Promise<T>;
  /** The raw fetch for streams: same headers, same handling of a refused token. */
  stream(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response>;
}

export function withQuery(path: string, query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(name, value);
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

async function problemOf(response: Response): Promise<Problem> {
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      const body = (await response.json()) as Problem;
      return { ...body, status: response.status };
    } catch {
      // fall through to a problem made from the status line
    }
  }
  return { status: response.status, title: response.statusText || `HTTP ${response.status}` };
}

/**
 * Calls /v1 with the bearer token. A 401 means the token is gone or expired: `onUnauthorized` brings the sign-in
 * form back; the token is never put in a URL or a cookie.
 */
export function createApi(token: string, onUnauthorized: (problem: Problem) => void): Api {
  async function call(method: string, path: string, init: RequestInit = {}, extra: Record<string, string> = {}) {
    const response = await fetch(path, {
      ...init,
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...extra },
      credentials: 'omit',
      cache: 'no-store',
    });
    if (response.status === 401) {
      const problem = await problemOf(response);
      onUnauthorized(problem);
      throw new ApiError(problem);
    }
    return response;
  }

  return {
    async get<T>(path: string, query?: Record<string, string | undefined>): Promise<T> {
      const response = await call('GET', withQuery(path, query));
      if (!response.ok) throw new ApiError(await problemOf(response));
      return (await response.json()) as T;
    },
    async send<T>(method: 'POST' | 'PATCH' | 'PUT', path: string, body: unknown): Promise<T> {
      const response = await call(method, path, { body: JSON.stringify(body) }, { 'content-type': 'application/json' });
      if (!response.ok) throw new ApiError(await problemOf(response));
      return (await response.json()) as T;
    },
    async stream(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
      return call('GET', path, { signal }, { accept: 'text/event-stream', ...headers });
    },
  };
}
