import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { startTestApp, type TestApp } from '@app/testing';
import { freshBuild } from './support/fresh-build';

const ROOT = resolve(__dirname, '..');
const COMMANDS = ['import', 'rebuild', 'export', 'migrate', 'token'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

// Each case starts the CLI as a process (some of them twice), which takes seconds on a busy machine.
jest.setTimeout(90_000);

describe('command line (e2e, built and run as a process)', () => {
  let build: { dir: string; entry: string };
  let dataDir: string;
  let workDir: string;

  function cli(args: string[], options: { dataDir?: string; cwd?: string } = {}): Promise<Run> {
    return new Promise((resolveRun) => {
      execFile(
        process.execPath,
        [build.entry, ...args],
        {
          cwd: options.cwd ?? workDir,
          env: { PATH: process.env.PATH, DATA_DIR: options.dataDir ?? dataDir },
          maxBuffer: 64 * 1024 * 1024,
        },
        (error, stdout, stderr) =>
          resolveRun({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  beforeAll(async () => {
    build = await freshBuild('apps/cli/src/main.js');
    dataDir = mkdtempSync(join(tmpdir(), 'incident-cli-'));
    workDir = mkdtempSync(join(tmpdir(), 'incident-cli-cwd-'));
  }, 300_000);

  afterAll(() => {
    for (const dir of [build?.dir, dataDir, workDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(COMMANDS)('`%s --help` prints its usage, exits 0 and touches nothing', async (command) => {
    const untouched = join(tmpdir(), `incident-cli-untouched-${command}-${process.pid}`);
    const cwd = mkdtempSync(join(tmpdir(), 'incident-cli-help-'));
    try {
      for (const help of ['--help', '-h']) {
        const result = await cli([command, help], { dataDir: untouched, cwd });
        expect(result).toMatchObject({ code: 0, stderr: '' });
        expect(result.stdout).toMatch(/^usage: npm run/);
      }
      expect(existsSync(untouched)).toBe(false);
      expect(readdirSync(cwd)).toEqual([]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('answers the command list to --help (exit 0) and to nothing (exit 2)', async () => {
    expect(await cli(['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('export') });
    expect(await cli(['help', 'export'])).toMatchObject({ code: 0, stdout: expect.stringContaining('--known-at') });
    expect(await cli([])).toMatchObject({ code: 2, stdout: '' });
  });

  it.each([
    [['frobnicate'], /unknown command: frobnicate/],
    [['migrate', '--to=nowhere'], /--to must be one of postgres, eventstoredb/],
    [['migrate'], /--to is required/],
    [['rebuild', 'now'], /unexpected argument: now/],
    [['rebuild', '--quick'], /unknown argument: --quick/],
    [['export', '--incident=storm-0558'], /--format is required/],
    [['export', '--incident', 'storm-0558', '--format', 'pdf'], /--format must be one of stix, markdown, csv/],
    [['export', '--incident', 'storm-0558', '--format=csv', '--known-at=yesterday'], /--known-at must be a date/],
    [['export', '--format=csv'], /--format needs --incident/],
    [['export', '--incident'], /--incident needs a value/],
    [['import'], /give at least one file or directory/],
    [['token', '--scopes=incidents:read'], /--sub is required/],
  ])('refuses %j as a usage error: exit 2, the reason and the usage on stderr', async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/usage: npm run/);
  });

  describe('on a data directory with the example incidents', () => {
    let app: TestApp | undefined;

    beforeAll(async () => {
      const imported = await cli(['import', join(ROOT, 'examples', 'incidents')]);
      expect(imported).toMatchObject({ code: 0, stdout: expect.stringContaining('imported 4 file(s)') });
    }, 60_000);

    afterAll(async () => {
      await app?.close();
    });

    it('exports each format to the file the HTTP export names, with the same bytes (--flag=value forms too)', async () => {
      const cwd = mkdtempSync(join(tmpdir(), 'incident-cli-export-'));
      try {
        expect(await cli(['export', '--incident', 'storm-0558', '--format', 'stix'], { cwd })).toMatchObject({
          code: 0,
        });
        expect(await cli(['export', '--incident=storm-0558', '--format=markdown'], { cwd })).toMatchObject({ code: 0 });
        const known = await cli(['export', '--incident=storm-0558', '--format=csv', '--known-at=2023-10-01'], { cwd });
        expect(known).toMatchObject({ code: 0 });
        expect(readdirSync(cwd).sort()).toEqual([
          'storm-0558-known-2023-10-01.csv',
          'storm-0558.md',
          'storm-0558.stix.json',
        ]);

        app = await startTestApp({ dataDir });
        const head = await app.app.get<EventStore>(EVENT_STORE).headPosition();
        for (const [query, file] of [
          ['format=stix', 'storm-0558.stix.json'],
          ['format=markdown', 'storm-0558.md'],
          ['format=csv&knownAt=2023-10-01', 'storm-0558-known-2023-10-01.csv'],
        ]) {
          const response = await fetch(`${app.baseUrl}/v1/incidents/storm-0558/export?${query}&minPosition=${head}`, {
            headers: { authorization: `Bearer ${app.adminToken}` },
          });
          expect(await response.text()).toBe(readFileSync(join(cwd, file), 'utf8'));
        }
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
    });

    it('writes to stdout with --out -, and says so when the incident does not exist', async () => {
      const csv = await cli(['export', '--incident=dnc-2016', '--format=csv', '--out=-']);
      expect(csv.code).toBe(0);
      expect(csv.stdout.split('\r\n')[0]).toMatch(/^factId,kind,occurredAt,/);
      expect(await cli(['export', '--incident=no-such-incident', '--format=csv', '--out=-'])).toMatchObject({
        code: 1,
        stdout: '',
        stderr: 'no incident no-such-incident\n',
      });
    });

    it('keeps the NDJSON log export: `export <file>` writes every event, one per line', async () => {
      const file = join(workDir, 'events.ndjson');
      const result = await cli(['export', file]);
      expect(result.code).toBe(0);
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(result.stderr).toBe(`exported ${lines.length} event(s)\n`);
      expect(lines.map((line) => JSON.parse(line).position)).toEqual(lines.map((_, index) => index + 1));
    });

    it('refuses to rebuild while an API process holds DATA_DIR, unless --force; rebuilds once it stopped', async () => {
      app ??= await startTestApp({ dataDir });
      const refused = await cli(['rebuild']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        new RegExp(`refusing to rebuild: DATA_DIR .* is in use by api pid ${process.pid} on .*\\n.*--force`),
      );
      expect(await cli(['rebuild', '--force'])).toMatchObject({ code: 0 });
      await app.close();
      app = undefined;
      // Off a terminal, quiet but for the final line; with --progress, lines with the rate and the time left.
      const rebuilt = await cli(['rebuild']);
      expect(rebuilt.code).toBe(0);
      expect(rebuilt.stderr).toMatch(/^rebuilt read models from \d+ event\(s\) in \d+ transaction\(s\), \d+ ms\n$/);
      const shown = await cli(['rebuild', '--progress']);
      expect(shown.code).toBe(0);
      expect(shown.stderr).toMatch(
        /^rebuild: 100% \((\d+)\/\1 events, \d+ events\/s, ETA 0s\)\nrebuilt read models from \1 /,
      );
    });
  });
});
