import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventOf, type accountEvents, accountRequests } from '@postwire/contracts';
import { type Observed, type TopicObserver, eventually, observeTopic, startMetaSandbox, submitConsent } from '@postwire/testing';
import { answerAuthorized, buildGateway, createMembers, testEnvironment } from './helpers.ts';

const APP = 'https://app.example.com';

/** Connecting from a web app: returnTo, the outcome sent back to it, and a completed callback answered again. */
describe('connecting accounts from a web app', () => {
  let sandbox: Awaited<ReturnType<typeof startMetaSandbox>>;
  let gateway: FastifyInstance;
  let members: Awaited<ReturnType<typeof createMembers>>;
  let bearer: string;
  let organisationId: string;
  let observer: TopicObserver | undefined;
  const observed = (): Observed[] => observer?.messages ?? [];

  beforeAll(async () => {
    sandbox = await startMetaSandbox();
    members = await createMembers();
    ({ gateway } = await buildGateway(testEnvironment(members.url, { META_SANDBOX_URL: sandbox.baseUrl, GATEWAY_WEB_ORIGINS: `${APP},http://localhost:5173` })));
    ({ authorization: bearer, organisationId } = await members.member());
    observer = await observeTopic(accountRequests.name);
  });

  afterAll(async () => {
    await observer?.stop();
    await gateway.close();
    await sandbox.close();
    await members.close();
  });

  const cookiesOf = (response: LightMyRequestResponse) => [response.headers['set-cookie'] ?? []].flat().map(String);
  const cookieValue = (response: LightMyRequestResponse, name: string) => cookiesOf(response).find((header) => header.startsWith(`${name}=`))?.split(';')[0] ?? '';

  async function start(provider: 'facebook' | 'instagram', query = '', authorization = bearer) {
    const response = await gateway.inject({ url: `/v1/connect/${provider}/start${query}`, headers: { authorization } });
    expect(response.statusCode, response.body).toBe(302);
    return { dialog: String(response.headers.location), cookie: cookieValue(response, 'pw_connect') };
  }

  /** A page as a person reads it: its "Start again" carries a ticket sealed afresh for each answer. */
  const withoutTicket = (page: LightMyRequestResponse) => page.body.replace(/\?ticket=[^"]+"/g, '?ticket=…"');

  const returnTo = (path = '/settings/accounts?tab=connected') => `?returnTo=${encodeURIComponent(`${APP}${path}`)}`;
  const visit = (url: URL | string, cookie: string, accept = 'text/html') =>
    gateway.inject({ url: typeof url === 'string' ? url : `${url.pathname}${url.search}`, headers: { cookie, accept } });

  function requestsOf(organisation: string) {
    return observed().filter((entry) => entry.headers.ce_organisationid === organisation);
  }

  const answerAs = (authorized: Observed, events: readonly EventOf<typeof accountEvents>[]) => answerAuthorized(authorized, organisationId, events, gateway.log);

  const authorizedFor = (correlationId: string) =>
    eventually(() => observed().find((entry) => entry.headers.ce_correlationid === correlationId), 'account.authorized', { timeoutMs: 15_000 });

  it.each([
    ['another origin', 'https://evil.example/settings', 'origin-not-allowed'],
    ['a look-alike host', 'https://app.example.com.evil.example/', 'origin-not-allowed'],
    ['credentials before the host', 'https://app.example.com@evil.example/', 'credentials'],
    ['a relative path', '/settings', 'not-absolute'],
    ['a scheme-relative URL', '//evil.example/', 'not-absolute'],
    ['a script URL', 'javascript:alert(1)', 'not-http'],
    ['a URL too long', `${APP}/${'a'.repeat(1100)}`, 'too-long'],
  ])('refuses a returnTo with %s: 400 return-to-not-allowed, and no flow is started', async (_what, value, reason) => {
    const response = await gateway.inject({
      url: `/v1/connect/facebook/start?returnTo=${encodeURIComponent(value)}`,
      headers: { authorization: bearer, accept: 'application/json' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.json()).toMatchObject({
      type: 'https://postwire.dev/problems/return-to-not-allowed',
      reason,
      instance: '/v1/connect/facebook/start',
      errors: [{ location: 'querystring', field: 'returnTo', code: 'return-to-not-allowed' }],
    });
    expect(response.headers.location).toBeUndefined();
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it('a gateway with no web origins configured returns to none', async () => {
    const { gateway: closed } = await buildGateway(testEnvironment(members.url, { META_SANDBOX_URL: sandbox.baseUrl }));
    try {
      const response = await closed.inject({ url: `/v1/connect/facebook/start${returnTo()}`, headers: { authorization: bearer, accept: 'application/json' } });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'return-to-not-allowed', reason: 'origin-not-allowed' });
    } finally {
      await closed.close();
    }
  });

  it('declined with a returnTo: back to the app with the failure (303), the same again on a reload, and nothing emitted', async () => {
    const { dialog, cookie } = await start('facebook', returnTo());
    const redirect = await submitConsent(dialog, 'deny');
    // The returnTo travels sealed in the cookie: a returnTo in the callback's query is not read.
    redirect.searchParams.set('returnTo', 'https://evil.example/');
    const answer = await visit(redirect, cookie);
    expect(answer.statusCode).toBe(303);
    expect(answer.headers.location).toBe(`${APP}/settings/accounts?tab=connected&postwire_connect=failed&postwire_provider=facebook&postwire_code=consent-declined`);
    const result = cookieValue(answer, 'pw_connect_result');
    expect(result).toMatch(/^pw_connect_result=.+/);
    expect(cookiesOf(answer).find((header) => header.startsWith('pw_connect_result='))).toMatch(/Max-Age=600;.*Path=\/v1\/connect;.*HttpOnly;.*SameSite=Lax/);

    // The browser reloads: the flow's cookie is gone, its result is not.
    const again = await visit(redirect, result);
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).toBe(answer.headers.location);
    // Even an API client repeating it is sent back: the flow asked to return there.
    expect((await visit(redirect, result, 'application/json')).headers.location).toBe(answer.headers.location);
    await observer?.caughtUp();
    expect(requestsOf(organisationId).filter((entry) => entry.headers.ce_correlationid === answer.headers['x-correlation-id'])).toEqual([]);
  });

  it('declined without a returnTo: the result page, the same page on a reload, and another browser is still refused', async () => {
    const { dialog, cookie } = await start('instagram');
    const redirect = await submitConsent(dialog, 'deny');
    const page = await visit(redirect, cookie);
    expect(page.statusCode).toBe(400);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-/);
    expect(page.body).toContain('data-outcome="denied"');
    // "Start again" works in a plain browser: the start URL with a ticket for this flow's user.
    expect(page.body).toMatch(/<a href="http:\/\/127\.0\.0\.1:3000\/v1\/connect\/instagram\/start\?ticket=[^"&]+">Start again<\/a>/);

    const result = cookieValue(page, 'pw_connect_result');
    const reload = await visit(redirect, result);
    expect(reload.statusCode).toBe(400);
    expect(withoutTicket(reload)).toBe(withoutTicket(page));
    // Reloaded with both cookies as a browser may still send them: the kept result, not "already used".
    expect(withoutTicket(await visit(redirect, `${cookie}; ${result}`))).toBe(withoutTicket(page));
    const asJson = await visit(redirect, result, 'application/json');
    expect(asJson.json()).toMatchObject({ type: 'https://postwire.dev/problems/consent-declined', status: 400, instance: '/v1/connect/instagram/callback' });

    const elsewhere = await visit(redirect, '', 'application/json');
    expect(elsewhere.statusCode).toBe(400);
    expect(elsewhere.json()).toMatchObject({ code: 'connect-session-invalid', reason: 'missing' });
    // The result cookie is bound to its flow: another provider's callback or another state finds nothing in it.
    const otherState = new URL(redirect);
    otherState.searchParams.set('state', 'A'.repeat(43));
    expect((await visit(otherState, result, 'application/json')).json()).toMatchObject({ code: 'connect-session-invalid' });
  });

  it('connected with a returnTo: the status page, then back to the app with the account ids; a reload of either answers the same', async () => {
    const { dialog, cookie } = await start('facebook', returnTo('/done'));
    const redirect = await submitConsent(dialog, 'allow');
    // No accounts service answers here in time: still connecting, the status page sends the browser on.
    const pending = await visit(redirect, cookie);
    expect(pending.statusCode).toBe(202);
    expect(pending.body).toContain('data-outcome="authorized"');
    const statusUrl = String(pending.headers.location);
    const attemptCookie = cookieValue(pending, 'pw_connect_attempt');
    const pendingResult = cookieValue(pending, 'pw_connect_result');
    // A reload while still connecting shows the status page again, without a second account.authorized.
    const stillPending = await visit(redirect, pendingResult);
    expect(stillPending.statusCode).toBe(202);
    expect(stillPending.headers.location).toBe(statusUrl);

    const authorized = await authorizedFor(String(pending.headers['x-correlation-id']));
    const socialAccountId = String(authorized.data.socialAccountId);
    const instagramId = '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d';
    await answerAs(authorized, [
      { type: 'account.connected', data: connected(socialAccountId, 'facebook', 'Postwire Bakery') },
      { type: 'account.connected', data: connected(instagramId, 'instagram', 'postwire.bakery') },
    ] as EventOf<typeof accountEvents>[]);

    const done = await eventually(
      async () => {
        const answer = await visit(statusUrl, `${attemptCookie}; ${pendingResult}`);
        return answer.statusCode === 202 ? undefined : answer;
      },
      'the outcome',
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(done.statusCode).toBe(303);
    const back = new URL(String(done.headers.location));
    expect(back.origin + back.pathname).toBe(`${APP}/done`);
    expect(back.searchParams.get('postwire_connect')).toBe('connected');
    expect(back.searchParams.get('postwire_code')).toBeNull();
    expect(back.searchParams.get('postwire_accounts')?.split(',').sort()).toEqual([socialAccountId, instagramId].sort());

    const result = cookieValue(done, 'pw_connect_result');
    expect((await visit(statusUrl, result)).headers.location).toBe(done.headers.location);
    expect((await visit(redirect, result)).headers.location).toBe(done.headers.location);
    await observer?.caughtUp();
    expect(observed().filter((entry) => entry.headers.ce_correlationid === pending.headers['x-correlation-id'])).toHaveLength(1);
  });

  it('a missing permission without a returnTo: the page names it once in words, and says so again on a reload', async () => {
    const { dialog, cookie } = await start('instagram');
    const redirect = await submitConsent(dialog, 'allow');
    const pending = await visit(redirect, cookie);
    const statusUrl = String(pending.headers.location);
    const authorized = await authorizedFor(String(pending.headers['x-correlation-id']));
    await answerAs(authorized, [
      {
        type: 'account.connection-failed',
        data: {
          socialAccountId: String(authorized.data.socialAccountId),
          platform: 'instagram',
          stage: 'scope-check',
          error: { category: 'permission', message: 'Postwire needs every permission it asked for to publish. Connect again and allow: instagram_business_content_publish.', retryable: false },
          consecutiveFailures: 1,
          missingScopes: ['instagram_business_content_publish'],
        },
      },
    ] as EventOf<typeof accountEvents>[]);
    const failed = await eventually(
      async () => {
        const answer = await visit(statusUrl, cookieValue(pending, 'pw_connect_attempt'));
        return answer.statusCode === 202 ? undefined : answer;
      },
      'the outcome',
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(failed.statusCode).toBe(422);
    expect(failed.body.split('instagram_business_content_publish')).toHaveLength(2);
    expect(failed.body).toContain('<td>Publish posts to your Instagram account</td><td><code>instagram_business_content_publish</code></td>');
    const result = cookieValue(failed, 'pw_connect_result');
    const reload = await visit(redirect, result);
    expect(reload.statusCode).toBe(422);
    expect(withoutTicket(reload)).toBe(withoutTicket(failed));
    expect((await visit(redirect, result, 'application/json')).json()).toMatchObject({
      type: 'https://postwire.dev/problems/permission-missing',
      errors: [{ field: 'scope', code: 'permission-missing', message: 'instagram_business_content_publish was not granted' }],
    });
  });

  it('a reconnect keeps its account in "Start again"; a flow refused for membership returns to the app with forbidden', async () => {
    const account = '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e';
    const { dialog, cookie } = await start('instagram', `?accountId=${account}`);
    const page = await visit(await submitConsent(dialog, 'deny'), cookie);
    // The link's ticket carries the account (connect-tickets.int.test.ts follows one).
    const link = /<a href="([^"]+)">Start again<\/a>/.exec(page.body)?.[1] ?? '';
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:3000\/v1\/connect\/instagram\/start\?ticket=/);

    const fresh = await buildGateway(testEnvironment(members.url, { META_SANDBOX_URL: sandbox.baseUrl, GATEWAY_MEMBERSHIP_CACHE_MS: '0', GATEWAY_WEB_ORIGINS: APP }));
    try {
      const leaver = await members.member();
      const started = await fresh.gateway.inject({ url: `/v1/connect/instagram/start${returnTo('/x')}`, headers: { authorization: leaver.authorization } });
      const redirect = await submitConsent(String(started.headers.location), 'allow');
      await members.leave(leaver.userId);
      const answer = await fresh.gateway.inject({ url: `${redirect.pathname}${redirect.search}`, headers: { cookie: cookieValue(started, 'pw_connect') } });
      expect(answer.statusCode).toBe(303);
      expect(answer.headers.location).toBe(`${APP}/x?postwire_connect=failed&postwire_provider=instagram&postwire_code=forbidden`);
    } finally {
      await fresh.gateway.close();
    }
  });
});

function connected(socialAccountId: string, platform: 'facebook' | 'instagram', username: string) {
  return {
    socialAccountId,
    platform,
    accountType: platform === 'facebook' ? 'page' : 'business',
    platformAccountId: platform === 'facebook' ? '1000000000001' : '17841400008460056',
    username,
    profilePictureUrl: null,
    pageId: '1000000000001',
    pageName: 'Postwire Bakery',
    capabilities: { feed: true, stories: platform === 'instagram', reels: platform === 'instagram' },
    // Never read here: any well-formed ciphertext.
    accessToken: `enc:v1:test-1:${'A'.repeat(16)}:${'B'.repeat(24)}:${'C'.repeat(22)}`,
    tokenExpiresAt: null,
    connectedAt: new Date().toISOString(),
    reconnected: false,
  };
}
