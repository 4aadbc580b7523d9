import { createHash, createHmac } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { BuiltSandbox } from '../src/build.ts';
import {
  ALICE,
  APP_ID,
  APP_SECRET,
  BAKERY_IG,
  BAKERY_PAGE,
  BOB_PAGE,
  DAY,
  FB_REDIRECT,
  HOUR,
  IG_REDIRECT,
  STUDIO_IG,
  STUDIO_PAGE,
  advance,
  call,
  control,
  expectMetaError,
  startSandbox,
} from './helpers.ts';

let sandbox: BuiltSandbox;
let app: FastifyInstance;

beforeEach(async () => {
  sandbox ??= await startSandbox();
  app = sandbox.app;
  await control(app, 'POST', '/reset', {});
});
afterAll(() => sandbox.close());

/** Walks the Facebook Login consent form and returns where the browser is sent. */
async function consentFacebook(fields: Record<string, string | string[]>): Promise<URL> {
  const form = new URLSearchParams();
  const all: Record<string, string | string[]> = {
    client_id: APP_ID,
    redirect_uri: FB_REDIRECT,
    state: 'state-123',
    requested_scopes: 'pages_show_list,pages_read_engagement,instagram_basic,instagram_content_publish',
    user_id: ALICE,
    page_ids: [BAKERY_PAGE, STUDIO_PAGE],
    granted_scopes: ['pages_show_list', 'pages_read_engagement', 'instagram_basic', 'instagram_content_publish'],
    decision: 'allow',
    ...fields,
  };
  for (const [name, value] of Object.entries(all)) for (const item of [value].flat()) form.append(name, item);
  const response = await app.inject({ method: 'POST', url: '/v25.0/dialog/oauth/confirm', payload: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expect(response.statusCode, response.body).toBe(302);
  return new URL(String(response.headers.location));
}

async function facebookCode(fields: Record<string, string | string[]> = {}): Promise<string> {
  const location = await consentFacebook(fields);
  return location.searchParams.get('code') ?? '';
}

async function exchange(code: string, redirectUri = FB_REDIRECT) {
  return call(app, 'GET', '/v25.0/oauth/access_token', { client_id: APP_ID, client_secret: APP_SECRET, redirect_uri: redirectUri, code });
}

async function longLivedUserToken(fields: Record<string, string | string[]> = {}): Promise<string> {
  const short = await exchange(await facebookCode(fields));
  const long = await call(app, 'GET', '/v25.0/oauth/access_token', {
    grant_type: 'fb_exchange_token',
    client_id: APP_ID,
    client_secret: APP_SECRET,
    fb_exchange_token: String(short.body.access_token),
  });
  return String(long.body.access_token);
}

describe('Facebook Login', () => {
  it('supports PKCE: the dialog carries the challenge and the exchange needs the matching verifier', async () => {
    const verifier = 'pkce-verifier-'.padEnd(64, 'x');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const dialog = await app.inject(
      `/v25.0/dialog/oauth?client_id=${APP_ID}&redirect_uri=${encodeURIComponent(FB_REDIRECT)}&state=s1&scope=pages_show_list` +
        `&code_challenge=${challenge}&code_challenge_method=S256`,
    );
    expect(dialog.body).toContain(`value="${challenge}"`);

    const code = await facebookCode({ code_challenge: challenge, code_challenge_method: 'S256' });
    const withoutVerifier = await exchange(code);
    expect(withoutVerifier.status).toBe(400);
    expect(withoutVerifier.body.error).toMatchObject({ code: 100, error_subcode: 36007 });

    const second = await facebookCode({ code_challenge: challenge, code_challenge_method: 'S256' });
    const wrong = await call(app, 'GET', '/v25.0/oauth/access_token', {
      client_id: APP_ID, client_secret: APP_SECRET, redirect_uri: FB_REDIRECT, code: second, code_verifier: 'y'.repeat(64),
    });
    expect(wrong.status).toBe(400);
    const right = await call(app, 'GET', '/v25.0/oauth/access_token', {
      client_id: APP_ID, client_secret: APP_SECRET, redirect_uri: FB_REDIRECT, code: second, code_verifier: verifier,
    });
    expect(right.status).toBe(200);
    expect(String(right.body.access_token)).toMatch(/^EAAU/);
  });

  it('checks appsecret_proof when a call carries one', async () => {
    const token = await longLivedUserToken();
    const proof = createHmac('sha256', APP_SECRET).update(token).digest('hex');
    expect((await call(app, 'GET', '/v25.0/me', { access_token: token, appsecret_proof: proof })).status).toBe(200);
    const wrong = await call(app, 'GET', '/v25.0/me', { access_token: token, appsecret_proof: 'ab'.repeat(32) });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({ code: 100, message: 'Invalid appsecret_proof provided in the API argument' });
  });

  it('refuses a wrong client secret with a non-transient error', async () => {
    const response = await call(app, 'GET', '/v25.0/oauth/access_token', {
      client_id: APP_ID, client_secret: 'not-the-secret', redirect_uri: FB_REDIRECT, code: await facebookCode(),
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 1, is_transient: false });
  });

  it('refuses a malformed code challenge at the dialog', async () => {
    const response = await app.inject(
      `/v25.0/dialog/oauth?client_id=${APP_ID}&redirect_uri=${encodeURIComponent(FB_REDIRECT)}&scope=pages_show_list&code_challenge=short&code_challenge_method=S256`,
    );
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('Invalid code challenge');
  });

  it('renders a consent page listing test users, their Pages and the requested scopes', async () => {
    const response = await app.inject(`/v25.0/dialog/oauth?client_id=${APP_ID}&redirect_uri=${encodeURIComponent(FB_REDIRECT)}&state=s1&scope=pages_show_list,instagram_basic`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/text\/html/);
    expect(response.body).toContain('Alice Sandbox');
    expect(response.body).toContain('Postwire Bakery');
    expect(response.body).toContain('@postwire.bakery');
    expect(response.body).toContain('instagram_basic');
    expect(response.body).toContain('value="s1"');
  });

  it('refuses a redirect_uri that is not registered for the app, and unknown scopes', async () => {
    const blocked = await app.inject(`/dialog/oauth?client_id=${APP_ID}&redirect_uri=${encodeURIComponent('https://evil.test/cb')}&scope=pages_show_list`);
    expect(blocked.statusCode).toBe(400);
    expect(blocked.body).toContain('URL Blocked');
    const scopes = await app.inject(`/dialog/oauth?client_id=${APP_ID}&redirect_uri=${encodeURIComponent(FB_REDIRECT)}&scope=pages_show_list,publish_actions`);
    expect(scopes.body).toContain('Invalid Scopes: publish_actions');
  });

  it('accepts config_id (Login for Business) in place of scope', async () => {
    const response = await app.inject(`/dialog/oauth?client_id=${APP_ID}&redirect_uri=${encodeURIComponent(FB_REDIRECT)}&config_id=100000000000100`);
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('instagram_content_publish');
  });

  it('redirects with the code and the echoed state, or with access_denied when the user cancels', async () => {
    const allowed = await consentFacebook({});
    expect(allowed.origin + allowed.pathname).toBe(FB_REDIRECT);
    expect(allowed.searchParams.get('state')).toBe('state-123');
    expect(allowed.searchParams.get('code')).toMatch(/^AQ/);
    expect(allowed.hash).toBe('#_=_');
    const denied = await consentFacebook({ decision: 'deny' });
    expect(Object.fromEntries(denied.searchParams)).toMatchObject({ error: 'access_denied', error_reason: 'user_denied', state: 'state-123' });
  });

  it('exchanges a code once for a short-lived token (about 2 h); reuse, expiry and redirect mismatch fail', async () => {
    const code = await facebookCode();
    const first = await exchange(code);
    expect(first.body).toMatchObject({ token_type: 'bearer', expires_in: 7200 });
    expect(String(first.body.access_token)).toMatch(/^EAAU/);
    expectMetaError(await exchange(code), 100, 36009);
    expectMetaError(await exchange(await facebookCode(), 'http://127.0.0.1:3000/elsewhere'), 100, 36008);
    const late = await facebookCode();
    await advance(app, HOUR);
    expectMetaError(await exchange(late), 100, 36007);
    const wrongSecret = await call(app, 'GET', '/v25.0/oauth/access_token', { client_id: APP_ID, client_secret: 'nope', redirect_uri: FB_REDIRECT, code: await facebookCode() });
    expectMetaError(wrongSecret, 1);
  });

  it('exchanges a short-lived token for a long-lived one (5183944 s); an expired token cannot be exchanged', async () => {
    const short = String((await exchange(await facebookCode())).body.access_token);
    const long = await call(app, 'GET', '/oauth/access_token', { grant_type: 'fb_exchange_token', client_id: APP_ID, client_secret: APP_SECRET, fb_exchange_token: short });
    expect(long.body).toMatchObject({ token_type: 'bearer', expires_in: 5_183_944 });
    await advance(app, 2 * HOUR);
    expectMetaError(await call(app, 'GET', '/v25.0/me', { access_token: short }), 190, 463);
    const late = await call(app, 'GET', '/oauth/access_token', { grant_type: 'fb_exchange_token', client_id: APP_ID, client_secret: APP_SECRET, fb_exchange_token: short });
    expectMetaError(late, 190, 463);
    expect((await call(app, 'GET', '/v25.0/me', { access_token: String(long.body.access_token) })).body).toMatchObject({ id: ALICE, name: 'Alice Sandbox' });
  });

  it('lists the chosen Pages with Page tokens that never expire when taken from a long-lived token', async () => {
    const userToken = await longLivedUserToken({ page_ids: [BAKERY_PAGE] });
    const accounts = await call(app, 'GET', '/v25.0/me/accounts', { access_token: userToken });
    const data = accounts.body.data as { id: string; access_token: string; tasks: string[] }[];
    expect(data.map((page) => page.id)).toEqual([BAKERY_PAGE]);
    expect(data[0]?.tasks).toContain('CREATE_CONTENT');
    const pageToken = data[0]?.access_token ?? '';
    expect(pageToken).toMatch(/^EAAP/);
    const debug = await call(app, 'GET', '/v25.0/debug_token', { input_token: pageToken, access_token: `${APP_ID}|${APP_SECRET}` });
    expect(debug.body.data).toMatchObject({ type: 'PAGE', is_valid: true, expires_at: 0, profile_id: BAKERY_PAGE, app_id: APP_ID });
    const again = await call(app, 'GET', '/v25.0/me/accounts', { access_token: userToken });
    expect((again.body.data as { access_token: string }[])[0]?.access_token).toBe(pageToken);
  });

  it('resolves a Page to its instagram_business_account, then the account fields', async () => {
    const userToken = await longLivedUserToken();
    const page = await call(app, 'GET', `/v25.0/${BAKERY_PAGE}`, { fields: 'instagram_business_account', access_token: userToken });
    expect(page.body).toEqual({ instagram_business_account: { id: BAKERY_IG } });
    const account = await call(app, 'GET', `/v25.0/${BAKERY_IG}`, { fields: 'username,profile_picture_url,account_type', access_token: userToken });
    expect(account.body).toMatchObject({ username: 'postwire.bakery', account_type: 'BUSINESS' });
    const noIg = await call(app, 'GET', `/v25.0/${STUDIO_PAGE}`, { fields: 'instagram_business_account,name', access_token: userToken });
    expect(noIg.body).toMatchObject({ instagram_business_account: { id: STUDIO_IG } });
    expectMetaError(await call(app, 'GET', `/v25.0/${BOB_PAGE}`, { access_token: userToken }), 100, 33);
  });

  it('reports granted and declined permissions, and granular scopes in debug_token', async () => {
    const userToken = await longLivedUserToken({ granted_scopes: ['pages_show_list', 'instagram_basic'], page_ids: [BAKERY_PAGE] });
    const permissions = await call(app, 'GET', '/v25.0/me/permissions', { access_token: userToken });
    expect(permissions.body.data).toEqual(
      expect.arrayContaining([
        { permission: 'instagram_basic', status: 'granted' },
        { permission: 'instagram_content_publish', status: 'declined' },
        { permission: 'pages_read_engagement', status: 'declined' },
      ]),
    );
    const debug = await call(app, 'GET', '/debug_token', { input_token: userToken, access_token: `${APP_ID}|${APP_SECRET}` });
    const data = debug.body.data as Record<string, unknown>;
    expect(data).toMatchObject({ type: 'USER', is_valid: true, user_id: ALICE });
    expect(data.granular_scopes).toEqual(
      expect.arrayContaining([
        { scope: 'pages_show_list', target_ids: [BAKERY_PAGE] },
        { scope: 'instagram_basic', target_ids: [BAKERY_IG] },
      ]),
    );
    expect(Number(data.data_access_expires_at) - Number(data.issued_at)).toBe(90 * 86_400);
  });

  it('answers 190 with the right subcode after a password change (460), app removal (458) or logout (467)', async () => {
    const userToken = await longLivedUserToken();
    const pageToken = ((await call(app, 'GET', '/me/accounts', { access_token: userToken })).body.data as { access_token: string }[])[0]?.access_token ?? '';
    await control(app, 'POST', '/tokens/invalidate', { subjectId: ALICE, reason: 'password_changed' });
    const error = expectMetaError(await call(app, 'GET', '/v25.0/me', { access_token: userToken }), 190, 460);
    expect(error.type).toBe('OAuthException');
    expectMetaError(await call(app, 'GET', `/v25.0/${BAKERY_PAGE}`, { access_token: pageToken }), 190, 460);
    const debug = await call(app, 'GET', '/debug_token', { input_token: userToken, access_token: `${APP_ID}|${APP_SECRET}` });
    expect(debug.body.data).toMatchObject({ is_valid: false, error: { code: 190, subcode: 460 } });

    const second = await longLivedUserToken();
    await control(app, 'POST', '/tokens/invalidate', { token: second, reason: 'app_removed' });
    expectMetaError(await call(app, 'GET', '/me', { access_token: second }), 190, 458);
    const third = await longLivedUserToken();
    await control(app, 'POST', '/tokens/invalidate', { token: third, reason: 'logged_out' });
    expectMetaError(await call(app, 'GET', '/me', { access_token: third }), 190, 467);
  });

  it('lets a long-lived token lapse after 60 days and data access after 90 days', async () => {
    const userToken = await longLivedUserToken();
    const pageToken = ((await call(app, 'GET', '/me/accounts', { access_token: userToken })).body.data as { access_token: string }[])[0]?.access_token ?? '';
    await advance(app, 61 * DAY);
    expectMetaError(await call(app, 'GET', '/me', { access_token: userToken }), 190, 463);
    expect((await call(app, 'GET', `/${BAKERY_PAGE}`, { access_token: pageToken })).status).toBe(200);
    await advance(app, 30 * DAY);
    expectMetaError(await call(app, 'GET', `/${BAKERY_PAGE}`, { access_token: pageToken }), 190, 463);
  });
});

describe('Instagram Login', () => {
  async function instagramCode(scopes = ['instagram_business_basic', 'instagram_business_content_publish']): Promise<string> {
    const form = new URLSearchParams({ client_id: APP_ID, redirect_uri: IG_REDIRECT, state: 'ig-state', requested_scopes: scopes.join(','), ig_user_id: STUDIO_IG, decision: 'allow' });
    for (const scope of scopes) form.append('granted_scopes', scope);
    const response = await app.inject({ method: 'POST', url: '/oauth/authorize/confirm', payload: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const location = new URL(String(response.headers.location));
    expect(location.hash).toBe('#_');
    expect(location.searchParams.get('state')).toBe('ig-state');
    return location.searchParams.get('code') ?? '';
  }

  async function exchangeInstagram(code: string, overrides: Record<string, string> = {}) {
    return call(app, 'POST', '/oauth/access_token', { client_id: APP_ID, client_secret: APP_SECRET, grant_type: 'authorization_code', redirect_uri: IG_REDIRECT, code, ...overrides });
  }

  it('shows a consent page with business and creator accounts, and refuses the retired business_* scope names', async () => {
    const page = await app.inject(`/oauth/authorize?client_id=${APP_ID}&redirect_uri=${encodeURIComponent(IG_REDIRECT)}&response_type=code&scope=instagram_business_basic&state=x`);
    expect(page.body).toContain('@postwire.studio');
    expect(page.body).toContain('creator');
    const old = await app.inject(`/oauth/authorize?client_id=${APP_ID}&redirect_uri=${encodeURIComponent(IG_REDIRECT)}&response_type=code&scope=business_basic`);
    expect(old.statusCode).toBe(400);
    expect(old.body).toContain('business_basic');
  });

  it('exchanges the code with a form POST and answers {data:[{access_token,user_id,permissions}]}', async () => {
    const answer = await exchangeInstagram(await instagramCode());
    expect(answer.status).toBe(200);
    const [entry] = answer.body.data as { access_token: string; user_id: string; permissions: string }[];
    expect(entry?.access_token).toMatch(/^IGAA/);
    expect(entry?.user_id).toBe(STUDIO_IG);
    expect(entry?.permissions).toBe('instagram_business_basic,instagram_business_content_publish');
    const me = await call(app, 'GET', '/v25.0/me', { fields: 'user_id,username,account_type', access_token: entry?.access_token });
    expect(me.body).toMatchObject({ user_id: STUDIO_IG, username: 'postwire.studio', account_type: 'MEDIA_CREATOR' });
  });

  it('can answer the flat shape some clients see, when configured', async () => {
    await control(app, 'PATCH', '/settings', { instagramTokenResponse: 'flat' });
    const answer = await exchangeInstagram(await instagramCode());
    expect(answer.body).toMatchObject({ user_id: STUDIO_IG, permissions: ['instagram_business_basic', 'instagram_business_content_publish'] });
  });

  it('uses its own error shape {error_type, code, error_message}', async () => {
    const code = await instagramCode();
    await exchangeInstagram(code);
    const reused = await exchangeInstagram(code);
    expect(reused.status).toBe(400);
    expect(reused.body).toEqual({ error_type: 'OAuthException', code: 400, error_message: 'This authorization code has been used' });
    const badApp = await exchangeInstagram(code, { client_id: '42' });
    expect(badApp.body).toMatchObject({ error_type: 'OAuthException', error_message: 'Invalid platform app' });
  });

  it('exchanges for a long-lived token and refreshes it only once it is 24 h old', async () => {
    const [entry] = (await exchangeInstagram(await instagramCode())).body.data as { access_token: string }[];
    const long = await call(app, 'GET', '/access_token', { grant_type: 'ig_exchange_token', client_secret: APP_SECRET, access_token: entry?.access_token });
    expect(long.body).toMatchObject({ token_type: 'bearer', expires_in: 5_183_944 });
    const longToken = String(long.body.access_token);
    const early = await call(app, 'GET', '/refresh_access_token', { grant_type: 'ig_refresh_token', access_token: longToken });
    expect(expectMetaError(early, 100).message).toMatch(/24 hours/);
    const shortRefresh = await call(app, 'GET', '/refresh_access_token', { grant_type: 'ig_refresh_token', access_token: entry?.access_token });
    expectMetaError(shortRefresh, 100);
    await advance(app, 24 * HOUR);
    const refreshed = await call(app, 'GET', '/v25.0/refresh_access_token', { grant_type: 'ig_refresh_token', access_token: longToken });
    expect(refreshed.body).toMatchObject({ token_type: 'bearer', expires_in: 5_183_944 });
    await advance(app, 59.5 * DAY);
    expectMetaError(await call(app, 'GET', '/refresh_access_token', { grant_type: 'ig_refresh_token', access_token: longToken }), 190, 463);
    expect((await call(app, 'GET', '/me', { access_token: String(refreshed.body.access_token) })).status).toBe(200);
  });
});
