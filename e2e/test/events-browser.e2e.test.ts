import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBrowser } from './browser.ts';
import { type Member, eventually, startStack } from './stack.ts';

/**
 * The web app a browser runs: it asks the gateway for a stream ticket with its bearer token and follows
 * the organisation's post events with a real EventSource, as the README shows. What it received, and
 * whether its stream closed, are kept on `window` for the test to read.
 */
const WEB_APP = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Postwire live events</title></head>
<body><h1>Live events</h1><ul id="events"></ul>
<script>
  window.received = [];
  window.follow = async (api, authorization, types) => {
    const answer = await fetch(api + '/v1/events/tickets', {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ types }),
    });
    if (!answer.ok) throw new Error('no ticket: ' + answer.status);
    const { url } = await answer.json();
    const source = new EventSource(api + url);
    window.source = source;
    source.addEventListener('post.published', (event) => {
      window.received.push({ id: event.lastEventId, type: event.type, data: JSON.parse(event.data) });
      const item = document.createElement('li');
      item.textContent = event.type + ' ' + event.lastEventId;
      document.getElementById('events').append(item);
    });
    await new Promise((resolve, reject) => {
      source.onopen = resolve;
      source.onerror = () => reject(new Error('the stream did not open'));
    });
    return url;
  };
</script></body></html>`;

/** Serves the web app on an origin of its own (another port is another origin). */
async function serveWebApp(): Promise<{ readonly origin: string; close(): Promise<void> }> {
  const server: Server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(WEB_APP);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * Runs the page's `follow` for `member`: the stream URL it opened. An error thrown in the page is rethrown
 * with its message only (its stack names the page's address, which is no file to report from).
 */
async function follow(page: Page, api: string, member: Member): Promise<string> {
  try {
    return String(await page.evaluate(`follow(${JSON.stringify(api)}, ${JSON.stringify(member.authorization)}, 'post.*')`));
  } catch (error) {
    throw new Error(`in the page: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
}

type Received = { readonly id: string; readonly type: string; readonly data: { readonly postId: string } };

describe('live events in a browser: a web app follows post events with EventSource and a stream ticket', () => {
  const browser = useBrowser();
  let stack: Awaited<ReturnType<typeof startStack>>;
  let allowed: Awaited<ReturnType<typeof serveWebApp>>;
  let elsewhere: Awaited<ReturnType<typeof serveWebApp>>;
  let alice: Member;
  let outsider: Member;

  beforeAll(async () => {
    allowed = await serveWebApp();
    elsewhere = await serveWebApp();
    stack = await startStack({ publishers: 1, gatewayEnvironment: { GATEWAY_WEB_ORIGINS: allowed.origin } });
    alice = await stack.member();
    outsider = await stack.member();
    await eventually(async () => ((await stack.gateway.inject('/readyz')).statusCode === 200 ? true : undefined), 'the gateway to be ready', { timeoutMs: 60_000 });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await allowed?.close();
    await elsewhere?.close();
  });

  const request = (member: Member, method: 'GET' | 'POST', url: string, body?: unknown) =>
    stack.gateway.inject({ method, url, headers: { authorization: member.authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });

  async function connectedPage(member: Member): Promise<string> {
    await stack.connectFacebook(member);
    const accounts = await eventually(async () => {
      const listed = (await request(member, 'GET', '/v1/accounts?status=active')).json<{ data: { id: string; platform: string }[] }>().data;
      return listed.length === 4 ? listed : undefined;
    }, 'four connected accounts', { timeoutMs: 30_000 });
    const page = accounts.find((account) => account.platform === 'facebook');
    if (!page) throw new Error('no Facebook Page connected');
    return page.id;
  }

  it("receives the organisation's post.published in the page, from a ticket that never shows in the logs", async () => {
    const facebookPage = await connectedPage(alice);
    const page = await browser.page();
    await page.goto(`${allowed.origin}/`);
    const streamUrl = await follow(page, stack.gatewayUrl, alice);
    expect(streamUrl).toMatch(/^\/v1\/events\?ticket=/);
    // Another organisation's stream, open all along, in a browser of its own.
    const outsiders = await browser.page();
    await outsiders.goto(`${allowed.origin}/`);
    await follow(outsiders, stack.gatewayUrl, outsider);

    const created = await request(alice, 'POST', '/v1/posts', { socialAccountId: facebookPage, platform: 'facebook', postType: 'feed', caption: 'Fresh from the oven', media: [], publishNow: true });
    expect([201, 202], created.body).toContain(created.statusCode);
    const postId = String(created.headers.location).split('/').at(-1);

    const received = await eventually(async () => {
      const events = (await page.evaluate('window.received')) as Received[];
      return events.some((event) => event.data.postId === postId) ? events : undefined;
    }, 'post.published in the page', { timeoutMs: 90_000 });
    expect(received.filter((event) => event.data.postId === postId)).toEqual([{ id: expect.stringMatching(/^[0-9a-f-]{36}$/), type: 'post.published', data: expect.objectContaining({ postId, platform: 'facebook' }) }]);
    expect(await page.locator('#events li').count()).toBe(received.length);
    expect(await outsiders.evaluate('window.received')).toEqual([]);

    const sealed = decodeURIComponent(streamUrl.slice('/v1/events?ticket='.length)).split(':')[4] ?? '';
    expect(sealed.length).toBeGreaterThan(40);
    const log = stack.logLines.join('\n');
    expect(log).toContain('/v1/events?ticket=%5Bredacted%5D');
    expect(log).not.toContain(sealed);
  });

  it('gives a page from an origin that is not configured nothing to read', async () => {
    const page = await browser.page();
    await page.goto(`${elsewhere.origin}/`);
    await expect(follow(page, stack.gatewayUrl, alice)).rejects.toThrow(/Failed to fetch/);
  });
});
