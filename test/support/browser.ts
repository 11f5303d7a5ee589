import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Where the browser suites get Chromium: CHROMIUM_PATH, else Debian's /usr/bin/chromium. Without one the suite is
 * skipped with a message saying how to get it, except under REQUIRE_BROWSER=1 (CI), where it fails. The Playwright
 * browser download is not used: CI reaches package registries only.
 */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((path): path is string => path !== undefined && path !== '' && existsSync(path));
}

export const ARTIFACTS = join(__dirname, '..', 'artifacts');

export function describeBrowser(title: string, body: (browser: () => Browser) => void): void {
  const executablePath = chromiumPath();
  if (executablePath === undefined) {
    const reason =
      'no Chromium found: install it (Debian: apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium binary';
    if (process.env.REQUIRE_BROWSER === '1') {
      describe(title, () => {
        it('has a browser (REQUIRE_BROWSER=1)', () => {
          throw new Error(`No browser for "${title}": ${reason}.`);
        });
      });
      return;
    }
    const bar = '!'.repeat(100);
    console.warn(`${bar}\n!! SKIPPED: "${title}" needs a browser: ${reason}.\n${bar}`);
    describe.skip(`${title} [skipped: no browser]`, () => body(() => notAvailable(title)));
    return;
  }
  describe(title, () => {
    let browser: Browser | undefined;
    beforeAll(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      // The sandbox needs user namespaces, which CI containers running as root do not grant.
      browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    }, 60_000);
    body(() => browser ?? notAvailable(title));
    afterAll(async () => {
      await browser?.close();
    });
  });
}

function notAvailable(title: string): never {
  throw new Error(`No browser for "${title}"`);
}

/** A page that remembers every console error and uncaught exception, so a test can require there were none. */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  errors: string[];
  /**
   * The browser logs every 4xx answer to fetch as a console error. A test that provokes a refusal on purpose names
   * it here (a part of the URL and the status); any other failed request still counts as an error.
   */
  expectRefusal(urlPart: string, status: number): void;
}

export async function openPage(browser: Browser, url: string): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: { width: 1400, height: 900 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  const page = await context.newPage();
  const errors: string[] = [];
  const refusals: { urlPart: string; status: number }[] = [];
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const failed = /^Failed to load resource: the server responded with a status of (\d+)/.exec(message.text());
    const url = message.location().url;
    if (failed !== null && refusals.some((r) => url.includes(r.urlPart) && r.status === Number(failed[1]))) return;
    errors.push(`console: ${message.text()} (${url})`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    errors.push(`dialog opened: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await page.goto(url);
  return { page, context, errors, expectRefusal: (urlPart, status) => refusals.push({ urlPart, status }) };
}
