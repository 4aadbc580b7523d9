import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, useBrowser } from './browser.ts';

describe('the headless Chromium harness', () => {
  const browser = useBrowser();
  const server = createServer((request, response) => {
    response.setHeader('set-cookie', 'seen=yes; Path=/');
    response.setHeader('content-type', 'text/html; charset=utf-8');
    response.end(`<!doctype html><html lang="en"><title>Harness</title><h1>${request.headers.cookie ?? 'no cookie'}</h1></html>`);
  });
  let url = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('loads a page and keeps its cookies within one page’s context', async () => {
    const page = await browser.page();
    await page.goto(url);
    expect(await page.title()).toBe('Harness');
    await page.reload();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('seen=yes');
  });

  it('gives each page a context of its own: no cookies from another', async () => {
    const page = await browser.page();
    await page.goto(url);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('no cookie');
  });

  it('says how to install the browser when there is none, instead of skipping', async () => {
    await expect(launchChromium('/nonexistent/chromium')).rejects.toThrow(/apt-get install -y chromium.*CHROMIUM_PATH/);
  });
});
