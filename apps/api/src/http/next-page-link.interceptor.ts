import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { map, type Observable } from 'rxjs';

/**
 * Beside a page's `next` in the body, a `Link: <...>; rel="next"` header (RFC 8288) with the same request for the next
 * page: a string `next` is an opaque cursor (`cursor=`), a number a position or version to read after (`after=`).
 * Applied to the paged routes only (those documenting the header): any interceptor puts every route it covers through
 * an RxJS pipeline and async-resource bindings, a measurable share of a command's cost.
 */
@Injectable()
export class NextPageLinkInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    return next.handle().pipe(
      map((body: unknown) => {
        if (request.method !== 'GET' || body === null || typeof body !== 'object' || !('next' in body)) return body;
        const value = (body as { next: unknown }).next;
        if (typeof value !== 'string' && typeof value !== 'number') return body;
        const url = new URL(request.originalUrl, 'http://service.invalid');
        url.searchParams.set(typeof value === 'string' ? 'cursor' : 'after', String(value));
        if (!response.headersSent) response.setHeader('Link', `<${url.pathname}${url.search}>; rel="next"`);
        return body;
      }),
    );
  }
}
