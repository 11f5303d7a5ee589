import { Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Response } from 'express';
import { Metrics } from '@app/observability';
import type { AuthenticatedRequest } from './actor';

/**
 * One structured line per request, refused ones included, and the latency histogram. The route label is the matched
 * route pattern, never the raw path, so label cardinality stays bounded.
 */
@Injectable()
export class RequestLogMiddleware implements NestMiddleware {
  private readonly logger = new Logger('Http');

  constructor(private readonly metrics: Metrics) {}

  use(request: AuthenticatedRequest, response: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    response.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (request.route as { path?: string } | undefined)?.path ?? 'unmatched';
      this.metrics.httpDuration.observe(
        { method: request.method, route, status: String(response.statusCode) },
        seconds,
      );
      this.logger.log({
        msg: 'request',
        method: request.method,
        route,
        path: request.path,
        status: response.statusCode,
        ms: Math.round(seconds * 1000),
        correlationId: request.correlationId,
      });
    });
    next();
  }
}
