import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(__dirname, '..', '..');
const run = promisify(execFile);

/**
 * A fresh `tsc` + `tsc-alias` build into a temporary folder under `.cache/` (inside the repository, so node_modules
 * resolves), never `dist/`, which other runs may be using. Returns the folder; `entry` must exist in it.
 */
export async function freshBuild(entry: string): Promise<{ dir: string; entry: string }> {
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, '.cache', 'build-'));
  const tsc = require.resolve('typescript/bin/tsc');
  const tscAlias = require.resolve('tsc-alias/dist/bin/index.js');
  const compiled = await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', dir], {
    cwd: ROOT,
  }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }));
  const path = join(dir, entry);
  if (!existsSync(path)) throw new Error(`tsc emitted no ${path}:\n${compiled.stdout}`);
  await run(process.execPath, [tscAlias, '-p', 'tsconfig.build.json', '--outDir', dir], { cwd: ROOT });
  return { dir, entry: path };
}
