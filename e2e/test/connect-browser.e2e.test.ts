import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBrowser } from './browser.ts';
import { type Member, startStack } from './stack.ts';

/**
 * Connecting accounts as a person does, in headless Chromium through the real stack: a web app's page,
 * the gateway, the Meta sandbox's consent page, the accounts service, and back to the app.
 */
describe('connecting accounts in a browser', () => {
  const browser = useBrowser();
  let stack: Awaited<ReturnType<typeof startStack>>;
  let app: Server;
  let appOrigin = '';

  beforeAll(async () => {
    // The web app: a settings page with "Connect" links, and the page it is sent back to.
    app = createServer((request, response) => {
      const url = new URL(request.url ?? '/', appOrigin);
      const start = (provider: string) =>
        `${stack.gatewayUrl}/v1/connect/${provider}/start?returnTo=${encodeURIComponent(`${appOrigin}/settings/accounts?tab=connected`)}`;
      response.setHeader('content-type', 'text/html; charset=utf-8');
      response.end(
        url.pathname === '/'
          ? `<!doctype html><html lang="en"><title>Settings</title><main><h1>Settings</h1><a href="${start('instagram')}">Connect Instagram</a> <a href="${start('facebook')}">Connect Facebook</a></main></html>`
          : `<!doctype html><html lang="en"><title>Accounts</title><main><h1>Back in the app</h1></main></html>`,
      );
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appOrigin = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    stack = await startStack({ gatewayEnvironment: { GATEWAY_WEB_ORIGINS: appOrigin } });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await new Promise((resolve) => app?.close(resolve));
  });

  /**
   * A page whose browser starts flows as the member: its bearer token goes with the start (what the web app's
   * own requests carry) and nowhere else. Meta's callback has only the browser's cookies.
   */
  async function pageAs(member: Member): Promise<Page> {
    const page = await browser.page();
    await page.route(`${stack.gatewayUrl}/v1/connect/*/start*`, (route) => route.continue({ headers: { ...route.request().headers(), authorization: member.authorization } }));
    return page;
  }

  const heading = (page: Page) => page.getByRole('heading', { level: 1 }).innerText();
  const authorizations = () => stack.logLines.filter((line) => line.includes('"message":"account authorized"')).length;

  /** Consent on the sandbox's page as a person would: its Allow (Instagram) or Continue (Facebook) button, or Cancel. */
  async function consent(page: Page, decision: 'allow' | 'deny', uncheck: readonly string[] = []) {
    await page.waitForURL(`${stack.sandbox.baseUrl}/**`);
    for (const scope of uncheck) await page.getByRole('checkbox', { name: scope }).uncheck();
    const button = decision === 'deny' ? 'Cancel' : /^(Allow|Continue)$/;
    await page.getByRole('button', { name: button }).click();
  }

  /** Where the browser settles: back in the app, or a result page once it no longer says "still connecting". */
  async function landed(page: Page, where: 'app' | 'result') {
    if (where === 'app') await page.waitForURL(`${appOrigin}/**`, { timeout: 60_000 });
    // A still-connecting page refreshes itself until the outcome is known.
    else await page.locator('main[data-outcome]:not([data-outcome="authorized"])').waitFor({ timeout: 60_000 });
    return new URL(page.url());
  }

  it('from the app to the consent page and back to the app with the connected account', async () => {
    const member = await stack.member();
    const page = await pageAs(member);
    await page.goto(`${appOrigin}/`);
    await page.getByRole('link', { name: 'Connect Instagram' }).click();
    await consent(page, 'allow');
    const back = await landed(page, 'app');
    expect(back.pathname).toBe('/settings/accounts');
    expect(back.searchParams.get('tab')).toBe('connected');
    expect(back.searchParams.get('postwire_connect')).toBe('connected');
    expect(back.searchParams.get('postwire_provider')).toBe('instagram');
    expect(back.searchParams.get('postwire_code')).toBeNull();
    expect(await heading(page)).toBe('Back in the app');

    const listed = await stack.gateway.inject({ url: '/v1/accounts', headers: { authorization: member.authorization } });
    const accounts = listed.json<{ data: { id: string; username: string }[] }>().data;
    expect(accounts.map((account) => account.username)).toEqual(['postwire.bakery']);
    expect(back.searchParams.get('postwire_accounts')).toBe(accounts[0]?.id);

    // Back to the consent page and Allow again: the same outcome, and nothing exchanged or connected twice.
    const before = authorizations();
    expect(before).toBeGreaterThan(0);
    await page.goBack();
    await consent(page, 'allow');
    const again = await landed(page, 'app');
    expect(again.search).toBe(back.search);
    expect(authorizations()).toBe(before);
  });

  it("from the app's own script: a credentialed fetch of the start (bearer, JSON), then the consent page, then back", async () => {
    const member = await stack.member();
    // A plain page of the app, with no help from the test: its script sends the bearer token itself, across origins.
    const page = await browser.page();
    await page.goto(`${appOrigin}/`);
    const returnTo = `${appOrigin}/settings/accounts?tab=connected`;
    const started = await page.evaluate(
      async ({ url, authorization }) => {
        const response = await fetch(url, { credentials: 'include', headers: { authorization, accept: 'application/json' } });
        return { status: response.status, body: (await response.json()) as { authorizationUrl?: string } };
      },
      { url: `${stack.gatewayUrl}/v1/connect/instagram/start?returnTo=${encodeURIComponent(returnTo)}`, authorization: member.authorization },
    );
    expect(started.status).toBe(200);
    expect(started.body.authorizationUrl).toMatch(new RegExp(`^${stack.sandbox.baseUrl}/`));
    await page.goto(started.body.authorizationUrl ?? '');
    await consent(page, 'allow');
    const back = await landed(page, 'app');
    expect(back.searchParams.get('postwire_connect')).toBe('connected');
    expect(back.searchParams.get('postwire_provider')).toBe('instagram');
    expect(back.searchParams.get('postwire_accounts')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('declining on the consent page returns to the app with the failure', async () => {
    const page = await pageAs(await stack.member());
    await page.goto(`${appOrigin}/`);
    await page.getByRole('link', { name: 'Connect Facebook' }).click();
    await consent(page, 'deny');
    const back = await landed(page, 'app');
    expect(Object.fromEntries(back.searchParams)).toEqual({ tab: 'connected', postwire_connect: 'failed', postwire_provider: 'facebook', postwire_code: 'consent-declined' });
  });

  it('without a returnTo: a readable result page, the same on a reload, and its link starts again', async () => {
    const page = await pageAs(await stack.member());
    await page.goto(`${stack.gatewayUrl}/v1/connect/instagram/start`);
    await consent(page, 'allow');
    const callback = await landed(page, 'result');
    expect(callback.origin).toBe(stack.gatewayUrl);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.title()).toBe('Accounts connected · Instagram · Postwire');
    expect(await page.getByRole('main').isVisible()).toBe(true);
    expect(await heading(page)).toBe('Accounts connected');
    expect(await page.getByRole('listitem').allInnerTexts()).toEqual(['Instagram account @postwire.bakery (business)']);
    const text = await page.getByRole('main').innerText();

    const before = authorizations();
    expect(before).toBeGreaterThan(0);
    await page.reload();
    expect(await heading(page)).toBe('Accounts connected');
    expect(await page.getByRole('main').innerText()).toBe(text);
    expect(authorizations()).toBe(before);

    await page.getByRole('navigation', { name: 'Next steps' }).getByRole('link', { name: 'Connect more accounts' }).click();
    await page.waitForURL(`${stack.sandbox.baseUrl}/**`);
    expect(await page.getByRole('button', { name: 'Allow' }).isVisible()).toBe(true);
  });

  it('a permission left unticked is named once, in words beside its scope name, and the page offers to start again', async () => {
    const page = await pageAs(await stack.member());
    await page.goto(`${stack.gatewayUrl}/v1/connect/instagram/start`);
    await consent(page, 'allow', ['instagram_business_content_publish']);
    await landed(page, 'result');
    expect(await heading(page)).toBe('Nothing was connected');
    expect(await page.getByRole('heading', { level: 2 }).allInnerTexts()).toEqual(['Permissions not granted']);
    const row = page.getByRole('row').filter({ hasText: 'instagram_business_content_publish' });
    expect(await row.getByRole('cell').allInnerTexts()).toEqual(['Publish posts to your Instagram account', 'instagram_business_content_publish']);
    expect(await page.getByRole('columnheader').allInnerTexts()).toEqual(['Permission', 'Scope']);
    const text = await page.getByRole('main').innerText();
    expect(text.split('instagram_business_content_publish')).toHaveLength(2);
    expect(text.split('Postwire needs every permission')).toHaveLength(2);
    expect(await page.getByRole('link', { name: 'Start again' }).getAttribute('href')).toBe(`${stack.gatewayUrl}/v1/connect/instagram/start`);
    // Still said the same way after a reload.
    await page.reload();
    expect(await page.getByRole('main').innerText()).toBe(text);
  });

  it('a returnTo on another origin is refused before anything starts', async () => {
    const page = await pageAs(await stack.member());
    const answer = await page.goto(`${stack.gatewayUrl}/v1/connect/instagram/start?returnTo=${encodeURIComponent('https://evil.example/')}`);
    expect(answer?.status()).toBe(400);
    expect(new URL(page.url()).origin).toBe(stack.gatewayUrl);
    expect(await heading(page)).toBe('Nothing was connected');
    expect(await page.getByRole('main').innerText()).toContain('origin is not one of the web apps');
  });
});

