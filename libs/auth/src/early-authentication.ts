import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { authenticationRefusal } from './auth-responses';
import { Authenticator } from './authenticator';
import { sendRefusal } from './docs-gate';
import type { AuthState } from './principal';
import { AuthenticationError } from './token-verifier';

const API = /^\/v1(\/|$)/i;

/**
 * Every /v1 route needs a token, so the token is checked before anything reads the request body: a caller without
 * a valid token cannot make the service parse 64 KiB of JSON. The verified principal is kept on the request for the
 * guard, which still checks the route's scopes.
 */
@Injectable()
export class EarlyAuthentication {
  constructor(private readonly authenticator: Authenticator) {}

  readonly middleware = (request: Request & AuthState, response: Response, next: NextFunction): void => {
    if (!this.authenticator.enabled || !API.test(request.path)) return next();
    this.authenticator.authenticate(request.headers).then(
      (principal) => {
        request.principal = principal;
        next();
      },
      (error: unknown) => {
        if (!(error instanceof AuthenticationError)) return next(error);
        request.authFailure = error.reason;
        request.refusedRoute = routePattern(request);
        sendRefusal(response, authenticationRefusal(error.reason));
      },
    );
  };
}

interface RouterLayer {
  route?: { path: string; _handlesMethod?: (method: string) => boolean };
  match(path: string): boolean;
}

/**
 * The route pattern Express would have chosen, for the audit line of a request refused before routing. A path whose
 * parameter Express cannot decode (a malformed percent-escape) names no route: matching it throws.
 */
function routePattern(request: Request): string | undefined {
  const stack = (request.app as unknown as { router?: { stack: RouterLayer[] } }).router?.stack ?? [];
  const layer = stack.find(
    (candidate) =>
      candidate.route !== undefined &&
      candidate.route._handlesMethod?.(request.method) === true &&
      matches(candidate, request.path),
  );
  return layer?.route?.path;
}

function matches(layer: RouterLayer, path: string): boolean {
  try {
    return layer.match(path);
  } catch {
    return false;
  }
}
