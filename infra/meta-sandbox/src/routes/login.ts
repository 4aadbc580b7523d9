import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../context.ts';
import { GraphError, errors } from '../domain/errors.ts';
import { randomToken } from '../domain/ids.ts';
import { str, type Params } from '../domain/publishing.ts';
import {
  FACEBOOK_SCOPES,
  INSTAGRAM_SCOPES,
  LIFETIMES,
  TARGETED_SCOPES,
  evaluateToken,
  expiresInSeconds,
  parseScopeList,
  refreshableAt,
  tokenKindOf,
  type TokenRecord,
} from '../domain/tokens.ts';
import { issueUserToken, pageTokenFor } from '../state/tokens.ts';
import type { App, AuthCode } from '../state/store.ts';
import { authenticate, authenticateApp, canActOnPage, meId, pageOf, readParams, requestedFields } from './graph-access.ts';
import { errorPage, escape, hidden, page } from './html.ts';
import { selectFields } from '../domain/fields.ts';
import { renderPage } from './pages.ts';

/**
 * Facebook Login and Instagram Login: the consent dialogs, code exchange, long-lived exchange and refresh,
 * and what a client asks afterwards (/me/accounts, /me/permissions, /debug_token).
 */

/** Thrown on api.instagram.com/oauth/access_token, whose errors are shaped `{error_type, code, error_message}`. */
export class InstagramOAuthError extends Error {
  readonly errorType: string;
  constructor(message: string, errorType = 'OAuthException') {
    super(message);
    this.name = 'InstagramOAuthError';
    this.errorType = errorType;
  }
}

function appFor(ctx: SandboxContext, clientId: string | undefined): App | undefined {
  return clientId === undefined ? undefined : ctx.store.apps.get(clientId);
}

function asList(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

function redirectWith(redirectUri: string, query: Record<string, string | undefined>, fragment: string): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value);
  url.hash = fragment;
  return url.toString();
}

function dialogProblem(reply: FastifyReply, title: string, detail: string) {
  return reply.code(400).type('text/html; charset=utf-8').send(errorPage(title, detail));
}

type DialogCheck =
  | { app: App; redirectUri: string; scopes: string[]; codeChallenge?: AuthCode['codeChallenge'] }
  | { problem: [string, string] };

const CODE_CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;

function checkCodeChallenge(params: Params): { challenge?: AuthCode['codeChallenge'] } | { problem: [string, string] } {
  const value = str(params, 'code_challenge');
  const method = str(params, 'code_challenge_method') ?? (value === undefined ? undefined : 'plain');
  if (value === undefined) {
    return method === undefined ? {} : { problem: ['Invalid code challenge', 'code_challenge_method was sent without a code_challenge.'] };
  }
  if (method !== 'S256' && method !== 'plain') return { problem: ['Invalid code challenge', 'code_challenge_method must be S256 or plain.'] };
  if (!CODE_CHALLENGE.test(value)) return { problem: ['Invalid code challenge', 'code_challenge must be 43-128 characters of [A-Za-z0-9._~-].'] };
  return { challenge: { value, method } };
}

function verifierMatches(challenge: NonNullable<AuthCode['codeChallenge']>, verifier: string | undefined): boolean {
  if (verifier === undefined || !CODE_CHALLENGE.test(verifier)) return false;
  const derived = challenge.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
  return derived === challenge.value;
}

function checkDialog(ctx: SandboxContext, params: Params, allowed: readonly string[], login: 'facebook' | 'instagram'): DialogCheck {
  const app = appFor(ctx, str(params, 'client_id'));
  if (!app) return { problem: ['Invalid App ID', 'The provided app ID does not look like a valid app ID.'] };
  const redirectUri = str(params, 'redirect_uri');
  if (!redirectUri || !app.redirectUris.includes(redirectUri)) {
    return {
      problem: [
        'URL Blocked',
        `This redirect failed because the redirect URI (${redirectUri ?? 'missing'}) is not whitelisted in the app's Client OAuth Settings. Registered: ${app.redirectUris.join(', ')}`,
      ],
    };
  }
  const responseType = str(params, 'response_type') ?? 'code';
  if (responseType !== 'code') return { problem: ['Unsupported response_type', 'The sandbox supports response_type=code only.'] };
  const configId = login === 'facebook' ? str(params, 'config_id') : undefined;
  let scopes: string[];
  if (configId !== undefined) {
    const configured = app.loginConfigs.get(configId);
    if (!configured) return { problem: ['Invalid configuration', `The configuration ${configId} does not exist for this app.`] };
    scopes = configured;
  } else {
    scopes = parseScopeList(str(params, 'scope'));
  }
  const invalid = scopes.filter((scope) => !allowed.includes(scope));
  if (invalid.length > 0) return { problem: ['Invalid Scopes', `Invalid Scopes: ${invalid.join(', ')}.`] };
  if (login === 'instagram' && scopes.length === 0) return { problem: ['Invalid Scopes', 'Instagram Login needs at least one scope.'] };
  if (login === 'instagram') return { app, redirectUri, scopes };
  const pkce = checkCodeChallenge(params);
  if ('problem' in pkce) return pkce;
  return { app, redirectUri, scopes, ...(pkce.challenge ? { codeChallenge: pkce.challenge } : {}) };
}

function issueCode(ctx: SandboxContext, code: Omit<AuthCode, 'code' | 'createdAt' | 'usedAt'>): string {
  const value = 'AQ' + randomToken(48);
  ctx.store.codes.set(value, { ...code, code: value, createdAt: ctx.clock.now(), usedAt: undefined });
  return value;
}

/** Consumes a code; throws Meta's error for unknown, used, expired or redirect-mismatched codes. */
function redeemCode(ctx: SandboxContext, params: Params, login: 'facebook' | 'instagram', app: App): AuthCode {
  const code = ctx.store.codes.get(str(params, 'code') ?? '');
  if (!code || code.login !== login || code.appId !== app.id) throw errors.codeInvalid();
  if (code.usedAt !== undefined) throw errors.codeUsed();
  if (ctx.clock.now() >= code.createdAt + LIFETIMES.codeMs) throw errors.codeExpired();
  if (str(params, 'redirect_uri') !== code.redirectUri) throw errors.redirectMismatch();
  if (code.codeChallenge && !verifierMatches(code.codeChallenge, str(params, 'code_verifier'))) throw errors.codeVerifierMismatch();
  code.usedAt = ctx.clock.now();
  return code;
}

function checkClient(ctx: SandboxContext, params: Params): App {
  const clientId = str(params, 'client_id') ?? '';
  const app = appFor(ctx, clientId);
  if (!app) throw errors.unknownApp(clientId);
  if (str(params, 'client_secret') !== app.secret) throw errors.clientSecret();
  return app;
}

function tokenResponse(token: TokenRecord, now: number) {
  const expiresIn = expiresInSeconds(token, now);
  return { access_token: token.value, token_type: 'bearer', ...(expiresIn === undefined ? {} : { expires_in: expiresIn }) };
}

function facebookDialog(ctx: SandboxContext, params: Params): string | DialogCheck {
  const check = checkDialog(ctx, params, FACEBOOK_SCOPES, 'facebook');
  if ('problem' in check) return check;
  const users = [...ctx.store.users.values()];
  const userOptions = users
    .map((user, index) => {
      const pages = user.pageIds
        .map((pageId) => ctx.store.pages.get(pageId))
        .filter((item) => item !== undefined)
        .map((item) => {
          const ig = item.instagramAccountId ? ctx.store.instagramAccounts.get(item.instagramAccountId) : undefined;
          const igLabel = ig ? ` — Instagram @${escape(ig.username)} (${ig.accountType === 'BUSINESS' ? 'business' : 'creator'})` : '';
          // Only the default user's Pages start checked, so the form submitted as it loads is a valid choice.
          return `<label><input type="checkbox" name="page_ids" value="${escape(item.id)}"${index === 0 ? ' checked' : ''}> ${escape(item.name)}${igLabel}</label>`;
        })
        .join('');
      return `<fieldset><legend><label><input type="radio" name="user_id" value="${escape(user.id)}"${index === 0 ? ' checked' : ''}> Continue as ${escape(user.name)}</label></legend>
<p class="muted">Pages ${escape(user.name)} manages (only the chosen user's Pages are granted):</p>${pages || '<p class="muted">No Pages.</p>'}</fieldset>`;
    })
    .join('');
  const scopeOptions = check.scopes
    .map((scope) => `<label><input type="checkbox" name="granted_scopes" value="${escape(scope)}" checked> <code>${escape(scope)}</code></label>`)
    .join('');
  return page(
    `Log in to ${check.app.name}`,
    `<h1>${escape(check.app.name)} is requesting access</h1>
<p class="muted">Facebook Login (Meta sandbox). Pick a test user, the Pages to share and the permissions to grant.</p>
<form method="post" action="/dialog/oauth/confirm">
${hidden({
  client_id: check.app.id,
  redirect_uri: check.redirectUri,
  state: str(params, 'state'),
  requested_scopes: check.scopes.join(','),
  code_challenge: check.codeChallenge?.value,
  code_challenge_method: check.codeChallenge?.method,
})}
${userOptions || '<p>No test users are seeded.</p>'}
<fieldset><legend>Permissions</legend>${scopeOptions || '<p class="muted">public_profile</p>'}</fieldset>
<div class="actions"><button name="decision" value="allow">Continue</button><button name="decision" value="deny">Cancel</button></div>
</form>`,
  );
}

function instagramDialog(ctx: SandboxContext, params: Params): string | DialogCheck {
  const check = checkDialog(ctx, params, INSTAGRAM_SCOPES, 'instagram');
  if ('problem' in check) return check;
  const accounts = [...ctx.store.instagramAccounts.values()]
    .map(
      (account, index) =>
        `<label><input type="radio" name="ig_user_id" value="${escape(account.id)}"${index === 0 ? ' checked' : ''}> @${escape(account.username)} (${account.accountType === 'BUSINESS' ? 'business' : 'creator'})</label>`,
    )
    .join('');
  const scopeOptions = check.scopes
    .map((scope) => `<label><input type="checkbox" name="granted_scopes" value="${escape(scope)}" checked> <code>${escape(scope)}</code></label>`)
    .join('');
  return page(
    `Allow ${check.app.name}`,
    `<h1>Allow ${escape(check.app.name)} to access your Instagram account?</h1>
<p class="muted">Instagram Login (Meta sandbox).</p>
<form method="post" action="/oauth/authorize/confirm">
${hidden({ client_id: check.app.id, redirect_uri: check.redirectUri, state: str(params, 'state'), requested_scopes: check.scopes.join(',') })}
<fieldset><legend>Account</legend>${accounts || '<p>No Instagram accounts are seeded.</p>'}</fieldset>
<fieldset><legend>Permissions</legend>${scopeOptions}</fieldset>
<div class="actions"><button name="decision" value="allow">Allow</button><button name="decision" value="deny">Cancel</button></div>
</form>`,
  );
}

function grantedFrom(params: Params): { granted: string[]; declined: string[] } {
  const requested = parseScopeList(str(params, 'requested_scopes'));
  const granted = asList(params.granted_scopes).filter((scope) => requested.includes(scope));
  return { granted, declined: requested.filter((scope) => !granted.includes(scope)) };
}

function sendHtml(reply: FastifyReply, result: string | DialogCheck) {
  if (typeof result === 'string') return reply.type('text/html; charset=utf-8').send(result);
  if ('problem' in result) return dialogProblem(reply, ...result.problem);
  throw new Error('dialog rendered nothing');
}

/**
 * graph.facebook.com/{ver}/oauth/access_token: code exchange, long-lived exchange and app tokens. Meta documents
 * a GET; standard OAuth clients (simple-oauth2, hence @fastify/oauth2) POST a form and may send the client
 * credentials as HTTP Basic, so both are taken.
 */
function facebookAccessToken(ctx: SandboxContext, request: FastifyRequest) {
  const params = withBasicCredentials(request, readParams(request));
  const client = checkClient(ctx, params);
  const now = ctx.clock.now();
  switch (str(params, 'grant_type')) {
    case 'fb_exchange_token': {
      const source = ctx.store.tokens.get(str(params, 'fb_exchange_token') ?? '');
      if (!source || source.kind !== 'facebook-user') throw errors.unparseableToken();
      if (source.appId !== client.id) throw errors.invalidParameter('The token was issued for another app.');
      const verdict = evaluateToken(source, now);
      if (!verdict.valid) throw errors.token(verdict.subcode, verdict.message);
      const token = issueUserToken(ctx.store, now, {
        kind: 'facebook-user',
        appId: client.id,
        subjectId: source.subjectId,
        scopes: source.scopes,
        declinedScopes: source.declinedScopes,
        targetIds: source.targetIds,
        longLived: true,
        dataAccessExpiresAt: source.dataAccessExpiresAt,
      });
      return tokenResponse(token, now);
    }
    case 'client_credentials':
      return { access_token: `${client.id}|${client.secret}`, token_type: 'bearer' };
    case undefined:
    case 'authorization_code': {
      const code = redeemCode(ctx, params, 'facebook', client);
      const token = issueUserToken(ctx.store, now, {
        kind: 'facebook-user',
        appId: client.id,
        subjectId: code.subjectId,
        scopes: code.scopes,
        declinedScopes: code.declinedScopes,
        targetIds: code.targetIds,
        longLived: false,
      });
      return tokenResponse(token, now);
    }
    default:
      throw errors.invalidParameter(`Unsupported grant_type ${str(params, 'grant_type')}`);
  }
}

/** `Authorization: Basic base64(client_id:client_secret)` as RFC 6749 §2.3.1 allows, when the form has none. */
function withBasicCredentials(request: FastifyRequest, params: Params): Params {
  const match = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  if (!match || str(params, 'client_id') !== undefined) return params;
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString();
  const colon = decoded.indexOf(':');
  if (colon < 0) return params;
  const unescape = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
  return { ...params, client_id: unescape(decoded.slice(0, colon)), client_secret: unescape(decoded.slice(colon + 1)) };
}

/** The form-encoded POST of the Facebook code exchange; only under a version (see app.ts). */
export function facebookCodeExchangeRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  app.post('/oauth/access_token', { config: { operation: 'facebook.access-token' } }, async (request) => facebookAccessToken(ctx, request));
}

/** Routes served with and without a `/{version}` prefix (graph.facebook.com, graph.instagram.com, www.facebook.com). */
export function loginGraphRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  app.get('/dialog/oauth', { config: { operation: 'facebook.dialog' } }, async (request, reply) =>
    sendHtml(reply, facebookDialog(ctx, readParams(request))),
  );

  app.post('/dialog/oauth/confirm', { config: { operation: 'facebook.dialog' } }, async (request, reply) => {
    const params = readParams(request);
    const check = checkDialog(ctx, { ...params, scope: str(params, 'requested_scopes') }, FACEBOOK_SCOPES, 'facebook');
    if ('problem' in check) return dialogProblem(reply, ...check.problem);
    const state = str(params, 'state');
    if (str(params, 'decision') !== 'allow') {
      return reply.redirect(
        redirectWith(check.redirectUri, {
          error: 'access_denied',
          error_code: '200',
          error_description: 'Permissions error',
          error_reason: 'user_denied',
          state,
        }, '_=_'),
      );
    }
    const user = ctx.store.users.get(str(params, 'user_id') ?? '');
    if (!user) return dialogProblem(reply, 'Choose a test user', 'Pick one of the listed test users to continue.');
    const pageIds = asList(params.page_ids);
    const foreign = pageIds.filter((pageId) => !user.pageIds.includes(pageId));
    if (foreign.length > 0) return dialogProblem(reply, 'Page not available', `${user.name} does not manage ${foreign.join(', ')}.`);
    const instagramIds = pageIds
      .map((pageId) => ctx.store.pages.get(pageId)?.instagramAccountId)
      .filter((id): id is string => id !== undefined);
    const { granted, declined } = grantedFrom(params);
    const code = issueCode(ctx, {
      login: 'facebook',
      appId: check.app.id,
      redirectUri: check.redirectUri,
      subjectId: user.id,
      scopes: granted.includes('public_profile') ? granted : ['public_profile', ...granted],
      declinedScopes: declined,
      targetIds: [...pageIds, ...instagramIds],
      ...(check.codeChallenge ? { codeChallenge: check.codeChallenge } : {}),
    });
    return reply.redirect(redirectWith(check.redirectUri, { code, state }, '_=_'));
  });

  app.get('/oauth/access_token', { config: { operation: 'facebook.access-token' } }, async (request) => facebookAccessToken(ctx, request));

  app.get('/debug_token', { config: { operation: 'facebook.debug-token' } }, async (request, reply) => {
    const params = readParams(request);
    const value = str(params, 'access_token') ?? '';
    const callerApp = value.includes('|') ? authenticateApp(ctx, request, reply, params) : appOfToken(ctx, authenticate(ctx, request, reply, params));
    const input = str(params, 'input_token');
    if (input === undefined) throw errors.missingParameter('input_token');
    const token = tokenKindOf(input) === undefined ? undefined : ctx.store.tokens.get(input);
    if (!token) return { data: { error: { code: 190, message: 'Invalid OAuth access token.' }, is_valid: false, scopes: [] } };
    if (token.appId !== callerApp.id) throw errors.invalidParameter('The input token was not issued for this app.');
    return { data: debugData(ctx, token) };
  });

  app.get('/me/permissions', { config: { operation: 'facebook.permissions' } }, async (request, reply) => {
    const token = authenticate(ctx, request, reply, readParams(request));
    if (token.kind === 'instagram-user') throw errors.nonexistingField('permissions', 'User');
    return {
      data: [
        ...token.scopes.map((permission) => ({ permission, status: 'granted' })),
        ...token.declinedScopes.map((permission) => ({ permission, status: 'declined' })),
      ],
    };
  });

  const accounts = async (request: FastifyRequest<{ Params: { id?: string } }>, reply: FastifyReply) => {
    const params = readParams(request);
    const token = authenticate(ctx, request, reply, params);
    if (token.kind !== 'facebook-user') throw errors.nonexistingField('accounts', token.kind === 'facebook-page' ? 'Page' : 'User');
    const userId = meId(token, request.params.id ?? 'me');
    if (userId !== token.subjectId) throw errors.unsupported('get', userId);
    if (!token.scopes.includes('pages_show_list')) return { data: [] };
    const user = ctx.store.users.get(token.subjectId);
    const fields = requestedFields(params);
    const pages = (user?.pageIds ?? [])
      .filter((pageId) => canActOnPage(ctx, token, pageId))
      .map((pageId) => {
        const pageToken = pageTokenFor(ctx.store, ctx.clock.now(), token, pageId);
        return renderPage(ctx, pageId, fields, ['access_token', 'category', 'category_list', 'name', 'id', 'tasks'], pageToken.value);
      });
    return pageOf(pages, params);
  };
  app.get('/me/accounts', { config: { operation: 'facebook.accounts' } }, accounts);
  app.get('/:id/accounts', { config: { operation: 'facebook.accounts' } }, accounts);

  // graph.instagram.com: long-lived exchange and refresh
  app.get('/access_token', { config: { operation: 'instagram.exchange-token' } }, async (request) => {
    const params = readParams(request);
    if (str(params, 'grant_type') !== 'ig_exchange_token') throw errors.invalidParameter('grant_type must be ig_exchange_token');
    const source = instagramToken(ctx, params);
    const app = ctx.store.apps.get(source.appId);
    if (!app || str(params, 'client_secret') !== app.secret) throw errors.clientSecret();
    const now = ctx.clock.now();
    const token = issueUserToken(ctx.store, now, {
      kind: 'instagram-user',
      appId: source.appId,
      subjectId: source.subjectId,
      scopes: source.scopes,
      longLived: true,
      dataAccessExpiresAt: source.dataAccessExpiresAt,
    });
    return tokenResponse(token, now);
  });

  app.get('/refresh_access_token', { config: { operation: 'instagram.refresh-token' } }, async (request) => {
    const params = readParams(request);
    if (str(params, 'grant_type') !== 'ig_refresh_token') throw errors.invalidParameter('grant_type must be ig_refresh_token');
    const source = instagramToken(ctx, params);
    if (!source.longLived) throw errors.invalidParameter('Only long-lived Instagram tokens can be refreshed; exchange the short-lived token first.');
    const now = ctx.clock.now();
    if (now < refreshableAt(source)) {
      throw errors.invalidParameter(
        `The token was issued less than 24 hours ago; it can be refreshed from ${new Date(refreshableAt(source)).toISOString()}.`,
      );
    }
    const token = issueUserToken(ctx.store, now, {
      kind: 'instagram-user',
      appId: source.appId,
      subjectId: source.subjectId,
      scopes: source.scopes,
      longLived: true,
      dataAccessExpiresAt: now + LIFETIMES.dataAccessMs,
    });
    return tokenResponse(token, now);
  });
}

/** Routes only served without a version: www.instagram.com/oauth/authorize and api.instagram.com/oauth/access_token. */
export function loginRootRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  app.get('/oauth/authorize', { config: { operation: 'instagram.dialog' } }, async (request, reply) =>
    sendHtml(reply, instagramDialog(ctx, readParams(request))),
  );

  app.post('/oauth/authorize/confirm', { config: { operation: 'instagram.dialog' } }, async (request, reply) => {
    const params = readParams(request);
    const check = checkDialog(ctx, { ...params, scope: str(params, 'requested_scopes') }, INSTAGRAM_SCOPES, 'instagram');
    if ('problem' in check) return dialogProblem(reply, ...check.problem);
    const state = str(params, 'state');
    if (str(params, 'decision') !== 'allow') {
      return reply.redirect(
        redirectWith(check.redirectUri, { error: 'access_denied', error_reason: 'user_denied', error_description: 'The user denied your request.', state }, '_'),
      );
    }
    const account = ctx.store.instagramAccounts.get(str(params, 'ig_user_id') ?? '');
    if (!account) return dialogProblem(reply, 'Choose an account', 'Pick one of the listed Instagram accounts to continue.');
    const { granted, declined } = grantedFrom(params);
    const code = issueCode(ctx, {
      login: 'instagram',
      appId: check.app.id,
      redirectUri: check.redirectUri,
      subjectId: account.id,
      scopes: granted,
      declinedScopes: declined,
      targetIds: [account.id],
    });
    return reply.redirect(redirectWith(check.redirectUri, { code, state }, '_'));
  });

  app.post('/oauth/access_token', { config: { operation: 'instagram.code-exchange' } }, async (request) => {
    const params = readParams(request);
    const app = appFor(ctx, str(params, 'client_id'));
    if (!app) throw new InstagramOAuthError('Invalid platform app');
    if (str(params, 'client_secret') !== app.secret) throw new InstagramOAuthError('Error validating client secret.');
    if (str(params, 'grant_type') !== 'authorization_code') throw new InstagramOAuthError('Invalid grant_type: authorization_code is required');
    let code: AuthCode;
    try {
      code = redeemCode(ctx, params, 'instagram', app);
    } catch (error) {
      if (error instanceof GraphError) {
        throw new InstagramOAuthError(error.subcode === 36009 ? 'This authorization code has been used' : error.message);
      }
      throw error;
    }
    const token = issueUserToken(ctx.store, ctx.clock.now(), {
      kind: 'instagram-user',
      appId: app.id,
      subjectId: code.subjectId,
      scopes: code.scopes,
      declinedScopes: code.declinedScopes,
      longLived: false,
    });
    return ctx.settings.instagramTokenResponse === 'data'
      ? { data: [{ access_token: token.value, user_id: token.subjectId, permissions: token.scopes.join(',') }] }
      : { access_token: token.value, user_id: token.subjectId, permissions: token.scopes };
  });
}

function instagramToken(ctx: SandboxContext, params: Params): TokenRecord {
  const value = str(params, 'access_token');
  if (value === undefined) throw errors.missingToken();
  const token = ctx.store.tokens.get(value);
  if (!token || token.kind !== 'instagram-user') throw errors.unparseableToken();
  const verdict = evaluateToken(token, ctx.clock.now());
  if (!verdict.valid) throw errors.token(verdict.subcode, verdict.message);
  return token;
}

function appOfToken(ctx: SandboxContext, token: TokenRecord): App {
  const app = ctx.store.apps.get(token.appId);
  if (!app) throw errors.unparseableToken();
  return app;
}

function debugData(ctx: SandboxContext, token: TokenRecord) {
  const now = ctx.clock.now();
  const verdict = evaluateToken(token, now);
  const granular = token.kind === 'instagram-user'
    ? []
    : token.scopes
        .filter((scope) => TARGETED_SCOPES.has(scope))
        .map((scope) => ({
          scope,
          target_ids: token.targetIds.filter((id) => (scope.startsWith('instagram_') ? ctx.store.instagramAccounts.has(id) : ctx.store.pages.has(id))),
        }));
  return selectFields('DebugToken', {
    app_id: () => token.appId,
    type: () => (token.kind === 'facebook-page' ? 'PAGE' : 'USER'),
    application: () => ctx.store.apps.get(token.appId)?.name,
    data_access_expires_at: () => Math.floor(token.dataAccessExpiresAt / 1000),
    expires_at: () => (token.expiresAt === 0 ? 0 : Math.floor(token.expiresAt / 1000)),
    is_valid: () => verdict.valid,
    issued_at: () => Math.floor(token.issuedAt / 1000),
    error: () => (verdict.valid ? undefined : { code: 190, message: verdict.message, subcode: verdict.subcode }),
    scopes: () => token.scopes,
    granular_scopes: () => granular,
    user_id: () => token.subjectId,
    profile_id: () => token.pageId,
  }, undefined, ['app_id', 'type', 'application', 'data_access_expires_at', 'expires_at', 'is_valid', 'issued_at', 'error', 'scopes', 'granular_scopes', 'user_id', 'profile_id']);
}
