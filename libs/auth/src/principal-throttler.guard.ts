import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { AuthState } from './principal';
import { principalKey } from './principal';

/**
 * Rate limit per principal (issuer and subject), not per IP: many users behind one proxy do not share a budget, and
 * one user cannot escape theirs by changing address. One budget per principal across all routes. It runs after the
 * auth guard; requests without a verified principal (public routes, refused tokens) are not counted.
 */
@Injectable()
export class PrincipalThrottlerGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return context.getType() !== 'http' || context.switchToHttp().getRequest<AuthState>().principal === undefined;
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    return principalKey((request as AuthState).principal!);
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, throttler: string): string {
    return `${throttler}:${tracker}`;
  }
}
