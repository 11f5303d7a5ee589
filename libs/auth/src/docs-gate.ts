import { Inject, Injectable, type INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { authenticationRefusal, scopeRefusal, type Refusal } from './auth-responses';
import { Authenticator } from './authenticator';
import type { AuthState } from './principal';
import { AuthenticationError } from './token-verifier';

const PROBLEM_TYPES: Record<number, [slug: string, title: string]> = {
  401: ['unauthorized', 'Authentication is required'],
  403: ['forbidden', 'You are not allowed to do this'],
  429: ['too-many-requests', 'Too many requests'],
  503: ['unavailable', 'Service temporarily unavailable'],
};

/**
 * The OpenAPI document and its UI are served by Swagger's own Express handlers, outside Nest's guards, so they are
 * gated here: open when DOCS_PUBLIC is true (the default), else they need a token with incidents:read. Use
 * `serveBehindDocsGate`, which puts every route the docs module registers behind the gate.
 */
@Injectable()
export class DocsGate {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly authenticator: Authenticator,
  ) {}

  readonly middleware = (request: Request & AuthState, response: Response, next: NextFunction): void => {
    if (this.config.auth.docsPublic || !this.authenticator.enabled) return next();
    this.authenticator.authenticate(request.headers).then(
      (principal) => {
        request.principal = principal;
        if (principal.scopes.has('incidents:read')) return next();
        sendRefusal(response, scopeRefusal(['incidents:read']));
      },
      (error: unknown) => {
        if (!(error instanceof AuthenticationError)) return next(error);
        request.authFailure = error.reason;
        sendRefusal(response, authenticationRefusal(error.reason));
      },
    );
  };
}

const PLAIN_SEGMENT = /^[A-Za-z0-9._~-]{0,64}$/;

/**
 * The problem's `instance`: under /docs only the documents' own paths (anything else there is not echoed); elsewhere
 * the request path, with any segment that could carry a credential (a token pasted into a URL) shown as `...`.
 */
function refusedInstance(path: string): string {
  if (path.toLowerCase().startsWith('/docs')) return path === '/docs/json' ? '/docs/json' : '/docs';
  return path
    .split('/')
    .map((segment) => (PLAIN_SEGMENT.test(segment) && !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(segment) ? segment : '...'))
    .join('/');
}

/** The same application/problem+json shape as every other refusal of the API. */
export function sendRefusal(response: Response, { exception, headers }: Refusal): void {
  const status = exception.getStatus();
  const [slug, title] = PROBLEM_TYPES[status] ?? ['error', 'Error'];
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  response
    .status(status)
    .type('application/problem+json')
    .send(
      JSON.stringify({
        type: `urn:incident-timeline:problem:${slug}`,
        title,
        status,
        detail: exception.message,
        instance: refusedInstance(response.req.path),
      }),
    );
}

type Handler = (request: Request, response: Response, next: NextFunction) => unknown;

/**
 * Runs `setup` (SwaggerModule.setup) with every route and static directory it registers behind the docs gate: the
 * gate wraps the handlers themselves, so whatever path Express matches to them (`/docs`, `/docs/json`, `/docs-yaml`,
 * `/docs-json`, the UI's assets, in any letter case, with or without a trailing slash) passes the gate first, and a
 * route a later version of the docs module adds is gated without anyone listing it. Returns the paths registered.
 */
export function serveBehindDocsGate(app: INestApplication, setup: () => void): string[] {
  const gate = app.get(DocsGate).middleware as Handler;
  // The adapter, not the application: Nest's application object is a proxy that ignores assignments.
  const adapter = app.getHttpAdapter() as unknown as {
    get: (...args: unknown[]) => unknown;
    use: (...args: unknown[]) => unknown;
    useStaticAssets: (path: string, options?: { prefix?: string }) => unknown;
  };
  const { get, useStaticAssets } = adapter;
  const served: string[] = [];
  adapter.get = (...args: unknown[]) => {
    const handler = args.pop() as Handler;
    served.push(String(args[0]));
    const gated: Handler = (request, response, next) =>
      gate(request, response, (error?: unknown) => (error ? next(error) : handler(request, response, next)));
    return get.call(adapter, ...args, gated);
  };
  adapter.useStaticAssets = (path, options) => {
    const prefix = options?.prefix ?? '/';
    served.push(`${prefix}/*`);
    adapter.use(prefix, gate);
    return useStaticAssets.call(adapter, path, options);
  };
  try {
    setup();
  } finally {
    adapter.get = get;
    adapter.useStaticAssets = useStaticAssets;
  }
  return served;
}
