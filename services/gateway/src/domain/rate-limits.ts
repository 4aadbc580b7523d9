/**
 * Which budget a request spends, and how the budgets are told to clients (the IETF RateLimit and
 * RateLimit-Policy fields, draft-ietf-httpapi-ratelimit-headers: Structured Fields lists of a quoted
 * policy name with `q` (quota) and `w` (window, seconds), and `r` (remaining) and `t` (seconds left)).
 *
 * Each class is a fixed window per key: a key's first request opens a window of `w` seconds in which
 * it may make `q` requests; the window ends `w` seconds after it opened, whatever came later (requests
 * refused in it do not prolong it), and the next request opens a new one.
 */

export const RATE_LIMIT_CLASSES = ['reads', 'writes', 'events', 'webhooks', 'connect', 'docs'] as const;
export type RateLimitClass = (typeof RATE_LIMIT_CLASSES)[number];

/** A class's quota: `max` requests per `windowMs`. */
export type RateLimitPolicy = { readonly max: number; readonly windowMs: number };

const READ_METHODS = new Set(['GET', 'HEAD']);
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const DOCS = new Set(['/openapi.json', '/asyncapi.json']);

/**
 * The class of a route (its method and its URL pattern as registered, `/v1/posts/:postId`), or
 * `undefined` for one no budget applies to: a CORS preflight, and the health probes (a load balancer's
 * probes must never be refused, and behind one every probe comes from the same few addresses).
 */
export function classOfRoute(method: string, url: string): RateLimitClass | undefined {
  if (url.startsWith('/v1/')) {
    if (url.startsWith('/v1/connect/')) return 'connect';
    if (url === '/v1/webhooks' || url.startsWith('/v1/webhooks/')) return 'webhooks';
    if (url === '/v1/events') return 'events';
    if (READ_METHODS.has(method)) return 'reads';
    if (WRITE_METHODS.has(method)) return 'writes';
    return undefined;
  }
  if (DOCS.has(url) || url === '/docs' || url.startsWith('/docs/')) return 'docs';
  return undefined;
}

/**
 * Whose budget a request spends: the verified caller's organisation when the request has one (every
 * route behind the bearer token), else the client address (the connect callback, the docs).
 */
export function budgetKey(routeClass: RateLimitClass, organisationId: string | undefined, address: string): string {
  return organisationId === undefined ? `${routeClass}:ip:${address}` : `${routeClass}:org:${organisationId}`;
}

/** `RateLimit-Policy` for one class: `"reads";q=1200;w=60`. */
export function policyField(routeClass: RateLimitClass, policy: RateLimitPolicy): string {
  return `"${routeClass}";q=${policy.max};w=${windowSeconds(policy.windowMs)}`;
}

/** `RateLimit` for one class now: `"reads";r=1187;t=42`. */
export function remainingField(routeClass: RateLimitClass, remaining: number, resetMs: number): string {
  return `"${routeClass}";r=${Math.max(0, remaining)};t=${secondsUntil(resetMs)}`;
}

/** Retry-After (RFC 9110, whole seconds) for a refused request: when its window ends, at least a second away. */
export function retryAfterSeconds(resetMs: number): number {
  return Math.max(1, secondsUntil(resetMs));
}

/** Whole seconds until a window that ends in `ms` ends, rounded up: a client waiting `t` seconds is never early. */
function secondsUntil(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}

function windowSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
