import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../context.ts';
import { errors } from '../domain/errors.ts';
import { parseFields, type FieldSpec } from '../domain/fields.ts';
import { str, type LoginKind, type Params } from '../domain/publishing.ts';
import { evaluateToken, tokenKindOf, type TokenRecord } from '../domain/tokens.ts';
import { appUsageHeader, businessUsageHeader, createUsageCounter, percentOf } from '../domain/usage.ts';
import type { App, InstagramAccount, Page } from '../state/store.ts';

/**
 * What every Graph handler does first: read parameters from the query and the body (Meta takes both),
 * find and check the access token, count the call against the app's and the object's budgets, and check
 * that the token may act on the object.
 */
export function readParams(request: FastifyRequest): Params {
  const query = request.query as Params | undefined;
  const body = request.body;
  if (body !== null && typeof body === 'object' && !Buffer.isBuffer(body)) return { ...query, ...(body as Params) };
  return query ?? {};
}

export function requestedFields(params: Params): FieldSpec[] | undefined {
  const raw = params.fields;
  return parseFields(typeof raw === 'string' ? raw : undefined);
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(header);
  return match?.[1]?.trim();
}

export function tokenValue(request: FastifyRequest, params: Params): string | undefined {
  const fromParams = params.access_token;
  return typeof fromParams === 'string' && fromParams !== '' ? fromParams : bearer(request);
}

/** Resolves and checks a user, Page or Instagram token, and counts the call against the app's budget. */
export function authenticate(ctx: SandboxContext, request: FastifyRequest, reply: FastifyReply, params: Params): TokenRecord {
  const value = tokenValue(request, params);
  if (value === undefined) throw errors.missingToken();
  const token = tokenKindOf(value) === undefined ? undefined : ctx.store.tokens.get(value);
  if (!token) throw errors.unparseableToken();
  const verdict = evaluateToken(token, ctx.clock.now());
  if (!verdict.valid) throw errors.token(verdict.subcode, verdict.message);
  checkAppSecretProof(ctx, params, value, token.appId);
  meterApp(ctx, reply, token.appId);
  return token;
}

/**
 * Meta checks `appsecret_proof` (hex HMAC-SHA256 of the access token, keyed with the app secret)
 * whenever a call carries one, and refuses a wrong one even where the app does not require it.
 */
function checkAppSecretProof(ctx: SandboxContext, params: Params, token: string, appId: string): void {
  const proof = params.appsecret_proof;
  if (proof === undefined) return;
  const secret = ctx.store.apps.get(appId)?.secret ?? '';
  const expected = createHmac('sha256', secret).update(token).digest('hex');
  const given = Buffer.from(typeof proof === 'string' ? proof : '');
  if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) throw errors.appSecretProof();
}

/** App access tokens are `{app-id}|{app-secret}`. */
export function authenticateApp(ctx: SandboxContext, request: FastifyRequest, reply: FastifyReply, params: Params): App {
  const value = tokenValue(request, params);
  if (value === undefined) throw errors.missingToken();
  const [appId = '', secret] = value.split('|');
  const app = ctx.store.apps.get(appId);
  if (!app || secret !== app.secret) throw errors.unparseableToken();
  meterApp(ctx, reply, app.id);
  return app;
}

function meterApp(ctx: SandboxContext, reply: FastifyReply, appId: string): void {
  const now = ctx.clock.now();
  let counter = ctx.store.appUsage.get(appId);
  if (!counter) {
    counter = createUsageCounter(ctx.settings.appWindowMs);
    ctx.store.appUsage.set(appId, counter);
  }
  const count = counter.record(now);
  if (percentOf(count, ctx.settings.appCallBudget) >= ctx.settings.usageHeadersFromPercent) {
    reply.header('x-app-usage', appUsageHeader(count, ctx.settings.appCallBudget));
  }
  if (count > ctx.settings.appCallBudget) throw errors.rateLimited(4);
}

/**
 * Meta's split: Instagram calls count against the account's business use case (80002) and Page calls with a
 * Page token against the Page's (80001), both reported in `X-Business-Use-Case-Usage` instead of the platform's
 * `X-App-Usage`; Page calls with a user token stay on platform limits (32 past the Page's budget, no BUC header).
 * Headers appear only once the usage reaches `usageHeadersFromPercent`.
 */
export function meterBusiness(ctx: SandboxContext, reply: FastifyReply, token: TokenRecord, type: 'instagram' | 'pages', objectId: string): void {
  const now = ctx.clock.now();
  let counter = ctx.store.businessUsage.get(objectId);
  if (!counter) {
    counter = createUsageCounter(ctx.settings.businessWindowMs);
    ctx.store.businessUsage.set(objectId, counter);
  }
  const count = counter.record(now);
  const budget = ctx.settings.businessCallBudget;
  const over = count > budget;
  if (type === 'pages' && token.kind !== 'facebook-page') {
    if (over) throw errors.rateLimited(32);
    return;
  }
  reply.removeHeader('x-app-usage');
  if (percentOf(count, budget) >= ctx.settings.usageHeadersFromPercent) {
    reply.header('x-business-use-case-usage', businessUsageHeader(objectId, type, count, budget, over ? counter.minutesToRegain(now) : 0));
  }
  if (over) throw errors.rateLimited(type === 'instagram' ? 80002 : 80001);
}

export function meId(token: TokenRecord, id: string): string {
  if (id !== 'me') return id;
  return token.kind === 'facebook-page' ? (token.pageId ?? id) : token.subjectId;
}

/**
 * The scopes each kind of Instagram call needs, per login. Publishing through Facebook Login needs
 * `instagram_basic`, `instagram_content_publish` and `pages_read_engagement` together (the publishing guide's list).
 */
const INSTAGRAM_SCOPES = {
  basic: { facebook: ['instagram_basic'], instagram: ['instagram_business_basic'] },
  publish: {
    facebook: ['instagram_basic', 'instagram_content_publish', 'pages_read_engagement'],
    instagram: ['instagram_business_basic', 'instagram_business_content_publish'],
  },
  insights: { facebook: ['instagram_manage_insights'], instagram: ['instagram_business_manage_insights'] },
  comments: { facebook: ['instagram_manage_comments'], instagram: ['instagram_business_manage_comments'] },
} as const;

export type InstagramNeed = keyof typeof INSTAGRAM_SCOPES;

export function loginOf(token: TokenRecord): LoginKind {
  return token.kind === 'instagram-user' ? 'instagram' : 'facebook';
}

export function requireInstagramScope(token: TokenRecord, need: InstagramNeed): void {
  for (const scope of INSTAGRAM_SCOPES[need][loginOf(token)]) {
    if (!token.scopes.includes(scope)) throw errors.permission(10, scope);
  }
}

/**
 * May this token act on this Instagram account? Instagram Login: only its own account. Facebook Login: a user
 * token whose user manages the linked Page and picked it in the dialog, or that Page's token (the publishing
 * guide says Page token, the endpoint references say user token: both work).
 */
export function instagramAccess(
  ctx: SandboxContext,
  reply: FastifyReply,
  token: TokenRecord,
  igUserId: string,
  method: string,
  need: InstagramNeed,
): { account: InstagramAccount; login: LoginKind } {
  const account = ctx.store.instagramAccounts.get(igUserId);
  if (!account || !canActOnInstagram(ctx, token, account)) throw errors.unsupported(method, igUserId);
  meterBusiness(ctx, reply, token, 'instagram', igUserId);
  requireInstagramScope(token, need);
  return { account, login: loginOf(token) };
}

export function canActOnInstagram(ctx: SandboxContext, token: TokenRecord, account: InstagramAccount): boolean {
  switch (token.kind) {
    case 'instagram-user':
      return token.subjectId === account.id;
    case 'facebook-page':
      return account.pageId !== undefined && token.pageId === account.pageId;
    case 'facebook-user':
      return (
        account.pageId !== undefined &&
        token.targetIds.includes(account.pageId) &&
        (ctx.store.users.get(token.subjectId)?.pageIds.includes(account.pageId) ?? false)
      );
  }
}

export function canActOnPage(ctx: SandboxContext, token: TokenRecord, pageId: string): boolean {
  if (token.kind === 'facebook-page') return token.pageId === pageId;
  if (token.kind === 'facebook-user') {
    return token.targetIds.includes(pageId) && (ctx.store.users.get(token.subjectId)?.pageIds.includes(pageId) ?? false);
  }
  return false;
}

/** Page access; writes need the Page's own token and the listed permissions (Meta's error 200 otherwise). */
export function pageAccess(
  ctx: SandboxContext,
  reply: FastifyReply,
  token: TokenRecord,
  pageId: string,
  method: string,
  options: { write?: boolean; scopes?: readonly string[] } = {},
): Page {
  const page = ctx.store.pages.get(pageId);
  if (!page || !canActOnPage(ctx, token, pageId)) throw errors.unsupported(method, pageId);
  meterBusiness(ctx, reply, token, 'pages', pageId);
  if (options.write && token.kind !== 'facebook-page') {
    throw errors.permission(200, 'a Page access token (from /me/accounts) with pages_manage_posts');
  }
  for (const scope of options.scopes ?? []) {
    if (!token.scopes.includes(scope)) throw errors.permission(200, scope);
  }
  return page;
}

export function publicBase(ctx: SandboxContext, request: FastifyRequest): string {
  return ctx.settings.publicUrl?.replace(/\/$/, '') ?? `${request.protocol}://${request.host}`;
}

/**
 * Meta's cursor paging. With `request`, a page that has more after it carries `paging.next`: this URL with the
 * `after` cursor replaced, which a client follows until it is absent.
 */
export function pageOf<T>(
  items: readonly T[],
  params: Params,
  request?: { base: string; url: string },
): { data: T[]; paging?: { cursors: { before: string; after: string }; next?: string } } {
  const limit = Math.min(100, Math.max(1, Number(params.limit ?? 25) || 25));
  const after = typeof params.after === 'string' ? Number(Buffer.from(params.after, 'base64url').toString()) || 0 : 0;
  const data = items.slice(after, after + limit);
  if (data.length === 0) return { data };
  const cursor = (index: number) => Buffer.from(String(index)).toString('base64url');
  const cursors = { before: cursor(after), after: cursor(after + data.length) };
  if (request === undefined || after + data.length >= items.length) return { data, paging: { cursors } };
  const next = new URL(request.url, request.base);
  next.searchParams.set('after', cursors.after);
  return { data, paging: { cursors, next: next.toString() } };
}

/**
 * `since` / `until` (unix seconds, or anything Date.parse reads) as reads of recent media and posts take them:
 * what a client uses to find out whether an unclear write happened. Bounds are inclusive.
 */
export function timeRange(params: Params): (at: number) => boolean {
  const bound = (name: string): number | undefined => {
    const raw = str(params, name);
    if (raw === undefined) return undefined;
    const value = /^\d+$/.test(raw) ? Number(raw) * 1000 : Date.parse(raw);
    if (Number.isNaN(value)) throw errors.invalidParameter(`Param ${name} must be a unix timestamp or a date`);
    return value;
  };
  const since = bound('since');
  const until = bound('until');
  return (at) => (since === undefined || at >= since) && (until === undefined || at <= until);
}
