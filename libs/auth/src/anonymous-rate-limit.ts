import { HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { sendRefusal } from './docs-gate';

const WINDOW_MS = 60_000;
/** Routes a caller reaches without a token: every one but /v1 (token required) and the health probes. */
const COUNTED = (path: string) => !/^\/(v1|health)(\/|$)/i.test(path);

/**
 * A per-address budget for the routes served without a token (/metrics, /docs and its files): the per-principal
 * limit cannot count callers that have no principal. A fixed window of one minute per client address; the counters
 * are dropped at each new window, so they hold at most the addresses of one minute.
 */
@Injectable()
export class AnonymousRateLimit {
  private counts = new Map<string, number>();
  private windowStart = 0;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  readonly middleware = (request: Request, response: Response, next: NextFunction): void => {
    const limit = this.config.auth.anonymousRateLimitPerMinute;
    if (limit === 0 || !COUNTED(request.path)) return next();
    const now = Date.now();
    if (now - this.windowStart >= WINDOW_MS) {
      this.windowStart = now;
      this.counts = new Map();
    }
    const address = request.socket.remoteAddress ?? 'unknown';
    const count = (this.counts.get(address) ?? 0) + 1;
    this.counts.set(address, count);
    if (count <= limit) return next();
    const retryAfter = Math.max(1, Math.ceil((this.windowStart + WINDOW_MS - now) / 1000));
    sendRefusal(response, {
      exception: new HttpException(
        `Too many requests from this address to routes served without a token; retry after ${retryAfter} s`,
        HttpStatus.TOO_MANY_REQUESTS,
      ),
      headers: { 'Retry-After': String(retryAfter) },
    });
  };
}
