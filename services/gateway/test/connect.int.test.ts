import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountRequests } from '@postwire/contracts';
import { createTokenCipher, eventFieldContext } from '@postwire/crypto';
import { type Observed, type TopicObserver, eventually, observeTopic, sandboxControl, startMetaSandbox, submitConsent } from '@postwire/testing';
import type { GatewayConfig } from '../src/config.ts';
import { answerAuthorized, buildGateway, createMembers, testEnvironment } from './helpers.ts';

describe('connect flows through the gateway, against the Meta sandbox', () => {
  let sandbox: Awaited<ReturnType<typeof startMetaSandbox>>;
  let gateway: FastifyInstance;
  let config: GatewayConfig;
  let logLines: string[];
  let observer: TopicObserver | undefined;
  const observed = (): Observed[] => observer?.messages ?? [];
  let members: Awaited<ReturnType<typeof createMembers>>;
  let userId: string;
  let organisationId: string;
  let bearer: string;

  beforeAll(async () => {
    sandbox = await startMetaSandbox();
    members = await createMembers();
    ({ gateway, config, logLines } = await buildGateway(testEnvironment(members.url, { META_SANDBOX_URL: sandbox.baseUrl })));
    ({ userId, organisationId, authorization: bearer } = await members.member());
    observer = await observeTopic(accountRequests.name);
  });

  afterAll(async () => {
    await observer?.stop();
    await gateway.close();
    await sandbox.close();
    await members.close();
  });

  async function start(provider: 'facebook' | 'instagram', query = '') {
    const response = await gateway.inject({ url: `/v1/connect/${provider}/start${query}`, headers: { authorization: bearer } });
    expect(response.statusCode, response.body).toBe(302);
    const cookie = String(response.headers['set-cookie']).split(';')[0] ?? '';
    return { dialog: String(response.headers.location), cookie, setCookie: String(response.headers['set-cookie']) };
  }

  async function callback(redirect: URL, cookie: string, accept = 'text/html') {
    return gateway.inject({ url: `${redirect.pathname}${redirect.search}`, headers: { cookie, accept } });
  }

  function eventFor(correlationId: string): Promise<Observed> {
    return eventually(
      () => observed().find((entry) => entry.headers.ce_correlationid === correlationId),
      `account.authorized with correlation ${correlationId}`,
      { timeoutMs: 15_000 },
    );
  }

  it('Facebook Login: PKCE dialog, consent, code exchange, and an encrypted account.authorized on Kafka', async () => {
    const { dialog, cookie, setCookie } = await start('facebook');
    const dialogUrl = new URL(dialog);
    expect(dialogUrl.origin).toBe(sandbox.baseUrl);
    expect(dialogUrl.pathname).toBe('/v25.0/dialog/oauth');
    expect(dialogUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(dialogUrl.searchParams.get('redirect_uri')).toBe('http://127.0.0.1:3000/v1/connect/facebook/callback');
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(setCookie).toMatch(/Path=\/v1\/connect/);

    const redirect = await submitConsent(dialog, 'allow');
    expect(redirect.searchParams.get('state')).toBe(dialogUrl.searchParams.get('state'));
    const answer = await callback(redirect, cookie, 'application/json');
    expect(answer.statusCode, answer.body).toBe(202);
    const result = answer.json();
    expect(result).toMatchObject({ outcome: 'authorized', provider: 'facebook' });
    expect(result.grantedScopes).toEqual(expect.arrayContaining(['instagram_content_publish', 'pages_manage_posts']));
    expect([answer.headers['set-cookie']].flat().join('\n')).toMatch(/^pw_connect=;/m);

    const event = await eventFor(String(answer.headers['x-correlation-id']));
    expect(event.headers).toMatchObject({
      ce_type: 'account.authorized',
      ce_source: '/postwire/gateway',
      ce_organisationid: organisationId,
      ce_actorid: userId,
      'content-type': 'application/json',
    });
    expect(event.data).toMatchObject({ socialAccountId: result.socialAccountId, platform: 'facebook', reconnect: false });
    const sealed = String(event.data.shortLivedToken);
    expect(sealed).toMatch(/^enc:v1:test-1:/);

    // The receiving side decrypts with the shared key ring and the event's own coordinates.
    const token = createTokenCipher(config.keyRing).decrypt(sealed, eventFieldContext('account.authorized', String(result.socialAccountId), 'shortLivedToken'));
    expect(token).toMatch(/^EAAU/);
    const me = await fetch(`${sandbox.baseUrl}/v25.0/me?access_token=${token}`);
    expect(me.status).toBe(200);
    // The plaintext token is nowhere: not in the event, not in the answer, not in any log line.
    expect(event.value).not.toContain(token);
    expect(answer.body).not.toContain(token);
    expect(logLines.join('')).not.toContain(token);
    expect(logLines.join('')).not.toContain(redirect.searchParams.get('code') ?? 'no-code');
  });

  it('the same login always yields the same account id, and a reconnect keeps the existing one', async () => {
    const first = await start('facebook');
    const one = (await callback(await submitConsent(first.dialog, 'allow'), first.cookie, 'application/json')).json();
    const again = await start('facebook');
    const two = (await callback(await submitConsent(again.dialog, 'allow'), again.cookie, 'application/json')).json();
    expect(two.socialAccountId).toBe(one.socialAccountId);

    const existing = randomUUID();
    const reconnect = await start('facebook', `?accountId=${existing}`);
    const answer = await callback(await submitConsent(reconnect.dialog, 'allow'), reconnect.cookie, 'application/json');
    expect(answer.json()).toMatchObject({ socialAccountId: existing });
    const event = await eventFor(String(answer.headers['x-correlation-id']));
    expect(event.data).toMatchObject({ socialAccountId: existing, reconnect: true });
  });

  it('Instagram Login: consent without PKCE, exchange, and the granted Instagram scopes on the event', async () => {
    const { dialog, cookie } = await start('instagram');
    const dialogUrl = new URL(dialog);
    expect(dialogUrl.pathname).toBe('/oauth/authorize');
    expect(dialogUrl.searchParams.get('code_challenge')).toBeNull();
    const answer = await callback(await submitConsent(dialog, 'allow'), cookie, 'application/json');
    expect(answer.statusCode, answer.body).toBe(202);
    const event = await eventFor(String(answer.headers['x-correlation-id']));
    expect(event.data).toMatchObject({ platform: 'instagram' });
    expect(event.data.grantedScopes).toEqual(expect.arrayContaining(['instagram_business_content_publish']));
  });

  it('a user who declines sees why nothing was connected, and nothing is emitted', async () => {
    const before = observed().length;
    const { dialog, cookie } = await start('facebook');
    const redirect = await submitConsent(dialog, 'deny');
    expect(redirect.searchParams.get('error')).toBe('access_denied');
    const page = await callback(redirect, cookie);
    expect(page.statusCode).toBe(400);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('data-outcome="denied"');
    expect(page.body).toContain('access was declined');
    // The gateway answers after Kafka acknowledged what it sent: once the observer has read the
    // topic to its end, an event from this flow would be in `observed`.
    await observer?.caughtUp();
    // Other runs may share the topic: only this organisation's events count.
    expect(observed().slice(before).filter((entry) => entry.headers.ce_organisationid === organisationId)).toEqual([]);
  });

  it('refuses a callback that does not belong to this browser’s flow, or that was already used', async () => {
    const a = await start('facebook');
    const b = await start('facebook');
    const redirectB = await submitConsent(b.dialog, 'allow');
    const crossed = await callback(redirectB, a.cookie, 'application/json');
    expect(crossed.statusCode).toBe(400);
    expect(crossed.json()).toMatchObject({ type: 'https://postwire.dev/problems/connect-session-invalid', reason: 'state-mismatch' });
    const noCookie = await callback(redirectB, '', 'application/json');
    expect(noCookie.json()).toMatchObject({ reason: 'missing' });

    const done = await callback(redirectB, b.cookie, 'application/json');
    expect(done.statusCode).toBe(202);
    const replay = await callback(redirectB, b.cookie, 'application/json');
    expect(replay.statusCode).toBe(400);
    expect(replay.json()).toMatchObject({ type: 'https://postwire.dev/problems/connect-session-used' });
  });

  it('a user who left the organisation between the start and Meta\'s answer connects nothing into it', async () => {
    // A gateway that looks membership up on every request, so the callback sees the change at once.
    const fresh = await buildGateway(testEnvironment(members.url, { META_SANDBOX_URL: sandbox.baseUrl ?? '', GATEWAY_MEMBERSHIP_CACHE_MS: '0' }));
    try {
      const leaver = await members.member();
      const started = await fresh.gateway.inject({ url: '/v1/connect/instagram/start', headers: { authorization: leaver.authorization } });
      expect(started.statusCode, started.body).toBe(302);
      const cookie = String(started.headers['set-cookie']).split(';')[0] ?? '';
      const redirect = await submitConsent(String(started.headers.location), 'allow');
      const before = observed().length;
      await members.leave(leaver.userId);

      const answer = await fresh.gateway.inject({ url: `${redirect.pathname}${redirect.search}`, headers: { cookie, accept: 'application/json' } });
      expect(answer.statusCode, answer.body).toBe(403);
      expect(answer.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(answer.json()).toMatchObject({ type: 'https://postwire.dev/problems/forbidden', detail: "this flow's organisation is not the user's organisation" });
      await observer?.caughtUp();
      expect(observed().slice(before).filter((entry) => entry.headers.ce_organisationid === leaver.organisationId)).toEqual([]);
    } finally {
      await fresh.gateway.close();
    }
  });

  it('starting a flow needs a bearer token, and an unknown provider is a 400', async () => {
    expect((await gateway.inject('/v1/connect/facebook/start')).statusCode).toBe(401);
    const unknown = await gateway.inject({ url: '/v1/connect/tiktok/start', headers: { authorization: bearer } });
    expect(unknown.statusCode).toBe(400);
  });

  it('API clients can ask for the dialog URL as JSON instead of a redirect', async () => {
    const response = await gateway.inject({ url: '/v1/connect/instagram/start', headers: { authorization: bearer, accept: 'application/json' } });
    expect(response.statusCode).toBe(200);
    expect(response.json().authorizationUrl).toMatch(new RegExp(`^${sandbox.baseUrl}/oauth/authorize\\?`));
  });

  it('a connect the accounts service fails after the callback answered is shown as failed to the browser that started it', async () => {
    const { dialog, cookie } = await start('facebook');
    const pending = await callback(await submitConsent(dialog, 'allow'), cookie);
    expect(pending.statusCode).toBe(202);
    expect(pending.body).toContain('data-outcome="authorized"');
    expect(pending.body).toContain('Keep it open');
    const statusUrl = String(pending.headers.location);
    expect(statusUrl).toMatch(/^\/v1\/connect\/facebook\/attempts\/[0-9a-f-]{36}$/);
    expect(pending.body).toContain(`<meta http-equiv="refresh" content="3;url=${statusUrl}">`);
    const attemptCookie = [pending.headers['set-cookie']].flat().map(String).find((header) => header.startsWith('pw_connect_attempt='))?.split(';')[0] ?? '';
    expect(attemptCookie).not.toBe('pw_connect_attempt=');

    // Still nothing known: the page keeps waiting.
    const waiting = await gateway.inject({ url: statusUrl, headers: { cookie: attemptCookie, accept: 'text/html' } });
    expect(waiting.statusCode).toBe(202);

    // What the accounts service emits when it dead-letters the request: caused by the account.authorized event.
    const authorized = await eventFor(String(pending.headers['x-correlation-id']));
    await answerAuthorized(
      authorized,
      organisationId,
      [
        {
          type: 'account.connection-failed',
          data: {
            socialAccountId: String(authorized.data.socialAccountId),
            platform: 'facebook',
            stage: 'token-exchange',
            error: { category: 'transient', message: 'Meta did not answer while connecting. Start again from "Connect accounts".', retryable: false },
            consecutiveFailures: 1,
          },
        },
      ],
      gateway.log,
    );

    const failed = await eventually(
      async () => {
        const page = await gateway.inject({ url: statusUrl, headers: { cookie: attemptCookie, accept: 'text/html' } });
        return page.statusCode === 202 ? undefined : page;
      },
      'the status page to show the outcome',
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(failed.statusCode).toBe(422);
    expect(failed.headers['content-type']).toMatch(/text\/html/);
    expect(failed.body).toContain('data-outcome="failed"');
    expect(failed.body).toContain('Meta did not answer while connecting.');
    const asJson = await gateway.inject({ url: statusUrl, headers: { cookie: attemptCookie, accept: 'application/json' } });
    expect(asJson.json()).toMatchObject({ outcome: 'failed', failures: [{ accountId: authorized.data.socialAccountId }] });
    // Another browser (no cookie of this attempt) learns nothing.
    expect((await gateway.inject({ url: statusUrl, headers: { accept: 'application/json' } })).statusCode).toBe(404);
  });

  it('a browser gets a readable page, not raw JSON, when a callback is refused', async () => {
    const { dialog, cookie } = await start('facebook');
    const redirect = await submitConsent(dialog, 'allow');
    const page = await callback(redirect, 'pw_connect=forged', 'text/html,application/xhtml+xml');
    expect(page.statusCode).toBe(400);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('data-outcome="failed"');
    expect(page.body).toContain('Start again.');
    expect((await callback(redirect, cookie, 'application/json')).statusCode).toBe(202);
  });

  it('when Meta fails the code exchange, the page says plainly to start again, not that anything will be retried', async () => {
    await sandboxControl(sandbox.baseUrl, 'POST', '/faults', {
      operation: 'facebook.access-token',
      kind: 'error',
      error: { code: 2, message: 'Service temporarily unavailable', isTransient: true, httpStatus: 503 },
      times: 1,
    });
    const { dialog, cookie } = await start('facebook');
    const page = await callback(await submitConsent(dialog, 'allow'), cookie, 'text/html');
    expect(page.statusCode).toBe(502);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('Start again from &#34;Connect accounts&#34; in a few minutes.');
    expect(page.body).not.toMatch(/we will retry/i);
  });
});
