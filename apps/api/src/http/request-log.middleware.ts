import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Response } from 'express';
import { Metrics } from '@app/observability';
import type { AuthenticatedRequest } from './actor';

/**
 * The latency histogram of every routed request. The route label is the matched route pattern, never the raw path,
 * so label cardinality stays bounded. The per-request log line is the audit log's (`@app/auth` AuditLog).
 */
@Injectable()
export class RequestLogMiddleware implements NestMiddleware {
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
    });
    next();
  }
}
