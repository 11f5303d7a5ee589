import { Controller, Get, HttpStatus, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '@app/auth';
import { problem, sendProblem } from '../http/problem';
import { WebBuildFiles } from './web-build';

/**
 * Everything the page loads comes from this origin ('self'); the HTML has no inline script or style, so neither
 * needs 'unsafe-inline'. `connect-src 'self'` is the API and its event feed.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  map: 'application/json; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
};

/**
 * The web page: the same HTML on `/` and every `/incidents/...` path (the page routes itself), and the hashed assets
 * under `/assets/`. Public: the page carries no data; it reads the token from its URL fragment and calls /v1 with it.
 */
@ApiExcludeController()
@Public()
@Controller()
export class WebController {
  constructor(private readonly files: WebBuildFiles) {}

  @Get()
  list(@Res() response: Response): void {
    this.sendPage(response);
  }

  @Get('incidents/*path')
  incident(@Res() response: Response): void {
    this.sendPage(response);
  }

  @Get('assets/:name')
  asset(@Param('name') name: string, @Res() response: Response): void {
    const path = this.files.asset(name);
    if (path === undefined) return sendProblem(response, problem(404, `No asset named ${name.slice(0, 80)}`));
    const extension = name.slice(name.lastIndexOf('.') + 1);
    response.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Content-Type', CONTENT_TYPES[extension] ?? 'application/octet-stream');
    response.sendFile(path);
  }

  private sendPage(response: Response): void {
    const html = this.files.html();
    if (html === undefined) {
      return sendProblem(
        response,
        problem(HttpStatus.SERVICE_UNAVAILABLE, 'The web page is not built; run npm run build (npm start does it)'),
      );
    }
    response.setHeader('Content-Security-Policy', PAGE_CSP);
    response.setHeader('Cache-Control', 'no-cache');
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Referrer-Policy', 'no-referrer');
    response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    response.type('html').send(html);
  }
}
