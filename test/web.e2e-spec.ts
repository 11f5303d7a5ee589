import AxeBuilder from '@axe-core/playwright';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { IncidentImporter, parseIncidentFile } from '@app/incidents';
import { ApiClient, startTestApp, type TestApp } from '@app/testing';
import { buildWeb } from '../apps/web/build';
import { ARTIFACTS, describeBrowser, openPage, type WatchedPage } from './support/browser';

/**
 * The web page in headless Chromium against the real service with the example incidents: sign-in through the URL
 * fragment, the list, Storm-0558's timeline on both axes, the time controls, the audit history, writes with their
 * validation errors, live updates, accessibility (axe) and the rule that user text is never inserted as HTML.
 * Every test fails on a console error, an uncaught exception or a dialog.
 */
const EXAMPLES = join(__dirname, '..', 'examples', 'incidents');
const STORM = 'storm-0558';
/** A browser on a busy machine: each test gets two minutes (axe four); nothing waits a fixed time. */
const BROWSER_TEST_MS = 120_000;

describeBrowser('web page (e2e, headless Chromium)', (browser) => {
  let app: TestApp;
  let api: ApiClient;
  let writer: string;
  let reader: string;
  const pages: WatchedPage[] = [];

  beforeAll(async () => {
    await buildWeb();
    app = await startTestApp();
    api = new ApiClient(app.baseUrl, app.adminToken);
    const importer = app.app.get(IncidentImporter);
    const files = readdirSync(EXAMPLES)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => parseIncidentFile(name, readFileSync(join(EXAMPLES, name), 'utf8')));
    const reports = [];
    for (const file of files) reports.push(await importer.importRecord(file));
    for (const [index, file] of files.entries()) await importer.importLinks(file, reports[index]);
    expect(reports.flatMap((report) => report.errors)).toEqual([]);
    writer = await app.token(['incidents:read', 'incidents:write'], 'alice');
    reader = await app.token(['incidents:read'], 'bob');
  }, 60_000);

  afterAll(async () => {
    await app?.close();
  });

  /** A fresh tab signed in the way a person does it: the token command's link, `/#token=...`. */
  async function signIn(path: string, token = writer): Promise<WatchedPage> {
    const watched = await openPage(browser(), `${app.baseUrl}${path}#token=${token}`);
    pages.push(watched);
    return watched;
  }

  afterEach(async () => {
    const errors = pages.flatMap((watched) => watched.errors);
    for (const watched of pages.splice(0)) await watched.context.close();
    expect(errors).toEqual([]);
  });

  const facts = (page: Page) => page.locator('ol.fact-list > li');
  const fact = (page: Page, text: string) => facts(page).filter({ hasText: text });

  async function timelineOf(id: string, query = ''): Promise<any[]> {
    const response = await api.get(`/v1/incidents/${id}/timeline?includeRetracted=true${query}`);
    return response.body.items;
  }

  it(
    'signs in from #token=, drops the token from the address bar and keeps it in sessionStorage only',
    async () => {
      const { page } = await signIn('/');
      await expect(page.getByRole('heading', { name: 'Incidents', level: 1 }).isVisible()).resolves.toBe(true);
      await page.getByRole('link', { name: STORM }).waitFor();
      expect(page.url()).toBe(`${app.baseUrl}/`);
      // Browser globals, evaluated in the page (this file is compiled without the DOM library).
      const storage = await page.evaluate(
        '({ session: Object.values({ ...sessionStorage }), local: localStorage.length, cookie: document.cookie })',
      );
      expect(storage).toEqual({ session: [writer], local: 0, cookie: '' });
      const rows = page.locator('table.incidents tbody tr');
      expect(await rows.count()).toBe(4);
      await page.screenshot({ path: join(ARTIFACTS, 'list.png') });
    },
    BROWSER_TEST_MS,
  );

  it(
    'filters the list by status and keeps the filter in the URL',
    async () => {
      const { page } = await signIn('/');
      await page.getByRole('link', { name: STORM }).waitFor();
      await page.getByLabel('Status').selectOption('contained');
      await page.waitForURL(/status=contained/);
      // The unfiltered list shows salt-typhoon too: wait until a second row is gone (no script is evaluated in the page:
      // its CSP forbids it), then check the one row left.
      const oneRow = async () => {
        await page.locator('table.incidents tbody tr').nth(1).waitFor({ state: 'detached', timeout: 10_000 });
        await page.getByRole('link', { name: 'salt-typhoon' }).waitFor();
      };
      await oneRow();
      expect(await page.locator('table.incidents tbody tr').count()).toBe(1);
      await page.reload();
      await oneRow();
      expect(await page.locator('table.incidents tbody tr').count()).toBe(1);
    },
    BROWSER_TEST_MS,
  );

  it(
    'opens Storm-0558 from the list: header, a time axis and one list item per fact',
    async () => {
      const { page } = await signIn('/');
      await page.getByRole('link', { name: STORM }).click();
      await page.waitForURL(`${app.baseUrl}/incidents/${STORM}`);
      await page.getByRole('heading', { level: 1, name: /Storm-0558/ }).waitFor();
      const expected = await timelineOf(STORM);
      await fact(page, expected[0].summary.slice(0, 40)).waitFor();
      expect(await facts(page).count()).toBe(expected.length);
      for (const item of await facts(page).all()) expect(await item.getAttribute('role')).toBe('listitem');
      expect(await page.locator('.time-axis svg g.mark').count()).toBe(expected.length);
      // Imprecise dates are bars, dates known to the day are points.
      expect(await page.locator('.time-axis svg g.mark rect').count()).toBeGreaterThan(0);
      expect(await page.locator('.time-axis svg g.mark circle').count()).toBeGreaterThan(0);
      const capture = fact(page, 'key capture');
      expect(await capture.locator('code.edtf').textContent()).toBe('../2023-05-15');
      expect(await capture.locator('.confidence').textContent()).toBe('possible');
      expect(await capture.locator('.flag.corrected').isVisible()).toBe(true);
      expect(await capture.getByRole('link').first().getAttribute('href')).toMatch(/^https:\/\//);
      await expect(page.getByRole('link', { name: 'salt-typhoon' }).isVisible()).resolves.toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, 'incident.png') });
    },
    BROWSER_TEST_MS,
  );

  it(
    'moves Known at from 2023-10-01 to 2024-06-01 and the crash-dump claim changes confidence; the URL keeps it',
    async () => {
      const { page } = await signIn(`/incidents/${STORM}`);
      const capture = fact(page, 'key capture');
      await capture.waitFor();
      await page.getByLabel('Known at', { exact: true }).fill('2023-10-01');
      await page.waitForURL(/knownAt=2023-10-01/);
      await capture.locator('.confidence', { hasText: 'likely' }).waitFor();
      expect(await capture.locator('code.edtf').textContent()).toBe('2021-04/2023-05-15');

      await page.getByLabel('Known at', { exact: true }).fill('2024-06-01');
      await page.waitForURL(/knownAt=2024-06-01/);
      await capture.locator('.confidence', { hasText: 'possible' }).waitFor();
      expect(await capture.locator('.flag.corrected').isVisible()).toBe(true);

      await page.reload();
      await capture.locator('.confidence', { hasText: 'possible' }).waitFor();
      expect(await page.getByLabel('Known at', { exact: true }).inputValue()).toBe('2024-06-01');
    },
    BROWSER_TEST_MS,
  );

  it(
    'steps through the days public knowledge changed with the slider, by keyboard',
    async () => {
      const { page } = await signIn(`/incidents/${STORM}`);
      const slider = page.getByRole('slider', { name: 'Public knowledge changed on' });
      await slider.waitFor();
      await fact(page, 'key capture').waitFor();
      await slider.focus();
      await page.keyboard.press('Home');
      await page.waitForURL(/knownAt=\d{4}-\d{2}-\d{2}/);
      const first = new URL(page.url()).searchParams.get('knownAt')!;
      const expected = await timelineOf(STORM, `&knownAt=${first}`);
      await page.waitForFunction(`document.querySelectorAll('ol.fact-list > li').length === ${expected.length}`);
      await page.keyboard.press('End');
      await page.waitForURL((url) => !url.searchParams.has('knownAt'));
      expect(await slider.getAttribute('aria-valuetext')).toBe('now');
    },
    BROWSER_TEST_MS,
  );

  it(
    'shows the audit history, oldest first, with type, who recorded it, and reasons',
    async () => {
      const { page } = await signIn(`/incidents/${STORM}`);
      await page.getByRole('link', { name: 'Audit history' }).click();
      await page.waitForURL(`${app.baseUrl}/incidents/${STORM}/history`);
      const rows = page.locator('table.history tbody tr');
      await rows.first().waitFor();
      const history = (await api.get(`/v1/incidents/${STORM}/history?limit=200`)).body.items;
      expect(await rows.count()).toBe(history.length);
      expect(await rows.first().locator('td').nth(1).textContent()).toBe('IncidentOpened');
      const correction = rows.filter({ hasText: 'containing the impacted key material' });
      expect(await correction.count()).toBe(1);
      expect(await correction.locator('td').nth(1).textContent()).toBe('FactCorrected');
      expect(await correction.locator('td').nth(6).textContent()).toContain(
        'Microsoft updated its September 2023 post',
      );
      expect(await correction.locator('td').nth(2).textContent()).toBe(
        history.find((e: any) => e.type === 'FactCorrected').actor.sub,
      );
    },
    BROWSER_TEST_MS,
  );

  it(
    'records a fact from the page and a second page sees it appear live, without reload',
    async () => {
      const watcher = await signIn(`/incidents/${STORM}`, reader);
      await watcher.page.getByText('Live: new facts and status changes appear here').waitFor();
      await fact(watcher.page, 'key capture').waitFor();
      const before = await facts(watcher.page).count();
      // The reader has no write scope: no forms.
      expect(await watcher.page.getByRole('button', { name: 'Record fact' }).count()).toBe(0);

      const { page } = await signIn(`/incidents/${STORM}`);
      await fact(page, 'key capture').waitFor();
      const summary = `Live check: a fact recorded from the page ${Date.now()}`;
      await page.getByLabel('Kind').selectOption('detection');
      await page.getByLabel('Occurred at').first().fill('2023-06-20');
      await page.getByLabel('Summary').first().fill(summary);
      await page.getByRole('button', { name: 'Record fact' }).click();
      await page.getByText(/Fact recorded \(version \d+\)/).waitFor();
      await fact(page, summary).waitFor();

      await fact(watcher.page, summary).waitFor();
      expect(await facts(watcher.page).count()).toBe(before + 1);
      const history = (await api.get(`/v1/incidents/${STORM}/history?limit=200`)).body.items;
      expect(history.at(-1)).toMatchObject({ type: 'IntrusionDetected', actor: { sub: 'alice' } });
    },
    BROWSER_TEST_MS,
  );

  it(
    'shows the service validation errors next to the fields they name, and records nothing',
    async () => {
      const { page, expectRefusal } = await signIn(`/incidents/${STORM}`);
      expectRefusal(`/v1/incidents/${STORM}/facts`, 400);
      await fact(page, 'key capture').waitFor();
      const countBefore = (await timelineOf(STORM)).length;
      await page.getByLabel('Occurred at').first().fill('sometime in spring');
      await page.getByLabel('Source URL').fill('ftp://example.org/report');
      await page.getByRole('button', { name: 'Record fact' }).click();
      const occurred = page.locator('[data-field="occurredAt"]');
      await occurred.waitFor();
      expect(await page.locator('[data-field="summary"]').isVisible()).toBe(true);
      expect(await page.locator('[data-field="sources.url"]').isVisible()).toBe(true);
      expect(await page.getByLabel('Occurred at').first().getAttribute('aria-invalid')).toBe('true');
      const describedBy = await page.getByLabel('Summary').first().getAttribute('aria-describedby');
      expect(describedBy).toContain('record-summary-error');
      expect(await page.getByRole('alert').first().textContent()).toMatch(/failed validation/);
      expect((await timelineOf(STORM)).length).toBe(countBefore);
    },
    BROWSER_TEST_MS,
  );

  it(
    'corrects a fact with a reason and changes the status from the page',
    async () => {
      const { page, expectRefusal } = await signIn(`/incidents/${STORM}`);
      expectRefusal(`/v1/incidents/${STORM}/facts/`, 400);
      const target = fact(page, 'State Department');
      await target.first().waitFor();
      await target.first().getByRole('button', { name: 'Correct this fact' }).click();
      const form = page.locator('form', { has: page.getByRole('heading', { name: /Correct the/ }) });
      await form.getByLabel('Confidence').selectOption('likely');
      await form.getByRole('button', { name: 'Record correction' }).click();
      await form.locator('[data-field="reason"]').waitFor();
      await form.getByLabel('Reason for the correction').fill('Checked against the CSRB report');
      await form.getByRole('button', { name: 'Record correction' }).click();
      await target.first().locator('.confidence', { hasText: 'likely' }).waitFor();
      expect(await target.first().locator('.flag.corrected').isVisible()).toBe(true);

      const status = page.locator('form', { has: page.getByRole('heading', { name: 'Change status' }) });
      await status.getByLabel('New status').selectOption('investigating');
      await status.getByLabel('Reason').fill('Reopened to check the new claim');
      await status.getByRole('button', { name: 'Change status' }).click();
      await page.locator('.incident-header .badge', { hasText: 'investigating' }).waitFor();
      const history = (await api.get(`/v1/incidents/${STORM}/history?limit=200`)).body.items;
      expect(history.at(-1)).toMatchObject({
        type: 'IncidentStatusChanged',
        actor: { sub: 'alice' },
        data: { from: 'resolved', to: 'investigating', reason: 'Reopened to check the new claim' },
      });
    },
    BROWSER_TEST_MS,
  );

  it(
    'shows markup and script in user text as written and runs none of it',
    async () => {
      const { page } = await signIn(`/incidents/${STORM}`);
      await fact(page, 'key capture').waitFor();
      const summary = `<img src=x onerror="window.__pwned='img'"> and </script><script>window.__pwned='script'</script>`;
      const actor = `<b onmouseover="window.__pwned='actor'">Storm</b></script>`;
      const title = `javascript:window.__pwned='link'`;
      await page.getByLabel('Kind').selectOption('other');
      await page.getByLabel('Occurred at').first().fill('2023-07');
      await page.getByLabel('Summary').first().fill(summary);
      await page.getByLabel('Actors').fill(actor);
      await page.getByLabel('Source URL').fill('https://example.org/report');
      await page.getByLabel('Source title').fill(title);
      await page.getByRole('button', { name: 'Record fact' }).click();
      const item = fact(page, 'and </script>');
      await item.waitFor();
      expect(await item.locator('.fact-summary').textContent()).toBe(summary);
      expect(await item.locator('.fact-actors').textContent()).toBe(`Actors: ${actor}`);
      const link = item.getByRole('link', { name: title });
      expect(await link.getAttribute('href')).toBe('https://example.org/report');
      await link.hover();
      expect(await item.locator('img, script, b').count()).toBe(0);
      expect(await page.evaluate('window.__pwned')).toBeUndefined();
      await page.reload();
      await item.waitFor();
      expect(await page.evaluate('window.__pwned')).toBeUndefined();
      expect(await page.locator('ol.fact-list img').count()).toBe(0);
    },
    BROWSER_TEST_MS,
  );

  it(
    'brings the sign-in form back with a message for an expired token, and signs in with a pasted one',
    async () => {
      const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const expired = `${encode({ alg: 'ES256' })}.${encode({ sub: 'carol', scope: 'incidents:read', exp: 1_700_000_000 })}.c2ln`;
      const { page } = await signIn('/', expired);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      expect(await page.getByRole('alert').textContent()).toMatch(/expired/);
      expect(await page.evaluate('sessionStorage.length')).toBe(0);
      await page.getByLabel('Bearer token').fill(reader);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('link', { name: STORM }).waitFor();
      expect(await page.getByText('Signed in as').textContent()).toContain('bob');
    },
    BROWSER_TEST_MS,
  );

  it(
    'has no serious or critical accessibility violation on the list, incident and history pages (axe)',
    async () => {
      const { page } = await signIn('/');
      await page.getByRole('link', { name: STORM }).waitFor();
      const serious = async () =>
        (await new AxeBuilder({ page }).analyze()).violations
          .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
          .map(
            (violation) =>
              `${violation.id}: ${violation.help} (${violation.nodes.map((n) => n.target.join(' ')).join(', ')})`,
          );
      expect(await serious()).toEqual([]);
      await page.getByRole('link', { name: STORM }).click();
      await fact(page, 'key capture').waitFor();
      expect(await serious()).toEqual([]);
      await page.getByRole('link', { name: 'Audit history' }).click();
      await page.locator('table.history tbody tr').first().waitFor();
      expect(await serious()).toEqual([]);
    },
    2 * BROWSER_TEST_MS,
  );

  it(
    'is usable by keyboard alone: tab to an incident, open it, reach the time controls',
    async () => {
      const { page } = await signIn('/');
      await page.getByRole('link', { name: STORM }).waitFor();
      for (let i = 0; i < 40; i += 1) {
        await page.keyboard.press('Tab');
        if ((await page.evaluate('document.activeElement?.textContent')) === STORM) break;
      }
      await page.keyboard.press('Enter');
      await page.waitForURL(`${app.baseUrl}/incidents/${STORM}`);
      await fact(page, 'key capture').waitFor();
      await page.getByLabel('Known at', { exact: true }).focus();
      expect(await page.evaluate('document.activeElement?.id')).toBe('at-knownAt');
    },
    BROWSER_TEST_MS,
  );

  // Needs GET /v1/incidents/{id}/diff, which the time-model work adds to the service; until then the page shows the
  // two views side by side and this test fails.
  it(
    'shows what changed between two Known at dates from the diff route',
    async () => {
      const { page } = await signIn(`/incidents/${STORM}`);
      await fact(page, 'key capture').waitFor();
      await page.getByLabel('From (known at)').fill('2023-10-01');
      await page.getByLabel('To (known at)').fill('2024-06-01');
      await page.getByRole('button', { name: 'Compare' }).click();
      const changed = page.getByRole('region', { name: 'Facts changed' });
      await changed.waitFor({ timeout: 10_000 });
      const capture = changed.locator('li.diff-changed', { hasText: 'key capture' });
      expect(await capture.getByText('confidence').count()).toBeGreaterThan(0);
      expect(await capture.locator('del', { hasText: 'likely' }).count()).toBeGreaterThan(0);
      expect(await capture.locator('ins', { hasText: 'possible' }).count()).toBeGreaterThan(0);
    },
    BROWSER_TEST_MS,
  );
});
