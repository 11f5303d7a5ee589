import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { build } from 'esbuild';

/** The repository root: this file runs from apps/web (tests) and from dist/apps/web (npm run build). */
function repositoryRoot(): string {
  const here = resolve(__dirname);
  return here.includes(`${join('dist', 'apps', 'web')}`) ? resolve(here, '..', '..', '..') : resolve(here, '..', '..');
}

export const WEB_SOURCE = join(repositoryRoot(), 'apps', 'web', 'src');
export const WEB_OUT_DIR = join(repositoryRoot(), 'dist', 'web');

export interface WebBuild {
  outDir: string;
  /** File names under `assets/`, each with a content hash in its name. */
  assets: string[];
  script: string;
  style: string;
}

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1f3a5f"/><path d="M6 22h20M9 16v6M16 10v12M23 13v9" stroke="#fff" stroke-width="3" stroke-linecap="round"/></svg>\n`;

/**
 * Bundles the page (apps/web/src) with esbuild into `dist/web`: `assets/` holds content-hashed files served with a
 * year-long cache, `index.html` names them and is served on every page route. The HTML carries no inline script or
 * style, so the page runs under a CSP of 'self' alone.
 */
export async function buildWeb(outDir: string = WEB_OUT_DIR): Promise<WebBuild> {
  const assetsDir = join(outDir, 'assets');
  mkdirSync(assetsDir, { recursive: true });
  const result = await build({
    entryPoints: [join(WEB_SOURCE, 'main.tsx')],
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    format: 'esm',
    target: ['chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    entryNames: '[name]-[hash]',
    outdir: assetsDir,
    write: false,
    logLevel: 'warning',
    legalComments: 'linked',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const icon = `icon-${createHash('sha256').update(ICON).digest('hex').slice(0, 8).toUpperCase()}.svg`;
  const files = new Map<string, string | Uint8Array>(
    result.outputFiles.map((file) => [basename(file.path), file.contents]),
  );
  files.set(icon, ICON);
  const names = [...files.keys()];
  const script = names.find((name) => /^main-.*\.js$/.test(name));
  const style = names.find((name) => /^main-.*\.css$/.test(name));
  if (script === undefined || style === undefined) throw new Error('the web build produced no script or stylesheet');
  for (const [name, contents] of files) writeAtomically(join(assetsDir, name), contents);
  writeAtomically(join(outDir, 'index.html'), page({ script, style, icon }));
  for (const name of readdirSync(assetsDir)) {
    if (!files.has(name) && !name.endsWith('.tmp')) rmSync(join(assetsDir, name), { force: true });
  }
  return { outDir, assets: names.sort(), script, style };
}

/**
 * Replaces a file in one step, so a service reading it (or a second build writing the same bytes, as two test files
 * may) never sees half of it. Names carry content hashes, so the same name always holds the same bytes.
 */
function writeAtomically(path: string, contents: string | Uint8Array): void {
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}

function page(assets: { script: string; style: string; icon: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Incident timeline</title>
<link rel="icon" type="image/svg+xml" href="/assets/${assets.icon}">
<link rel="stylesheet" href="/assets/${assets.style}">
<script type="module" src="/assets/${assets.script}"></script>
</head>
<body>
<div id="app"></div>
<noscript><p>This page needs JavaScript. The same records are served as JSON under /v1 (see /docs).</p></noscript>
</body>
</html>
`;
}

if (require.main === module) {
  const started = Date.now();
  buildWeb().then(
    (built) => process.stdout.write(`web page built in ${Date.now() - started} ms: ${built.script}, ${built.style}\n`),
    (error: unknown) => {
      process.stderr.write(`web build failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
