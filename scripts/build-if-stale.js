#!/usr/bin/env node
'use strict';
// Builds dist/ only when the sources changed since the last build, so `npm start` and `npm run token` start at once.
// The signature covers every compiled source (path, size, mtime) and the build settings; a deleted or renamed file
// changes it too. Build output goes to stderr: `npm run -s token` keeps stdout for the token alone.
const { createHash } = require('node:crypto');
const { existsSync, readdirSync, readFileSync, statSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');
const { spawnSync } = require('node:child_process');

const root = join(__dirname, '..');
const stamp = join(root, 'dist', '.build-signature');
const SOURCE_DIRS = ['apps', 'libs', 'bench'];
const SETTINGS = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function sources(dir, out) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sources(path, out);
    else if (/\.(ts|tsx|css|html)$/.test(entry.name) && !/\.(spec|test)\.tsx?$/.test(entry.name)) out.push(path);
  }
  return out;
}

function signature() {
  const hash = createHash('sha256');
  const files = [...SOURCE_DIRS.flatMap((dir) => sources(join(root, dir), [])), ...SETTINGS.map((f) => join(root, f))];
  for (const file of files.sort()) {
    const stat = existsSync(file) ? statSync(file) : undefined;
    hash.update(`${relative(root, file)}\0${stat ? `${stat.size}:${stat.mtimeMs}` : 'missing'}\n`);
  }
  return hash.digest('hex');
}

const current = signature();
const built = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';
if (built === current && existsSync(join(root, 'dist', 'apps'))) process.exit(0);

process.stderr.write('building dist/ (sources changed since the last build)\n');
const npm = process.env.npm_execpath;
const result = npm
  ? spawnSync(process.execPath, [npm, 'run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 2, 2] })
  : spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 2, 2], shell: process.platform === 'win32' });
if (result.status !== 0) process.exit(result.status ?? 1);
writeFileSync(stamp, `${current}\n`);
