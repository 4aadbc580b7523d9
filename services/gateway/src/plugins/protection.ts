import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions, preParsingAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';
import { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { ProblemError } from '@postwire/service-kit';
import {
  type RateLimitClass,
  budgetKey,
  classOfRoute,
  policyField,
  remainingField,
  retryAfterSeconds,
} from '../domain/rate-limits.ts';
import type { ProtectionSettings } from './protection-config.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The budget this request spends (set by the rate limit hook of its route). */
    rateLimitClass: RateLimitClass | null;
  }
}

export type ProtectionOptions = ProtectionSettings & {
  /** The web apps allowed to call from a browser (config GATEWAY_WEB_ORIGINS): only they get CORS headers. */
  readonly webOrigins: readonly string[];
};

/** What a browser client may send beyond the CORS-safelisted headers, and may read of an answer. */
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-Match', 'If-None-Match', 'Prefer', 'Last-Event-ID', 'traceparent', 'X-Correlation-Id'];
const EXPOSED_HEADERS = ['Location', 'ETag', 'RateLimit', 'RateLimit-Policy', 'Retry-After', 'Allow', 'Preference-Applied', 'WWW-Authenticate', 'traceparent', 'X-Correlation-Id'];
/** Browsers cap a preflight's lifetime (Chromium at 2 h): this is that cap. */
const PREFLIGHT_MAX_AGE_SECONDS = 7_200;

/**
 * The pages the gateway serves (the connect flow's result pages, the API reference at /docs) load their
 * scripts and styles only from here; nothing may frame them. JSON answers are not rendered, so one
 * policy serves both. No upgrade-insecure-requests: a local gateway is served over plain http.
 */
const CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    baseUri: ["'none'"],
    connectSrc: ["'self'"],
    fontSrc: ["'self'", 'data:'],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    imgSrc: ["'self'", 'data:'],
    objectSrc: ["'none'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    // The result pages carry their few rules inline; Swagger UI sets style attributes.
    styleSrc: ["'self'", "'unsafe-inline'"],
  },
};

const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: CONTENT_SECURITY_POLICY,
  frameguard: { action: 'deny' },
  // Bearer-token API answers are read through CORS; no-cors embedding (an <img>, a <script>) stays refused.
  crossOriginResourcePolicy: { policy: 'same-origin' },
};

/**
 * The headers helmet sets, worked out once. They depend on nothing in a request, and @fastify/helmet
 * would build helmet's middleware again for every request (reading the options, writing the policy out):
 * about half of what this plugin cost per request.
 */
function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers = new Map<string, string>();
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => void headers.set(name.toLowerCase(), String(value)),
    removeHeader: (name: string) => void headers.delete(name.toLowerCase()),
  };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => {});
  return Object.freeze(Object.fromEntries(headers));
}

/**
 * What protects the public port: security headers on every answer (helmet's, worked out once), CORS for
 * the configured web origins only, a body size limit, and rate limits per organisation and route class
 * (see domain/rate-limits.ts) shared through Redis when one is configured. Registered before the routes it
 * protects: it attaches its limits to each route as the route is added.
 *
 * When Redis cannot be reached the limits fail open: answering without limits for a while is better than
 * refusing every caller because a counter is out of reach. Each request that could not be counted adds to
 * `postwire_gateway_rate_limit_store_errors_total`; the log says when counting stopped and resumed.
 */
export const protectionPlugin = fp(
  async (fastify: FastifyInstance, options: ProtectionOptions) => {
    const securityHeaders = helmetHeaders(HELMET_OPTIONS);
    fastify.addHook('onRequest', (_request, reply, done) => {
      reply.headers(securityHeaders);
      done();
    });
    if (options.webOrigins.length > 0) {
      const allowed = new Set(options.webOrigins);
      await fastify.register(cors, {
        // Any other origin (or none) gets no CORS headers at all, and its preflight no 204.
        origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin) ? origin : false),
        methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
        allowedHeaders: ALLOWED_HEADERS,
        exposedHeaders: EXPOSED_HEADERS,
        maxAge: PREFLIGHT_MAX_AGE_SECONDS,
        // A web app on the gateway's own site may start a connect flow with fetch(..., { credentials: 'include' }) so
        // the browser keeps the flow's HttpOnly cookie (one on another site navigates to a connect ticket instead).
        // The API itself reads no cookie (bearer tokens only), and only the configured origins are told credentials are allowed.
        credentials: true,
        // An OPTIONS without Access-Control-Request-Method is answered like a preflight, not with a text/plain 400.
        strictPreflight: false,
      });
    }

    fastify.decorateRequest('rateLimitClass', null);
    const { policies, redis: redisSettings } = options.rateLimits;
    const redis = redisSettings ? connectRedis(fastify, redisSettings.url, redisSettings.commandTimeoutMs) : undefined;
    await fastify.register(rateLimit, {
      global: false,
      // Only the limiter hooks below ask, each after naming its class.
      keyGenerator: (request) => budgetKey(request.rateLimitClass ?? 'reads', request.caller?.organisationId, request.ip),
      max: (_request, key) => policies[classOfKey(key)].max,
      timeWindow: (_request, key) => policies[classOfKey(key)].windowMs,
      // Failures are handled below, deliberately: counted, logged, let through.
      skipOnError: false,
      ...(redis && redisSettings ? { redis, nameSpace: redisSettings.prefix } : { cache: 100_000 }),
    });
    if (redis) {
      await redis.connect().catch((error: unknown) => fastify.log.warn({ err: error }, 'rate limits: Redis is not reachable; requests are let through uncounted until it is'));
      fastify.addHook('onClose', async () => {
        await redis.quit().catch(() => redis.disconnect());
      });
    }
    const limit = fastify.createRateLimit();

    const limited = new Counter({
      name: 'postwire_gateway_rate_limited_requests_total',
      help: 'Requests refused with 429 because their budget was spent, by route class',
      labelNames: ['class'] as const,
      registers: [fastify.metrics],
    });
    const storeErrors = new Counter({
      name: 'postwire_gateway_rate_limit_store_errors_total',
      help: 'Requests let through uncounted because the rate-limit store (Redis) could not be reached',
      registers: [fastify.metrics],
    });
    let counting = true;

    const policyFields = Object.fromEntries(Object.entries(policies).map(([name, policy]) => [name, policyField(name as RateLimitClass, policy)])) as Record<RateLimitClass, string>;
    function limitFor(routeClass: RateLimitClass) {
      return async function rateLimitHook(request: FastifyRequest, reply: FastifyReply) {
        request.rateLimitClass = routeClass;
        let state: Awaited<ReturnType<typeof limit>>;
        try {
          state = await limit(request);
        } catch (error) {
          storeErrors.inc();
          if (counting) request.log.warn({ err: error }, 'rate limits: the store failed; requests are let through uncounted until it answers');
          counting = false;
          return;
        }
        if (!counting) request.log.info('rate limits: the store answers again; counting resumed');
        counting = true;
        // There is no allow list: never true, but it narrows the answer to the counted kind.
        if (state.isAllowed) return;
        reply.header('ratelimit-policy', policyFields[routeClass]);
        reply.header('ratelimit', remainingField(routeClass, state.remaining, state.ttl));
        if (!state.isExceeded) return;
        limited.inc({ class: routeClass });
        const retryAfter = retryAfterSeconds(state.ttl);
        reply.header('retry-after', String(retryAfter));
        throw new ProblemError(
          429,
          'rate-limited',
          'Too Many Requests',
          `This ${request.caller ? "organisation's" : "address's"} ${routeClass} budget (${state.max} requests per ${Math.round(state.timeWindow / 1000)} s) is spent; try again in ${retryAfter} s.`,
          { retryAfter },
        );
      };
    }

    fastify.addHook('onRoute', (route: RouteOptions) => {
      route.bodyLimit ??= options.bodyLimitBytes;
      const methods = typeof route.method === 'string' ? [route.method] : route.method;
      const routeClass = methods.map((method) => classOfRoute(method, route.url)).find((found) => found !== undefined);
      if (routeClass === undefined) return;
      // After authentication (onRequest): the budget is the verified organisation's, never a claimed one. Before the
      // body is read: a body too large, unreadable or of the wrong type spends the budget like any other request.
      const count = limitFor(routeClass);
      const hook: preParsingAsyncHookHandler = async (request, reply, payload) => {
        await count(request, reply);
        return payload;
      };
      route.preParsing = route.preParsing === undefined ? [hook] : [...[route.preParsing].flat(), hook];
    });
  },
  { name: '@postwire/gateway-protection', dependencies: ['@postwire/problem', '@postwire/metrics'] },
);

/** The class a budget key names (budgetKey puts it first). */
function classOfKey(key: string): RateLimitClass {
  return key.slice(0, key.indexOf(':')) as RateLimitClass;
}

/**
 * A client that fails at once while Redis is out of reach (no queue of commands waiting for it), so a
 * request is never held up by the limiter, and reconnects on its own.
 */
function connectRedis(fastify: FastifyInstance, url: string, commandTimeoutMs: number): Redis {
  const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 2_000, commandTimeout: commandTimeoutMs });
  // Reconnection errors repeat every few seconds while Redis is down; the limiter logs the state changes.
  redis.on('error', (error) => fastify.log.debug({ err: error }, 'rate limits: Redis connection error'));
  return redis;
}
