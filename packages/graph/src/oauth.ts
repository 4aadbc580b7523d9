import type { z } from 'zod';
import type { GraphSettings } from './config.ts';
import { GraphApiError, GraphNetworkError, GraphResponseError, parseErrorBody } from './errors.ts';
import * as schemas from './schemas.ts';

/**
 * What a standard OAuth 2 client (simple-oauth2, hence @fastify/oauth2) needs to run Meta's two logins, and how
 * to read what it gets back. The endpoints follow the same settings as the rest of the client, so they point at
 * the sandbox or at Meta by configuration alone.
 */
export type OAuthProvider = 'facebook' | 'instagram';

/** simple-oauth2's `auth` block: where the browser is sent and where the code is exchanged (form POST). */
export type OAuthEndpoints = {
  readonly authorizeHost: string;
  readonly authorizePath: string;
  readonly tokenHost: string;
  readonly tokenPath: string;
};

export function oauthEndpoints(settings: GraphSettings, provider: OAuthProvider): OAuthEndpoints {
  if (provider === 'facebook') {
    return {
      authorizeHost: settings.baseUrls.facebookDialog,
      authorizePath: `/${settings.version}/dialog/oauth`,
      tokenHost: settings.baseUrls.graph,
      tokenPath: `/${settings.version}/oauth/access_token`,
    };
  }
  return {
    authorizeHost: settings.baseUrls.instagramDialog,
    authorizePath: '/oauth/authorize',
    tokenHost: settings.baseUrls.instagramApi,
    tokenPath: '/oauth/access_token',
  };
}

type Where = { readonly method: string; readonly path: string };

function parsed<T extends z.ZodType>(schema: T, answer: unknown, where: Where): z.output<T> {
  const result = schema.safeParse(answer);
  if (result.success) return result.data;
  throw new GraphResponseError({ ...where, httpStatus: 200, issues: result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) });
}

/** Facebook Login's code exchange answer `{access_token, token_type, expires_in}`. */
export function tokenGrantFromAnswer(answer: unknown, where: Where): { accessToken: string; tokenType: string | undefined; expiresIn: number | undefined } {
  const token = parsed(schemas.tokenAnswer, answer, where);
  return { accessToken: token.access_token, tokenType: token.token_type, expiresIn: token.expires_in };
}

/**
 * Instagram Login's code exchange answer, documented as `{data:[{access_token, user_id, permissions}]}` and seen
 * flat. `userId` is undefined when Meta sent it as a JSON number beyond 2^53 and a generic JSON parser (as in
 * simple-oauth2) already rounded it: then ask `instagramMe` for the exact id.
 */
export function instagramCodeGrantFromAnswer(answer: unknown, where: Where): { accessToken: string; userId: string | undefined; permissions: string[] } {
  const entry: unknown = typeof answer === 'object' && answer !== null && 'data' in answer && Array.isArray(answer.data) ? answer.data[0] : answer;
  const rawUserId = typeof entry === 'object' && entry !== null && 'user_id' in entry ? entry.user_id : undefined;
  const rounded = typeof rawUserId === 'number' && !Number.isSafeInteger(rawUserId);
  // A rounded id is useless, not malformed: read the rest of the entry and leave the id to `instagramMe`.
  const grant = parsed(schemas.instagramCodeAnswer, rounded ? { ...(entry as object), user_id: '0' } : answer, where);
  const permissions = grant.permissions === undefined ? [] : typeof grant.permissions === 'string' ? grant.permissions.split(',').filter(Boolean) : [...grant.permissions];
  return { accessToken: grant.access_token, userId: rounded ? undefined : grant.user_id, permissions };
}

/**
 * The error a failed token request through simple-oauth2 means: Meta's answer (Graph's or Instagram Login's error
 * shape, read from the Boom error's payload) as a GraphApiError, or a GraphNetworkError when nothing came back.
 */
export function graphErrorFromOAuthFailure(error: unknown, where: Where): GraphApiError | GraphNetworkError {
  const data = typeof error === 'object' && error !== null && 'data' in error ? (error.data as { payload?: unknown; res?: { statusCode?: number } } | null) : null;
  const output = typeof error === 'object' && error !== null && 'output' in error ? (error.output as { statusCode?: number } | null) : null;
  const status = data?.res?.statusCode;
  if (status === undefined) {
    return new GraphNetworkError({ ...where, timedOut: false, requestSent: true, cause: error });
  }
  const payload = Buffer.isBuffer(data?.payload) ? safeJson(data.payload.toString()) : data?.payload;
  const fields = parseErrorBody(status, payload) ?? parseErrorBody(output?.statusCode ?? 502, undefined);
  if (!fields) return new GraphNetworkError({ ...where, timedOut: false, requestSent: true, cause: error });
  return new GraphApiError(fields, where);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
