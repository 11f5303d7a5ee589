import { Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { authenticationRefusal, closedRouteRefusal, scopeRefusal, type Refusal } from './auth-responses';
import { Authenticator } from './authenticator';
import { PUBLIC_KEY, SCOPES_KEY } from './decorators';
import type { AuthState } from './principal';
import type { Scope } from './scopes';
import { AuthenticationError } from './token-verifier';

type Policy = { kind: 'public' } | { kind: 'scopes'; scopes: readonly Scope[] } | { kind: 'undeclared' };

/**
 * The global guard: every handler is `@Public()`, needs `@Scopes(...)`, or is refused. Handlers without a decorator
 * are open only under /health (probes) and at /metrics when METRICS_PUBLIC is true (else incidents:admin); anything
 * else without a decorator is refused with 403 once authenticated, so a new route is never open by accident.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger('Auth');
  private readonly warned = new Set<string>();

  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<Request & AuthState>();
    const response = context.switchToHttp().getResponse<Response>();
    const policy = this.policyFor(context, request);
    if (policy.kind === 'public') return true;
    try {
      // Verified already, before the body was read, on /v1.
      request.principal ??= await this.authenticator.authenticate(request.headers);
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      request.authFailure = error.reason;
      return refuse(response, authenticationRefusal(error.reason));
    }
    if (policy.kind === 'undeclared') {
      const route = routeOf(request);
      if (!this.warned.has(route)) {
        this.warned.add(route);
        this.logger.warn({ msg: 'route has neither @Scopes() nor @Public(); every request to it is refused', route });
      }
      return refuse(response, closedRouteRefusal());
    }
    const granted = request.principal.scopes;
    if (!policy.scopes.every((scope) => granted.has(scope))) return refuse(response, scopeRefusal(policy.scopes));
    return true;
  }

  private policyFor(context: ExecutionContext, request: Request): Policy {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return { kind: 'public' };
    const scopes = this.reflector.getAllAndOverride<Scope[] | undefined>(SCOPES_KEY, targets);
    if (scopes !== undefined && scopes.length > 0) return { kind: 'scopes', scopes };
    const route = routeOf(request);
    if (route === '/health' || route.startsWith('/health/')) return { kind: 'public' };
    if (route === '/metrics') {
      return this.config.auth.metricsPublic ? { kind: 'public' } : { kind: 'scopes', scopes: ['incidents:admin'] };
    }
    return { kind: 'undeclared' };
  }
}

function routeOf(request: Request): string {
  return (request.route as { path?: string } | undefined)?.path ?? request.path;
}

function refuse(response: Response, refusal: Refusal): never {
  for (const [name, value] of Object.entries(refusal.headers)) response.setHeader(name, value);
  throw refusal.exception;
}
