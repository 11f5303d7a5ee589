import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebBuildFiles } from './web-build';

describe('WebBuildFiles', () => {
  let directory: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'web-build-'));
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('has no page before the build ran, so the page routes can say how to build it', () => {
    expect(new WebBuildFiles(directory).html()).toBeUndefined();
  });

  it('serves only hashed names the build writes, and only files that exist', () => {
    mkdirSync(join(directory, 'assets'));
    writeFileSync(join(directory, 'assets', 'main-ABCD2345.js'), '');
    writeFileSync(join(directory, 'assets', 'notes.txt'), '');
    const files = new WebBuildFiles(directory);
    expect(files.asset('main-ABCD2345.js')).toBe(join(directory, 'assets', 'main-ABCD2345.js'));
    expect(files.asset('main-ABCD2346.js')).toBeUndefined();
    expect(files.asset('notes.txt')).toBeUndefined();
    expect(files.asset('../index.html')).toBeUndefined();
  });
});
