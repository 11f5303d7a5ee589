import type { TestApp } from '@app/testing';

/** Swagger UI's own assets, served beside the document and not API routes. */
const UI_ASSETS = /^\/docs\/(index\.html|LICENSE|swagger-ui-init\.js|docs\/swagger-ui-init\.js|)$/;
/** The web page (HTML and its assets, docs/web.md) is served beside the API, not part of it. */
const WEB_PAGE = new Set(['/', '/incidents/*path', '/assets/:name']);

/** The API routes Express serves, as "method /path" with `:param` written as OpenAPI's `{param}`. */
export function servedRoutes(app: TestApp): string[] {
  const express = app.app.getHttpAdapter().getInstance();
  const stack = (express.router ?? express._router).stack as { route?: { path: string; methods: object } }[];
  return stack
    .filter(
      (layer) => layer.route !== undefined && !UI_ASSETS.test(layer.route.path) && !WEB_PAGE.has(layer.route.path),
    )
    .flatMap((layer) =>
      Object.keys(layer.route!.methods).map(
        (method) => `${method} ${layer.route!.path.replace(/:([A-Za-z]+)/g, '{$1}')}`,
      ),
    );
}
