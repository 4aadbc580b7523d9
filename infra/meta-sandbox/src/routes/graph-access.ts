import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../context.ts';
import { errors } from '../domain/errors.ts';
import { parseFields, type FieldSpec } from '../domain/fields.ts';
import type { LoginKind, Params } from '../domain/publishing.ts';
import { evaluateToken, tokenKindOf, type TokenRecord } from '../domain/tokens.ts';
import { appUsageHeader, businessUsageHeader, createUsageCounter } from '../domain/usage.ts';
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
  reply.header('x-app-usage', appUsageHeader(count, ctx.settings.appCallBudget));
  if (count > ctx.settings.appCallBudget) throw errors.rateLimited(4);
}

/** Business use case usage per Instagram account or Page; past the budget: 80002 (IG), 80001/32 (Pages). */
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
  reply.header('x-business-use-case-usage', businessUsageHeader(objectId, type, count, budget, over ? counter.minutesToRegain(now) : 0));
  if (over) throw errors.rateLimited(type === 'instagram' ? 80002 : token.kind === 'facebook-page' ? 80001 : 32);
}

export function meId(token: TokenRecord, id: string): string {
  if (id !== 'me') return id;
  return token.kind === 'facebook-page' ? (token.pageId ?? id) : token.subjectId;
}

const INSTAGRAM_SCOPES = {
  basic: { facebook: 'instagram_basic', instagram: 'instagram_business_basic' },
  publish: { facebook: 'instagram_content_publish', instagram: 'instagram_business_content_publish' },
  insights: { facebook: 'instagram_manage_insights', instagram: 'instagram_business_manage_insights' },
  comments: { facebook: 'instagram_manage_comments', instagram: 'instagram_business_manage_comments' },
} as const;

export type InstagramNeed = keyof typeof INSTAGRAM_SCOPES;

export function loginOf(token: TokenRecord): LoginKind {
  return token.kind === 'instagram-user' ? 'instagram' : 'facebook';
}

export function requireInstagramScope(token: TokenRecord, need: InstagramNeed): void {
  const scope = INSTAGRAM_SCOPES[need][loginOf(token)];
  if (!token.scopes.includes(scope)) throw errors.permission(10, scope);
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

export function pageOf<T>(items: readonly T[], params: Params): { data: T[]; paging?: { cursors: { before: string; after: string }; next?: string } } {
  const limit = Math.min(100, Math.max(1, Number(params.limit ?? 25) || 25));
  const after = typeof params.after === 'string' ? Number(Buffer.from(params.after, 'base64url').toString()) || 0 : 0;
  const data = items.slice(after, after + limit);
  if (data.length === 0) return { data };
  const cursor = (index: number) => Buffer.from(String(index)).toString('base64url');
  return { data, paging: { cursors: { before: cursor(after), after: cursor(after + data.length) } } };
}
