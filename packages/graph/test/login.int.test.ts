import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appsecretProof, classifyGraphError, GraphApiError, SANDBOX_APP, type GraphClient } from '../src/index.ts';
import {
  ALICE,
  BAKERY_IG,
  BAKERY_PAGE,
  FB_REDIRECT,
  HOUR,
  IG_REDIRECT,
  PUBLISHING_SCOPES,
  STUDIO_IG,
  STUDIO_PAGE,
  advance,
  clientFor,
  control,
  startSandbox,
  submitConsent,
} from './sandbox.ts';

let sandbox: Awaited<ReturnType<typeof startSandbox>>;
let graph: GraphClient;
/** Every request the client sent, as the wire saw it (URL and form body): a spy on fetch, not a stub of Meta. */
let sent: { url: URL; body: URLSearchParams | undefined; headers: Headers }[];
let logged: string[];

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(() => sandbox.close());
beforeEach(async () => {
  await control(sandbox.baseUrl, 'POST', '/reset', {});
  sent = [];
  logged = [];
  const logger = {
    debug: (object: Record<string, unknown>, message: string) => void logged.push(`${message} ${JSON.stringify(object)}`),
    warn: (object: Record<string, unknown>, message: string) => void logged.push(`${message} ${JSON.stringify(object)}`),
  };
  const spy: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    sent.push({ url, body: typeof init?.body === 'string' ? new URLSearchParams(init.body) : undefined, headers: new Headers(init?.headers) });
    return fetch(input, init);
  };
  graph = clientFor(sandbox.baseUrl, {}, { fetch: spy, logger });
});

/** What the browser does on the sandbox's consent page: pick Alice and her Pages, keep the requested scopes. */
async function facebookConsent(dialogUrl: string, granted = PUBLISHING_SCOPES, pageIds = [BAKERY_PAGE, STUDIO_PAGE]) {
  const dialog = new URL(dialogUrl);
  const page = await fetch(dialog);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('Alice Sandbox');
  const location = await submitConsent(sandbox.baseUrl, `/${graph.settings.version}/dialog/oauth/confirm`, {
    client_id: dialog.searchParams.get('client_id') ?? '',
    redirect_uri: dialog.searchParams.get('redirect_uri') ?? '',
    state: dialog.searchParams.get('state') ?? '',
    requested_scopes: dialog.searchParams.get('scope') ?? PUBLISHING_SCOPES.join(','),
    user_id: ALICE,
    page_ids: pageIds,
    granted_scopes: granted,
    decision: 'allow',
  });
  expect(location.searchParams.get('state')).toBe(dialog.searchParams.get('state'));
  // Meta appends #_=_; a code copied together with it must still work.
  return `${location.searchParams.get('code') ?? ''}${location.hash}`;
}

async function connectAlice(granted = PUBLISHING_SCOPES) {
  const code = await facebookConsent(graph.facebookDialogUrl({ redirectUri: FB_REDIRECT, state: 'st-1', scopes: PUBLISHING_SCOPES }), granted);
  const short = await graph.exchangeFacebookCode({ code, redirectUri: FB_REDIRECT });
  const long = await graph.exchangeForLongLivedUserToken(short.accessToken);
  return { short, long };
}

describe('Facebook Login against the sandbox', () => {
  it('builds a dialog URL on the configured host and version, with scopes or a Login for Business config', async () => {
    const url = new URL(graph.facebookDialogUrl({ redirectUri: FB_REDIRECT, state: 's', scopes: ['pages_show_list', 'instagram_basic'], codeChallenge: 'abc' }));
    expect(url.origin).toBe(sandbox.baseUrl);
    expect(url.pathname).toBe('/v25.0/dialog/oauth');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: SANDBOX_APP.id,
      redirect_uri: FB_REDIRECT,
      state: 's',
      response_type: 'code',
      scope: 'pages_show_list,instagram_basic',
      code_challenge: 'abc',
      code_challenge_method: 'S256',
    });
    const business = await fetch(graph.facebookDialogUrl({ redirectUri: FB_REDIRECT, state: 's', configId: '100000000000100' }));
    expect(business.status).toBe(200);
    expect(await business.text()).toContain('instagram_content_publish');
    expect(() => graph.facebookDialogUrl({ redirectUri: FB_REDIRECT, state: 's' })).toThrow(/META_LOGIN_CONFIG_ID/);
  });

  it('walks consent, exchanges the code for a short-lived token, then a long-lived one', async () => {
    const { short, long } = await connectAlice();
    expect(short).toMatchObject({ tokenType: 'bearer', expiresIn: 7200 });
    expect(short.accessToken).toMatch(/^EAAU/);
    expect(long).toMatchObject({ tokenType: 'bearer', expiresIn: 5_183_944 });
  });

  it('refuses a reused code with a classified Meta error and does not retry it', async () => {
    const code = await facebookConsent(graph.facebookDialogUrl({ redirectUri: FB_REDIRECT, state: 'st', scopes: PUBLISHING_SCOPES }));
    await graph.exchangeFacebookCode({ code, redirectUri: FB_REDIRECT });
    const before = sent.length;
    const error = await graph.exchangeFacebookCode({ code, redirectUri: FB_REDIRECT }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GraphApiError);
    expect(error).toMatchObject({ code: 100, subcode: 36009 });
    expect(classifyGraphError(error).class).toBe('invalid-parameter');
    expect(sent.length - before).toBe(1);
    expect((error as Error).message).not.toContain(code.replace(/#.*$/, ''));
    expect((error as Error).message).not.toContain(SANDBOX_APP.secret);
  });

  it('discovers Pages with their tokens, each linked Instagram account and its profile', async () => {
    const { long } = await connectAlice();
    const pages = await graph.listPages(long.accessToken);
    expect(pages.map((page) => page.id).sort()).toEqual([BAKERY_PAGE, STUDIO_PAGE]);
    const bakery = pages.find((page) => page.id === BAKERY_PAGE);
    expect(bakery).toMatchObject({ name: 'Postwire Bakery' });
    expect(bakery?.accessToken).toMatch(/^EAAP/);
    expect(bakery?.tasks).toContain('CREATE_CONTENT');

    expect(await graph.pageInstagramAccount(BAKERY_PAGE, bakery?.accessToken ?? '')).toEqual({ id: BAKERY_IG });
    const profile = await graph.instagramProfile(BAKERY_IG, bakery?.accessToken ?? '');
    expect(profile).toMatchObject({ id: BAKERY_IG, username: 'postwire.bakery', accountType: 'BUSINESS' });
    // Long Instagram ids survive JSON parsing exactly.
    expect((await graph.instagramProfile(STUDIO_IG, long.accessToken)).id).toBe(STUDIO_IG);
  });

  it('reports granted and declined permissions, and debug_token with never-expiring Page tokens', async () => {
    const { long } = await connectAlice(['pages_show_list', 'instagram_basic']);
    const permissions = await graph.permissions(long.accessToken);
    expect(permissions.granted).toEqual(expect.arrayContaining(['pages_show_list', 'instagram_basic']));
    expect(permissions.declined).toEqual(expect.arrayContaining(['instagram_content_publish', 'pages_read_engagement']));

    const user = await graph.debugToken(long.accessToken);
    expect(user).toMatchObject({ appId: SANDBOX_APP.id, type: 'USER', isValid: true, userId: ALICE });
    expect(user.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 59 * 24 * HOUR);
    expect(user.dataAccessExpiresAt).toBeInstanceOf(Date);
    expect(user.granularScopes).toEqual(expect.arrayContaining([{ scope: 'instagram_basic', targetIds: expect.arrayContaining([BAKERY_IG]) }]));

    const [page] = await graph.listPages(long.accessToken);
    const pageInfo = await graph.debugToken(page?.accessToken ?? '');
    expect(pageInfo).toMatchObject({ type: 'PAGE', isValid: true, expiresAt: null });
  });

  it('signs Facebook-token calls with appsecret_proof and keeps tokens and secrets out of logs', async () => {
    const { long } = await connectAlice();
    await graph.permissions(long.accessToken);
    const call = sent.find((request) => request.url.pathname === '/v25.0/me/permissions');
    expect(call?.url.searchParams.get('access_token')).toBe(long.accessToken);
    expect(call?.url.searchParams.get('appsecret_proof')).toBe(appsecretProof(long.accessToken, SANDBOX_APP.secret));
    // The app token call needs no proof; the code exchange carries no token at all.
    expect(sent.find((request) => request.url.pathname === '/v25.0/debug_token')).toBeUndefined();
    await graph.debugToken(long.accessToken);
    expect(sent.find((request) => request.url.pathname === '/v25.0/debug_token')?.url.searchParams.has('appsecret_proof')).toBe(false);

    const all = logged.join('\n');
    expect(logged.length).toBeGreaterThan(0);
    expect(all).not.toContain(long.accessToken);
    expect(all).not.toContain(SANDBOX_APP.secret);
    expect(all).toContain('access_token=[redacted]');

    const off = clientFor(sandbox.baseUrl, { GRAPH_APPSECRET_PROOF: 'false' }, { fetch: async (input, init) => { sent.push({ url: new URL(String(input)), body: undefined, headers: new Headers(init?.headers) }); return fetch(input, init); } });
    sent = [];
    await off.permissions(long.accessToken);
    expect(sent[0]?.url.searchParams.has('appsecret_proof')).toBe(false);
  });

  it('classifies invalidated tokens: password change -> token-invalid, checkpoint -> account-action-required', async () => {
    const { long } = await connectAlice();
    await control(sandbox.baseUrl, 'POST', '/tokens/invalidate', { token: long.accessToken, reason: 'password_changed' });
    const error = await graph.permissions(long.accessToken).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 190, subcode: 460, type: 'OAuthException' });
    expect(classifyGraphError(error)).toMatchObject({ class: 'token-invalid', action: 'reconnect-account', accountProblem: true });
    const info = await graph.debugToken(long.accessToken);
    expect(info).toMatchObject({ isValid: false, error: { code: 190, subcode: 460 } });

    const second = (await connectAlice()).long.accessToken;
    await control(sandbox.baseUrl, 'POST', '/tokens/invalidate', { token: second, reason: 'checkpointed' });
    expect(classifyGraphError(await graph.listPages(second).catch((caught: unknown) => caught)).class).toBe('account-action-required');
  });
});

describe('Instagram Login against the sandbox', () => {
  async function instagramCode(scopes = ['instagram_business_basic', 'instagram_business_content_publish']) {
    const dialog = new URL(graph.instagramDialogUrl({ redirectUri: IG_REDIRECT, state: 'ig-st', scopes }));
    expect(dialog.origin + dialog.pathname).toBe(`${sandbox.baseUrl}/oauth/authorize`);
    const page = await fetch(dialog);
    expect(page.status).toBe(200);
    const location = await submitConsent(sandbox.baseUrl, '/oauth/authorize/confirm', {
      client_id: dialog.searchParams.get('client_id') ?? '',
      redirect_uri: IG_REDIRECT,
      state: 'ig-st',
      requested_scopes: scopes.join(','),
      granted_scopes: scopes,
      ig_user_id: STUDIO_IG,
      decision: 'allow',
    });
    expect(location.hash).toBe('#_');
    return `${location.searchParams.get('code') ?? ''}#_`;
  }

  it('exchanges the code (form POST, #_ stripped) and reads /me without appsecret_proof', async () => {
    const grant = await graph.exchangeInstagramCode({ code: await instagramCode(), redirectUri: IG_REDIRECT });
    expect(grant.accessToken).toMatch(/^IGAA/);
    expect(grant.userId).toBe(STUDIO_IG);
    expect(grant.permissions).toEqual(['instagram_business_basic', 'instagram_business_content_publish']);
    const exchange = sent.find((request) => request.url.pathname === '/oauth/access_token');
    expect(exchange?.body?.get('client_secret')).toBe(SANDBOX_APP.secret);
    expect(exchange?.url.search).toBe('');

    const me = await graph.instagramMe(grant.accessToken);
    expect(me).toMatchObject({ userId: STUDIO_IG, username: 'postwire.studio', accountType: 'MEDIA_CREATOR' });
    const meCall = sent.find((request) => request.url.pathname === '/v25.0/me');
    expect(meCall?.url.searchParams.has('appsecret_proof')).toBe(false);
  });

  it('accepts the flat answer shape too', async () => {
    await control(sandbox.baseUrl, 'PATCH', '/settings', { instagramTokenResponse: 'flat' });
    const grant = await graph.exchangeInstagramCode({ code: await instagramCode(), redirectUri: IG_REDIRECT });
    expect(grant).toMatchObject({ userId: STUDIO_IG, permissions: ['instagram_business_basic', 'instagram_business_content_publish'] });
  });

  it("surfaces Instagram's OAuth error shape for a reused code", async () => {
    const code = await instagramCode();
    await graph.exchangeInstagramCode({ code, redirectUri: IG_REDIRECT });
    const error = await graph.exchangeInstagramCode({ code, redirectUri: IG_REDIRECT }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ source: 'instagram-oauth', type: 'OAuthException', metaMessage: 'This authorization code has been used', httpStatus: 400 });
    expect(classifyGraphError(error)).toMatchObject({ class: 'invalid-parameter', retryable: false });
  });

  it('exchanges for a long-lived token; refresh is refused before 24 h and accepted after', async () => {
    const grant = await graph.exchangeInstagramCode({ code: await instagramCode(), redirectUri: IG_REDIRECT });
    const long = await graph.exchangeForLongLivedInstagramToken(grant.accessToken);
    expect(long).toMatchObject({ tokenType: 'bearer', expiresIn: 5_183_944 });
    expect(sent.at(-1)?.url.pathname).toBe('/access_token');

    const early = await graph.refreshInstagramToken(long.accessToken).catch((caught: unknown) => caught);
    expect(early).toMatchObject({ code: 100 });
    // Refused, but not an expired account: the caller must not ask the user to reconnect.
    expect(classifyGraphError(early).class).toBe('invalid-parameter');

    await advance(sandbox.baseUrl, 24 * HOUR);
    const refreshed = await graph.refreshInstagramToken(long.accessToken);
    expect(refreshed).toMatchObject({ tokenType: 'bearer', expiresIn: 5_183_944 });
    expect((await graph.instagramMe(refreshed.accessToken)).userId).toBe(STUDIO_IG);
  });
});
