// A real browser for end-to-end tests: Debian's Chromium driven by playwright-core, one browser per test file
// (launched before the first test, closed after the last), a fresh context per test.
//
//   import { browserSuite } from '../helpers/browser.js';
//   browserSuite((test) => {
//     test('the popup opens', async (t) => {
//       const page = await t.context.newPage({ width: 1200, height: 800 });
//       ...
//     });
//   });
//
// Without Chromium the suite is skipped and the run says so once (test/helpers/skips.ts; `npm test` leaves the
// browser files out), except under CI, where that is a failure.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { backends, type Backend } from './db.js';
import { CHROMIUM_PATH, CHROMIUM_SKIPPED, inCi, recordSkip } from './skips.js';

export { CHROMIUM_PATH, CHROMIUM_SKIPPED };
export const CHROMIUM_REQUIRED_IN_CI = `CI is set but ${CHROMIUM_PATH} does not exist: the browser tests must run in CI (apt-get install chromium)`;

// Without the background-networking flags Chromium keeps trying to reach Google's services on a closed network.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

const root = fileURLToPath(new URL('../..', import.meta.url));
export const SCREENSHOT_DIR = join(root, 'test-output', 'screenshots');

export interface Viewport {
  width: number;
  height: number;
}

/** The popup's size as the Magento admin opens it (integration.js), and a phone. */
export const POPUP: Viewport = { width: 680, height: 510 };
export const PHONE: Viewport = { width: 375, height: 667 };

export interface BrowserTestContext {
  /**
   * A new page in a context of its own (no shared cookies), closed when the test ends. `viewport: null` lets
   * window.open's width and height decide the size of popups, as in a desktop browser.
   */
  newPage(viewport: Viewport | null): Promise<Page>;
  contexts: BrowserContext[];
}

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/**
 * Declares a file's browser tests with one shared browser. Missing Chromium: recorded as skipped, plus one skipped
 * test (ava refuses a file without tests); under CI it throws, which fails the file.
 */
export function browserSuite(define: (test: TestFn<BrowserTestContext>) => void): void {
  const test = anyTest as TestFn<BrowserTestContext>;
  if (!chromiumAvailable()) {
    if (inCi()) throw new Error(CHROMIUM_REQUIRED_IN_CI);
    recordSkip(test.meta.file, 'the browser tests', CHROMIUM_SKIPPED);
    // ava refuses a file without tests; `npm test` does not run browser files without Chromium at all.
    test.skip(CHROMIUM_SKIPPED, () => {});
    return;
  }

  let browser: Browser | undefined;
  test.before('launch Chromium', async () => {
    // launch() gives Chromium a fresh temporary profile of its own and removes it on close.
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  });
  test.after.always('close Chromium', async () => {
    await browser?.close().catch(() => {});
  });
  test.beforeEach((t) => {
    t.context.contexts = [];
    t.context.newPage = async (viewport) => {
      if (!browser) throw new Error('Chromium is not running');
      const context = await browser.newContext({ viewport });
      t.context.contexts.push(context);
      return context.newPage();
    };
  });
  test.afterEach.always(async (t) => {
    await Promise.all(t.context.contexts.map((c) => c.close().catch(() => {})));
  });
  define(test);
}

// ---------------------------------------------------------------------------------------------------------------
// What a person checks on a page

/** Horizontal scrolling: the document is wider than the window. */
/**
 * Clicks a button whose page closes itself (window.close() in its handler, or a page it leads to) and waits for the
 * page's close event. The
 * click can race the close: Chromium may drop the page before it answers the click, and Playwright then rejects the
 * click with "Target page, context or browser has been closed". That answer is the success being looked for, so it is
 * accepted once the close event came; any other failure of the click is the test's.
 */
export async function clickToClose(page: Page, button: Locator, timeout = 30_000): Promise<void> {
  const closed = page.waitForEvent('close', { timeout });
  closed.catch(() => {}); // awaited below unless the click failed otherwise, which is then the error reported
  const error = await button.click().then(
    () => undefined,
    (failure: unknown) => failure,
  );
  if (error !== undefined && !(error instanceof Error && /Target page, context or browser has been closed/.test(error.message))) throw error;
  await closed;
}

export async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; innerWidth: number }> {
  return page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
}

/** Inputs (other than hidden ones), selects and text areas that have no label[for], wrapping label or aria-label. */
export async function unlabelledFields(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>('input, select, textarea'))
      .filter((el) => el.type !== 'hidden')
      .filter((el) => {
        const byFor = el.id !== '' && document.querySelector(`label[for="${CSS.escape(el.id)}"]`) !== null;
        const wrapped = el.closest('label') !== null;
        const aria = (el.getAttribute('aria-label') ?? '').trim() !== '' || el.hasAttribute('aria-labelledby');
        return !(byFor || wrapped || aria);
      })
      .map((el) => el.outerHTML),
  );
}

/**
 * Tabs from the top of the page until `selector` has the focus (at most 30 presses) and returns the focused
 * element's computed outline, so the caller can check the keyboard focus is visible.
 */
export async function outlineWhenTabbedTo(page: Page, selector: string): Promise<{ reached: boolean; outlineStyle: string; outlineWidth: string }> {
  await page.evaluate(() => {
    (document.activeElement as HTMLElement | null)?.blur();
    window.scrollTo(0, 0);
  });
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector)) {
      const outline = await page.evaluate(() => {
        const style = getComputedStyle(document.activeElement!);
        return { outlineStyle: style.outlineStyle, outlineWidth: style.outlineWidth };
      });
      return { reached: true, ...outline };
    }
  }
  return { reached: false, outlineStyle: 'none', outlineWidth: '0px' };
}

/** The three checks in one go: no horizontal scrolling, every field labelled, visible focus on `focusSelector`. */
export async function assertUsable(t: ExecutionContext, page: Page, what: string, focusSelector: string): Promise<void> {
  const { scrollWidth, innerWidth } = await horizontalOverflow(page);
  t.true(scrollWidth <= innerWidth, `${what}: scrolls sideways (scrollWidth ${scrollWidth} > innerWidth ${innerWidth})`);
  t.deepEqual(await unlabelledFields(page), [], `${what}: every field has a label`);
  const focus = await outlineWhenTabbedTo(page, focusSelector);
  t.true(focus.reached, `${what}: Tab reaches ${focusSelector}`);
  t.not(focus.outlineStyle, 'none', `${what}: the focused ${focusSelector} shows an outline`);
  t.not(focus.outlineWidth, '0px', `${what}: the focused ${focusSelector} shows an outline`);
}

/** A full-page screenshot under test-output/screenshots/<name>.png (git-ignored), for a person to look at. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * The backends the browser tests run on: SQLite, which is enough for what a browser can tell apart; with
 * BROWSER_TEST_BACKENDS=all every backend the run covers (PostgreSQL too when TEST_POSTGRES_URL is set).
 */
export function browserBackends(): Backend[] {
  return process.env.BROWSER_TEST_BACKENDS === 'all' ? backends() : ['sqlite'];
}
