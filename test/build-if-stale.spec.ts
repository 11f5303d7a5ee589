import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SCRIPT = resolve(__dirname, '..', 'scripts', 'build-if-stale.js');

/**
 * `npm start`, `npm run cli` and `npm run token` run scripts/build-if-stale.js first. It is tried here on a small
 * project whose build only counts how often it ran.
 */
describe('build only when the sources changed (scripts/build-if-stale.js)', () => {
  let dir: string;

  const builds = () => readFileSync(join(dir, 'builds.log'), 'utf8').length;
  const run = () =>
    new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      const env = { ...process.env };
      delete env.npm_execpath;
      execFile(
        process.execPath,
        [join(dir, 'scripts', 'build-if-stale.js')],
        { cwd: dir, env },
        (error, stdout, stderr) => done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'build-if-stale-'));
    mkdirSync(join(dir, 'scripts'));
    mkdirSync(join(dir, 'apps', 'api', 'src'), { recursive: true });
    copyFileSync(SCRIPT, join(dir, 'scripts', 'build-if-stale.js'));
    const build =
      "node -e \"const fs=require('fs');fs.mkdirSync('dist/apps',{recursive:true});fs.appendFileSync('builds.log','x');console.log('compiled')\"";
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'probe', private: true, scripts: { build } }));
    writeFileSync(join(dir, 'builds.log'), '');
    writeFileSync(join(dir, 'apps', 'api', 'src', 'main.ts'), 'export const a = 1;\n');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('builds the first time, then not again while nothing changed; build output never reaches stdout', async () => {
    const first = await run();
    expect(first).toMatchObject({ code: 0, stdout: '' });
    expect(first.stderr).toMatch(/compiled/);
    expect(await run()).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(builds()).toBe(1);
  });

  it('builds again after a source changed, was added or was removed; a spec file does not count', async () => {
    await run();
    const main = join(dir, 'apps', 'api', 'src', 'main.ts');
    writeFileSync(main, 'export const a = 2;\n');
    utimesSync(main, new Date(), new Date(Date.now() + 5000));
    await run();
    expect(builds()).toBe(2);
    writeFileSync(join(dir, 'apps', 'api', 'src', 'extra.ts'), 'export const b = 1;\n');
    await run();
    expect(builds()).toBe(3);
    rmSync(join(dir, 'apps', 'api', 'src', 'extra.ts'));
    await run();
    expect(builds()).toBe(4);
    writeFileSync(join(dir, 'apps', 'api', 'src', 'main.spec.ts'), 'it.todo("x");\n');
    await run();
    expect(builds()).toBe(4);
  });

  it('fails, and remembers nothing, when the build fails', async () => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ ...pkg, scripts: { build: 'node -e "process.exit(3)"' } }),
    );
    expect((await run()).code).toBe(3);
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
    await run();
    expect(builds()).toBe(1);
  });
});
