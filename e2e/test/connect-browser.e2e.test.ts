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
    // The web app, on another site than the gateway (localhost, the gateway 127.0.0.1): a settings page whose
    // script asks for a connect ticket with the member's bearer token (from the page's fragment, as an app
    // keeps its own token) and navigates there, and the page it is sent back to.
    app = createServer((request, response) => {
      const url = new URL(request.url ?? '/', appOrigin);
      const script = `
        const ask = async (provider, returnTo) => {
          const response = await fetch(${JSON.stringify(stack.gatewayUrl)} + '/v1/connect/' + provider + '/tickets', {
            method: 'POST',
            headers: { authorization: decodeURIComponent(location.hash.slice(1)), 'content-type': 'application/json' },
            body: JSON.stringify({ returnTo }),
          });
          return { status: response.status, body: await response.json() };
        };
        window.ask = ask;
        for (const button of document.querySelectorAll('button[data-provider]')) {
          button.addEventListener('click', async () => {
            const answer = await ask(button.dataset.provider, ${JSON.stringify(`${appOrigin}/settings/accounts?tab=connected`)});
            location.assign(answer.body.url);
          });
        }`;
      response.setHeader('content-type', 'text/html; charset=utf-8');
      response.end(
        url.pathname === '/'
          ? `<!doctype html><html lang="en"><title>Settings</title><main><h1>Settings</h1><button data-provider="instagram">Connect Instagram</button> <button data-provider="facebook">Connect Facebook</button></main><script>${script}</script></html>`
          : `<!doctype html><html lang="en"><title>Accounts</title><main><h1>Back in the app</h1></main></html>`,
      );
    });
    // Every loopback address: the browser may look localhost up as ::1 or 127.0.0.1.
    await new Promise<void>((resolve) => app.listen(0, resolve));
    appOrigin = `http://localhost:${(app.address() as AddressInfo).port}`;
    stack = await startStack({ gatewayEnvironment: { GATEWAY_WEB_ORIGINS: appOrigin } });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await new Promise((resolve) => app?.close(resolve));
  });

  /** The app's settings page, opened as the member: its script holds their bearer token. No request is altered. */
  async function appAs(member: Member): Promise<Page> {
    const page = await browser.page();
    await page.goto(`${appOrigin}/#${encodeURIComponent(member.authorization)}`);
    return page;
  }

  /** A ticket URL for a flow without a returnTo, asked for as the app's server would, with the member's token. */
  async function ticketUrl(member: Member, provider: 'facebook' | 'instagram'): Promise<string> {
    const answer = await stack.gateway.inject({ method: 'POST', url: `/v1/connect/${provider}/tickets`, headers: { authorization: member.authorization } });
    expect(answer.statusCode, answer.body).toBe(201);
    return answer.json<{ url: string }>().url;
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
    const page = await appAs(member);
    await page.getByRole('button', { name: 'Connect Instagram' }).click();
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

  it('declining on the consent page returns to the app with the failure', async () => {
    const page = await appAs(await stack.member());
    await page.getByRole('button', { name: 'Connect Facebook' }).click();
    await consent(page, 'deny');
    const back = await landed(page, 'app');
    expect(Object.fromEntries(back.searchParams)).toEqual({ tab: 'connected', postwire_connect: 'failed', postwire_provider: 'facebook', postwire_code: 'consent-declined' });
  });

  it('without a returnTo: a readable result page, the same on a reload, and its link starts again', async () => {
    const member = await stack.member();
    const page = await browser.page();
    await page.goto(await ticketUrl(member, 'instagram'));
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
    const page = await browser.page();
    await page.goto(await ticketUrl(await stack.member(), 'instagram'));
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
    expect(await page.getByRole('link', { name: 'Start again' }).getAttribute('href')).toMatch(new RegExp(`^${stack.gatewayUrl}/v1/connect/instagram/start\\?ticket=`));
    // Still said the same way after a reload.
    await page.reload();
    expect(await page.getByRole('main').innerText()).toBe(text);
    // The link starts again in this plain browser: the consent page.
    await page.getByRole('link', { name: 'Start again' }).click();
    await page.waitForURL(`${stack.sandbox.baseUrl}/**`);
  });

  it('a returnTo on another origin is refused before anything starts, and a start without a ticket or token is a 401 page', async () => {
    const page = await appAs(await stack.member());
    const refused = await page.evaluate(() => (globalThis as unknown as { ask: (provider: string, returnTo: string) => Promise<{ status: number; body: { code?: string } }> }).ask('instagram', 'https://evil.example/'));
    expect(refused).toMatchObject({ status: 400, body: { code: 'return-to-not-allowed' } });

    const answer = await page.goto(`${stack.gatewayUrl}/v1/connect/instagram/start`);
    expect(answer?.status()).toBe(401);
    expect(new URL(page.url()).origin).toBe(stack.gatewayUrl);
    expect(await heading(page)).toBe('Nothing was connected');
  });
});
