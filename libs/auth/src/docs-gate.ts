import { Inject, Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { authenticationRefusal, scopeRefusal, type Refusal } from './auth-responses';
import { Authenticator } from './authenticator';
import type { AuthState } from './principal';
import { AuthenticationError } from './token-verifier';

const PROBLEM_TYPES: Record<number, [slug: string, title: string]> = {
  401: ['unauthorized', 'Authentication is required'],
  403: ['forbidden', 'You are not allowed to do this'],
  503: ['unavailable', 'Service temporarily unavailable'],
};

/**
 * /docs is served by Swagger's own Express handlers, outside Nest's guards, so it is gated here: open when
 * DOCS_PUBLIC is true (the default), else it needs a token with incidents:read.
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
        send(response, scopeRefusal(['incidents:read']));
      },
      (error: unknown) => {
        if (!(error instanceof AuthenticationError)) return next(error);
        request.authFailure = error.reason;
        send(response, authenticationRefusal(error.reason));
      },
    );
  };
}

/** The same application/problem+json shape as every other refusal of the API. */
function send(response: Response, { exception, headers }: Refusal): void {
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
        // The documents' own paths: anything else under /docs is not echoed.
        instance: response.req.path === '/docs/json' ? '/docs/json' : '/docs',
      }),
    );
}
