import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, redactUrl } from '@postwire/core';
import type { z } from 'zod';
import { classifyCodes } from './classify.ts';
import type { GraphBaseUrls, GraphSettings } from './config.ts';
import { GraphApiError, GraphNetworkError, GraphResponseError, parseErrorBody } from './errors.ts';
import { adviseUsage, hasUsage, readUsage, type UsageAdvice, type UsageSnapshot } from './usage.ts';

export type GraphHost = keyof GraphBaseUrls;

type Scalar = string | number | boolean;
/** Scalars are sent as text; arrays and objects (user_tags, trial_params, attached_media) as JSON. */
export type ParamValue = Scalar | null | undefined | readonly unknown[] | { readonly [key: string]: unknown };
export type Params = Readonly<Record<string, ParamValue>>;

/** A pino-compatible subset; the client logs method, redacted path, status and timing, never a token. */
export type GraphLogger = {
  debug(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
};

export type GraphClientDependencies = {
  readonly fetch?: typeof fetch;
  readonly logger?: GraphLogger;
  /** Called with every answer's usage headers (metrics, adaptive pacing). */
  readonly onUsage?: (usage: UsageSnapshot, request: { method: string; path: string }) => void;
  /** For tests: how backoff waits and where its jitter comes from. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
};

export type RequestOptions<S extends z.ZodType> = {
  readonly schema: S;
  /** The access token: sent as the `access_token` parameter, or `Authorization: OAuth` with `authorization: 'oauth'`. */
  readonly token?: string;
  readonly params?: Params;
  /** Which Meta host; default Graph (graph.facebook.com), or Instagram Graph for Instagram Login tokens. */
  readonly host?: GraphHost;
  /** Prefix the path with the configured version (default true). */
  readonly versioned?: boolean;
  /** Override the default (on for Facebook user and Page tokens on the Facebook Graph hosts). */
  readonly appsecretProof?: boolean;
  readonly authorization?: 'param' | 'oauth';
  readonly headers?: Readonly<Record<string, string>>;
  /** A raw body (rupload bytes); parameters then go into the query. */
  readonly body?: Uint8Array;
  readonly timeoutMs?: number;
  /** GET only: how many retries on transient errors (default from settings). Writes are never retried. */
  readonly retries?: number;
};

export type GraphMethod = 'GET' | 'POST' | 'DELETE';

/** Instagram Login tokens (`IGAA…`, formerly `IGQV…`) go to graph.instagram.com; everything else is Facebook's. */
export function loginOf(token: string): 'facebook' | 'instagram' {
  return token.startsWith('IG') ? 'instagram' : 'facebook';
}

export function isAppToken(token: string): boolean {
  return token.includes('|');
}

/** HMAC-SHA256 of the access token keyed with the app secret, hex: Meta's proof that the caller holds the secret. */
export function appsecretProof(token: string, appSecret: string): string {
  return createHmac('sha256', appSecret).update(token).digest('hex');
}

function serialise(value: ParamValue): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export function toSearchParams(params: Params): URLSearchParams {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    const text = serialise(value);
    if (text !== undefined) search.append(key, text);
  }
  return search;
}

/**
 * Meta ids can exceed 2^53 (Instagram account ids are ~1.78e16) and Instagram Login sends `user_id` as a JSON
 * number, which `JSON.parse` would silently round. Long integer values are quoted before parsing.
 */
export function parseJsonPreservingIds(text: string): unknown {
  // The reviver sees each number's source text (Node's JSON.parse source access), before any precision is lost.
  return JSON.parse(text, (_key, value: unknown, context?: { readonly source?: string }) =>
    typeof value === 'number' && context?.source !== undefined && /^-?\d{16,}$/.test(context.source) ? context.source : value,
  ) as unknown;
}

/** Connection errors that prove nothing was sent: the request never left this process. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || (error.name === 'AbortError' && error.cause instanceof Error && error.cause.name === 'TimeoutError'));
}

export type UsageTracker = {
  /** The latest app usage and, per Page / Instagram account, the latest business use case usage seen. */
  latest(): UsageSnapshot;
  /** What the usage policy says now, overall or for one Page / Instagram account plus the app. */
  advice(objectId?: string): UsageAdvice;
};

export type Transport = {
  request<S extends z.ZodType>(method: GraphMethod, path: string, options: RequestOptions<S>): Promise<z.output<S>>;
  readonly usage: UsageTracker;
};

/** The HTTP layer under every typed method: URLs, tokens, proof, timeouts, retries, error shapes, usage headers. */
export function createTransport(settings: GraphSettings, dependencies: GraphClientDependencies = {}): Transport {
  const fetchImpl = dependencies.fetch ?? globalThis.fetch;
  const wait = dependencies.sleep ?? ((ms: number) => sleep(ms).then(() => undefined));
  const random = dependencies.random ?? Math.random;
  const logger = dependencies.logger;

  let appUsage: UsageSnapshot['app'];
  const businessUsage = new Map<string, UsageSnapshot['business'][string]>();
  const usage: UsageTracker = {
    latest: () => ({ app: appUsage, business: Object.fromEntries(businessUsage) }),
    advice(objectId) {
      const business = objectId === undefined ? Object.fromEntries(businessUsage) : Object.fromEntries(businessUsage.has(objectId) ? [[objectId, businessUsage.get(objectId) ?? []]] : []);
      return adviseUsage({ app: appUsage, business }, { slowDownAtPercent: settings.usage.slowDownAtPercent });
    },
  };

  function record(snapshot: UsageSnapshot, request: { method: string; path: string }) {
    if (!hasUsage(snapshot)) return;
    if (snapshot.app) appUsage = snapshot.app;
    for (const [id, entries] of Object.entries(snapshot.business)) businessUsage.set(id, entries);
    dependencies.onUsage?.(snapshot, request);
  }

  async function once<S extends z.ZodType>(method: GraphMethod, path: string, options: RequestOptions<S>): Promise<z.output<S>> {
    const host = options.host ?? (options.token !== undefined && loginOf(options.token) === 'instagram' ? 'instagramGraph' : 'graph');
    const versioned = options.versioned ?? true;
    const url = new URL(`${settings.baseUrls[host]}${versioned ? `/${settings.version}` : ''}${path}`);
    const params = toSearchParams(options.params ?? {});
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    const token = options.token;
    if (token !== undefined) {
      if (options.authorization === 'oauth') headers.authorization = `OAuth ${token}`;
      else params.set('access_token', token);
      const proofByDefault = settings.appsecretProof && (host === 'graph' || host === 'graphVideo') && !isAppToken(token) && loginOf(token) === 'facebook';
      if (options.appsecretProof ?? proofByDefault) params.set('appsecret_proof', appsecretProof(token, settings.appSecret));
    }
    let body: Uint8Array | string | undefined;
    if (options.body !== undefined) {
      body = options.body;
      for (const [key, value] of params) url.searchParams.append(key, value);
    } else if (method === 'POST') {
      // Writes carry their parameters (and the token) in a form body, out of URLs and access logs.
      body = params.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      for (const [key, value] of params) url.searchParams.append(key, value);
    }
    const shownPath = redactUrl(url, { decode: true });
    const where = { method, path: shownPath };
    const timeoutMs = options.timeoutMs ?? (host === 'rupload' || host === 'graphVideo' ? settings.uploadTimeoutMs : settings.timeoutMs);
    const started = performance.now();

    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(url, { method, headers, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const code = errorCode(error);
      throw new GraphNetworkError({ ...where, timedOut: isTimeout(error), requestSent: code === undefined || !NOT_SENT_CODES.has(code), cause: error });
    }
    try {
      text = await response.text();
    } catch (error) {
      throw new GraphNetworkError({ ...where, timedOut: isTimeout(error), requestSent: true, cause: error });
    }
    const snapshot = readUsage(response.headers);
    record(snapshot, where);
    logger?.debug({ ...where, status: response.status, ms: Math.round(performance.now() - started) }, 'meta call');

    let parsed: unknown;
    let parseFailed = false;
    try {
      parsed = text === '' ? undefined : parseJsonPreservingIds(text);
    } catch {
      parseFailed = true;
    }
    const errorFields = parseErrorBody(response.status, parsed);
    if (errorFields) {
      const error = new GraphApiError(errorFields, where);
      if (classifyCodes(errorFields).class === 'rate-limited') {
        const advice = adviseUsage(snapshot, { rateLimited: true, slowDownAtPercent: settings.usage.slowDownAtPercent });
        error.retryAfterMs = advice.delayMs;
      }
      throw error;
    }
    if (parseFailed || parsed === undefined) {
      throw new GraphResponseError({ ...where, httpStatus: response.status, issues: [parseFailed ? 'the body is not JSON' : 'the body is empty'] });
    }
    const result = options.schema.safeParse(parsed);
    if (!result.success) {
      // Issue paths and messages only: zod's messages describe types, not the values (which may hold tokens).
      const issues = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
      throw new GraphResponseError({ ...where, httpStatus: response.status, issues });
    }
    return result.data;
  }

  function retryable(error: unknown): boolean {
    if (error instanceof GraphNetworkError) return true;
    if (error instanceof GraphApiError) return error.source !== 'instagram-oauth' && classifyCodes(error).class === 'transient';
    return false;
  }

  return {
    usage,
    async request(method, path, options) {
      // Only GETs are retried here: a write that failed mid-flight may have been applied, and repeating it
      // could publish twice. Writes surface the error (ambiguous when sent) and the caller reconciles.
      const retries = method === 'GET' ? (options.retries ?? settings.retry.maxRetries) : 0;
      for (let attempt = 0; ; attempt += 1) {
        try {
          return await once(method, path, options);
        } catch (error) {
          if (attempt >= retries || !retryable(error)) throw error;
          const delayMs = backoffDelay(attempt + 1, { initialDelayMs: settings.retry.baseDelayMs, maxDelayMs: settings.retry.maxDelayMs }, random);
          logger?.warn({ method, path: error instanceof GraphApiError || error instanceof GraphNetworkError ? error.path : path, attempt: attempt + 1, delayMs, error: (error as Error).message }, 'retrying meta call');
          await wait(delayMs);
        }
      }
    },
  };
}
