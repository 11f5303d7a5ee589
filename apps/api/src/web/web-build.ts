import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Hashed asset names as the web build writes them (`main-3FJ2K7QZ.js`); nothing else is served from `assets/`. */
const ASSET_NAME = /^[a-z]+-[A-Z0-9]{8}\.(js|css|svg|js\.map|css\.map|js\.LEGAL\.txt)$/;

/** The repository (or image) root: the nearest directory above this file holding package.json. */
function packageRoot(from: string): string {
  let directory = from;
  while (!existsSync(join(directory, 'package.json'))) {
    const parent = dirname(directory);
    if (parent === directory) return from;
    directory = parent;
  }
  return directory;
}

/**
 * The page built by `apps/web/build.ts` into `dist/web`. Files are read per request, not cached: a rebuild while the
 * service runs replaces the hashed names, and the HTML must name the files that exist.
 */
export class WebBuildFiles {
  constructor(readonly directory: string = join(packageRoot(__dirname), 'dist', 'web')) {}

  html(): string | undefined {
    const path = join(this.directory, 'index.html');
    return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  }

  /** The absolute path of a built asset, or undefined for any name the build does not produce. */
  asset(name: string): string | undefined {
    if (!ASSET_NAME.test(name)) return undefined;
    const path = join(this.directory, 'assets', name);
    return existsSync(path) ? path : undefined;
  }
}
