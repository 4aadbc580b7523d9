import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';

/**
 * One headless Chromium per test file, driven by playwright-core: Debian's `chromium` package (installed
 * by `./postwire test` where apt-get can), never a browser build downloaded by Playwright. CHROMIUM_PATH
 * points elsewhere. A missing browser fails the file with a message saying how to install it; it is never
 * skipped.
 *
 *   const browser = useBrowser();
 *   it('…', async () => { const page = await browser.page(); await page.goto(url); … });
 *
 * Each `page()` is in a context of its own (its own cookies and storage), closed after the test; when a test
 * fails, a screenshot of each of its pages is written to `.tmp/screenshots/` at the repository root.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless as root in a container: no sandbox, no GPU, /tmp instead of a small /dev/shm. And no traffic of
 * Chromium's own (updates, sync, field trials, QUIC probes): the tests' pages are on loopback, and nothing else
 * is for the browser to reach.
 */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-domain-reliability',
  '--disable-features=OptimizationHints,MediaRouter,Translate',
];

const SCREENSHOTS = join(import.meta.dirname, '..', '..', '.tmp', 'screenshots');

export async function launchChromium(executablePath = CHROMIUM_PATH): Promise<Browser> {
  if (!existsSync(executablePath)) {
    throw new Error(
      `No Chromium at ${executablePath}: the browser tests need Debian's chromium (apt-get install -y chromium; ./postwire test installs it ` +
        'where apt-get is available) or CHROMIUM_PATH pointing at a Chromium binary.',
    );
  }
  return chromium.launch({ executablePath, headless: true, args: FLAGS, timeout: 60_000 });
}

export type BrowserHarness = {
  /** A fresh page in a context of its own: a new browser profile's cookies, as if another person. */
  page(options?: { readonly baseURL?: string }): Promise<Page>;
  /** The running browser, for what `page()` does not cover. */
  readonly browser: Browser;
};

/** Registers the file's hooks: launch before all tests, close each test's contexts after it, the browser after all. */
export function useBrowser(): BrowserHarness {
  let browser: Browser | undefined;
  let open: { context: BrowserContext; page: Page }[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  }, 90_000);

  afterEach(async ({ task }) => {
    const closing = open;
    open = [];
    // A failed test's state is already set when afterEach runs: keep what its pages showed.
    if (task.result?.state === 'fail') await screenshot(task.name, closing);
    for (const { context } of closing) await context.close();
  });

  afterAll(async () => {
    await browser?.close();
  });

  return {
    get browser() {
      if (!browser) throw new Error('the browser is launched in beforeAll: use it inside a test');
      return browser;
    },
    async page(options = {}) {
      if (!browser) throw new Error('the browser is launched in beforeAll: use it inside a test');
      const context = await browser.newContext(options.baseURL ? { baseURL: options.baseURL } : {});
      const page = await context.newPage();
      open.push({ context, page });
      return page;
    },
  };
}

/** Best effort: a screenshot that cannot be taken (page closed, browser gone) must not hide the test's own failure. */
async function screenshot(testName: string, pages: readonly { readonly page: Page }[]) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const stem = testName.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 80);
  for (const [index, { page }] of pages.entries()) {
    if (page.isClosed()) continue;
    await page.screenshot({ path: join(SCREENSHOTS, `${stem}-${index + 1}.png`), fullPage: true }).catch(() => undefined);
  }
}
