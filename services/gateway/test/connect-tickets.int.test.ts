import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TokenCipher, createTokenCipher } from '@postwire/crypto';
import { startMetaSandbox, submitConsent } from '@postwire/testing';
import { newConnectSession, sealConnectSession } from '../src/domain/connect-session.ts';
import { CONNECT_TICKET_TTL_MS, issueConnectTicket, openConnectTicket } from '../src/domain/connect-ticket.ts';
import { issueStreamTicket } from '../src/domain/stream-ticket.ts';
import { type Member, buildGateway, createMembers, testEnvironment } from './helpers.ts';

const APP = 'https://app.example.com';
const ACCOUNT = '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e';

type Ticket = { readonly url: string; readonly expiresAt: string };

/** Connect tickets: a browser without a bearer token starts a flow by navigating to the URL a web app asked for. */
describe('connect tickets: starting a connect flow in a browser, without a bearer token', () => {
  let sandbox: Awaited<ReturnType<typeof startMetaSandbox>>;
  let members: Awaited<ReturnType<typeof createMembers>>;
  let environment: Record<string, string>;
  let gateway: FastifyInstance;
  let cipher: TokenCipher;
  let logLines: string[];
  let alice: Member;

  beforeAll(async () => {
    sandbox = await startMetaSandbox();
    members = await createMembers();
    alice = await members.member();
    environment = testEnvironment(members.url, { META_SANDBOX_URL: sandbox.baseUrl, GATEWAY_WEB_ORIGINS: APP });
    let config;
    ({ gateway, config, logLines } = await buildGateway(environment));
    cipher = createTokenCipher(config.keyRing);
  }, 120_000);

  afterAll(async () => {
    await gateway?.close();
    await sandbox?.close();
    await members?.close();
  });

  const cookieValue = (response: LightMyRequestResponse, name: string) =>
    [response.headers['set-cookie'] ?? []].flat().map(String).find((header) => header.startsWith(`${name}=`))?.split(';')[0] ?? '';
  const pathOf = (url: string | URL) => {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  };

  const ticketFor = async (member: Member, provider: 'facebook' | 'instagram', body?: Record<string, unknown>): Promise<Ticket> => {
    const answer = await gateway.inject({ method: 'POST', url: `/v1/connect/${provider}/tickets`, headers: { authorization: member.authorization }, ...(body ? { payload: body } : {}) });
    expect(answer.statusCode, answer.body).toBe(201);
    return answer.json<Ticket>();
  };
  /** As a browser navigates: no Authorization header, no cookie. */
  const navigate = (url: string, headers: Record<string, string> = {}) => gateway.inject({ url: pathOf(url), headers: { accept: 'text/html', ...headers } });
  const refused = async (path: string, headers: Record<string, string> = {}) => {
    const answer = await gateway.inject({ url: path, headers: { accept: 'application/json', ...headers } });
    expect(answer.headers['content-type']).toContain('application/problem+json');
    return answer;
  };

  it('issues a start URL on the public URL for two minutes that is never cached, and refuses a bad returnTo, a bad body, or no token', async () => {
    const before = Date.now();
    const answer = await gateway.inject({ method: 'POST', url: '/v1/connect/instagram/tickets', headers: { authorization: alice.authorization }, payload: { returnTo: `${APP}/x` } });
    expect(answer.statusCode).toBe(201);
    expect(answer.headers['cache-control']).toBe('no-store');
    const ticket = answer.json<Ticket>();
    expect(ticket.url).toMatch(/^http:\/\/127\.0\.0\.1:3000\/v1\/connect\/instagram\/start\?ticket=enc%3A/);
    const expiresAt = Date.parse(ticket.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + CONNECT_TICKET_TTL_MS);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + CONNECT_TICKET_TTL_MS);
    // No body at all: a flow with no returnTo.
    expect((await gateway.inject({ method: 'POST', url: '/v1/connect/facebook/tickets', headers: { authorization: alice.authorization } })).statusCode).toBe(201);

    const elsewhere = await gateway.inject({ method: 'POST', url: '/v1/connect/instagram/tickets', headers: { authorization: alice.authorization }, payload: { returnTo: 'https://evil.example/' } });
    expect(elsewhere.statusCode).toBe(400);
    expect(elsewhere.json()).toMatchObject({ code: 'return-to-not-allowed', reason: 'origin-not-allowed', errors: [{ location: 'body', field: 'returnTo' }] });
    for (const payload of [{ accountId: 'not-a-uuid' }, { returnTo: '' }, { other: 1 }]) {
      const bad = await gateway.inject({ method: 'POST', url: '/v1/connect/instagram/tickets', headers: { authorization: alice.authorization }, payload });
      expect({ payload, status: bad.statusCode }).toEqual({ payload, status: 400 });
    }
    expect((await gateway.inject({ method: 'POST', url: '/v1/connect/tiktok/tickets', headers: { authorization: alice.authorization } })).statusCode).toBe(400);
    expect((await gateway.inject({ method: 'POST', url: '/v1/connect/instagram/tickets', payload: {} })).statusCode).toBe(401);
  });

  it("starts the ticket's flow in a browser (302 to Meta, the flow's cookie set) and returns to its returnTo", async () => {
    const { url } = await ticketFor(alice, 'facebook', { returnTo: `${APP}/settings/accounts` });
    const started = await navigate(url);
    expect(started.statusCode, started.body).toBe(302);
    const dialog = String(started.headers.location);
    expect(dialog).toContain(`${sandbox.baseUrl}/`);
    const cookie = cookieValue(started, 'pw_connect');
    expect(cookie).toMatch(/^pw_connect=.+/);
    // Within its two minutes the ticket starts the same flow again (it is not single use).
    expect((await navigate(url)).statusCode).toBe(302);

    const answer = await navigate(String(await submitConsent(dialog, 'deny')), { cookie });
    expect(answer.statusCode).toBe(303);
    expect(answer.headers.location).toBe(`${APP}/settings/accounts?postwire_connect=failed&postwire_provider=facebook&postwire_code=consent-declined`);
  });

  it('answers the dialog URL as JSON with the ticket too', async () => {
    const { url } = await ticketFor(alice, 'instagram');
    const answer = await navigate(url, { accept: 'application/json' });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ authorizationUrl: expect.stringContaining(sandbox.baseUrl) });
  });

  it("refuses an expired ticket, a tampered one, another provider's, a stream ticket and other sealed values with a 401 problem", async () => {
    const who = { userId: alice.userId, organisationId: alice.organisationId };
    const expired = issueConnectTicket(cipher, { ...who, provider: 'instagram', now: Date.now() - CONNECT_TICKET_TTL_MS - 1, ttlMs: CONNECT_TICKET_TTL_MS }).sealed;
    const answer = await refused(`/v1/connect/instagram/start?ticket=${encodeURIComponent(expired)}`);
    expect(answer.statusCode).toBe(401);
    expect(answer.json()).toMatchObject({ code: 'unauthorized', detail: expect.stringContaining('the connect ticket has expired'), instance: '/v1/connect/instagram/start' });
    expect(answer.json().detail).toContain('POST /v1/connect/instagram/tickets');
    expect(answer.headers['www-authenticate']).toMatch(/^Bearer realm="postwire", error="invalid_token"/);
    expect(answer.body).not.toContain(expired);

    const sealed = new URL((await ticketFor(alice, 'instagram')).url).searchParams.get('ticket') ?? '';
    const parts = sealed.split(':');
    const body = parts[4] ?? '';
    const tampered = [...parts.slice(0, 4), `${body.startsWith('A') ? 'B' : 'A'}${body.slice(1)}`, parts[5]].join(':');
    const facebook = issueConnectTicket(cipher, { ...who, provider: 'facebook', now: Date.now(), ttlMs: CONNECT_TICKET_TTL_MS }).sealed;
    const stream = issueStreamTicket(cipher, { ...who, types: null, now: Date.now() }).sealed;
    const connectCookie = sealConnectSession(cipher, newConnectSession({ provider: 'instagram', ...who, pkce: false, now: Date.now() }));
    const otherKeys = issueConnectTicket(createTokenCipher({ activeKeyId: 'test-1', keys: new Map([['test-1', Buffer.alloc(32, 1)]]) }), {
      ...who,
      provider: 'instagram',
      now: Date.now(),
      ttlMs: CONNECT_TICKET_TTL_MS,
    }).sealed;
    const cases = [['tampered', tampered], ["facebook's", facebook], ['a stream ticket', stream], ['a connect cookie', connectCookie], ['other keys', otherKeys], ['garbage', 'x'], ['a bearer token', alice.authorization.slice(7)]];
    for (const [label, value] of cases) {
      const refusal = await refused(`/v1/connect/instagram/start?ticket=${encodeURIComponent(value ?? '')}`);
      expect({ label, status: refusal.statusCode, detail: refusal.json().detail, cookie: refusal.headers['set-cookie'] }).toEqual({
        label,
        status: 401,
        detail: expect.stringContaining('the connect ticket is not valid'),
        cookie: undefined,
      });
    }
    // The route's own ticket only: a connect ticket does not open the event stream.
    expect((await refused(`/v1/events?ticket=${encodeURIComponent(sealed)}`, { accept: 'text/event-stream' })).statusCode).toBe(401);
    // A browser is shown a page, not JSON.
    const page = await navigate(`http://x/v1/connect/instagram/start?ticket=${encodeURIComponent(tampered)}`);
    expect(page.statusCode).toBe(401);
    expect(page.headers['content-type']).toMatch(/text\/html/);
  });

  it("checks the user still belongs to the ticket's organisation when the flow starts", async () => {
    const carol = await members.member();
    // Sealed as the gateway seals them; the gateway has not seen carol yet, so no membership is cached.
    const ticket = issueConnectTicket(cipher, { userId: carol.userId, organisationId: carol.organisationId, provider: 'facebook', now: Date.now(), ttlMs: CONNECT_TICKET_TTL_MS }).sealed;
    await members.leave(carol.userId);
    const answer = await refused(`/v1/connect/facebook/start?ticket=${encodeURIComponent(ticket)}`);
    expect(answer.statusCode).toBe(403);
    expect(answer.json()).toMatchObject({ code: 'forbidden' });
    expect(answer.headers['set-cookie']).toBeUndefined();
  });

  it('refuses a bearer token beside a ticket, and returnTo or accountId beside a ticket', async () => {
    const { url } = await ticketFor(alice, 'facebook', { accountId: ACCOUNT });
    const both = await refused(pathOf(url), { authorization: alice.authorization });
    expect(both.statusCode).toBe(400);
    expect(both.json()).toMatchObject({ code: 'ambiguous-credentials' });
    for (const extra of [`&returnTo=${encodeURIComponent(`${APP}/x`)}`, `&accountId=${ACCOUNT}`]) {
      const answer = await refused(`${pathOf(url)}${extra}`);
      expect(answer.statusCode).toBe(400);
      expect(answer.json()).toMatchObject({ code: 'invalid-request', errors: [{ location: 'querystring' }] });
      expect(answer.headers['set-cookie']).toBeUndefined();
    }
  });

  it('"Start again" on a result page is a ticket URL that starts the same flow in a plain browser, for ten minutes', async () => {
    const { url } = await ticketFor(alice, 'instagram', { accountId: ACCOUNT });
    const started = await navigate(url);
    const page = await navigate(String(await submitConsent(String(started.headers.location), 'deny')), { cookie: cookieValue(started, 'pw_connect') });
    expect(page.statusCode).toBe(400);
    expect(page.headers['cache-control']).toBe('no-store');
    const link = /<a href="([^"]+)">Start again<\/a>/.exec(page.body)?.[1]?.replaceAll('&#38;', '&');
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:3000\/v1\/connect\/instagram\/start\?ticket=/);
    const again = await navigate(link ?? '');
    expect(again.statusCode).toBe(302);
    // The reconnect goes on: the account is in the new flow's "Start again" too, after it is declined again.
    const second = await navigate(String(await submitConsent(String(again.headers.location), 'deny')), { cookie: cookieValue(again, 'pw_connect') });
    const sealed = new URL(/<a href="([^"]+)">Start again<\/a>/.exec(second.body)?.[1] ?? 'http://x/').searchParams.get('ticket') ?? '';
    const opened = openConnectTicket(cipher, sealed, { provider: 'instagram', now: Date.now() });
    expect(opened).toMatchObject({ ok: true, ticket: { userId: alice.userId, organisationId: alice.organisationId, accountId: ACCOUNT } });
    if (opened.ok) expect(opened.ticket.expiresAt).toBeGreaterThan(Date.now() + 9 * 60_000);
  });

  it('does not return to a returnTo whose origin was taken out of the configuration since the start: the result page instead', async () => {
    const { url } = await ticketFor(alice, 'facebook', { returnTo: `${APP}/settings` });
    const started = await navigate(url);
    // The same deployment (same keys), reconfigured before Meta sends the browser back.
    const { gateway: reconfigured } = await buildGateway({ ...environment, GATEWAY_WEB_ORIGINS: 'http://localhost:5173' });
    try {
      const callback = new URL(await submitConsent(String(started.headers.location), 'deny'));
      const answer = await reconfigured.inject({ url: `${callback.pathname}${callback.search}`, headers: { accept: 'text/html', cookie: cookieValue(started, 'pw_connect') } });
      expect(answer.statusCode).toBe(400);
      expect(answer.headers.location).toBeUndefined();
      expect(answer.body).toContain('data-outcome="denied"');
    } finally {
      await reconfigured.close();
    }
  });

  it('never writes a ticket to the log', async () => {
    const { url } = await ticketFor(alice, 'facebook');
    await navigate(url);
    const sealed = new URL(url).searchParams.get('ticket') ?? '';
    expect(logLines.join('\n')).not.toContain(sealed.split(':')[4]);
  });
});
