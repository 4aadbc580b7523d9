import { z } from 'zod';
import { RATE_LIMIT_CLASSES, type RateLimitClass, type RateLimitPolicy } from '../domain/rate-limits.ts';

const quota = (fallback: number) => z.coerce.number().int().min(1).max(10_000_000).default(fallback);

/** The gateway's protection settings (rate limits, body size), a field set spread into its config schema. */
export const protectionFields = {
  // Requests per window: per organisation for the routes behind the bearer token, per client address for
  // the rest (connect callback and pages, docs). Health probes are never limited. One fixed window for every class.
  GATEWAY_RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
  GATEWAY_RATE_LIMIT_READS: quota(1_200),
  GATEWAY_RATE_LIMIT_WRITES: quota(300),
  // Opening a live-events stream (an EventSource reconnects after each drop, so a few per minute is normal).
  GATEWAY_RATE_LIMIT_EVENTS: quota(600),
  GATEWAY_RATE_LIMIT_WEBHOOKS: quota(120),
  GATEWAY_RATE_LIMIT_CONNECT: quota(60),
  GATEWAY_RATE_LIMIT_DOCS: quota(300),
  // Shared by every instance through Redis when set (redis:// or rediss://); each instance counts alone otherwise.
  REDIS_URL: z
    .string()
    .refine((value) => /^rediss?:\/\//.test(value) && URL.canParse(value), 'must be a redis:// or rediss:// URL')
    .optional(),
  // Put before every rate-limit key in Redis, so deployments sharing a server keep apart.
  // How long one Redis command may take before the request is let through uncounted (fail-open).
  GATEWAY_RATE_LIMIT_REDIS_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  GATEWAY_RATE_LIMIT_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:._-]{1,100}$/).default('postwire:gateway:rate-limit:'),
  // The largest request body taken (413 beyond): a post with 10 media items and a 2,200-character caption is ~10 KiB.
  GATEWAY_BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).max(10 * 1024 * 1024).default(256 * 1024),
};

/**
 * Every class's quota set to `max` per window, as environment settings: for test stacks and benchmarks,
 * which pay for the limiter on every request but must never be refused by it.
 */
export function everyRateLimitAt(max: number): Record<string, string> {
  return Object.fromEntries(RATE_LIMIT_CLASSES.map((name) => [`GATEWAY_RATE_LIMIT_${name.toUpperCase()}`, String(max)]));
}

type ProtectionEnv = z.output<z.ZodObject<typeof protectionFields>>;

export type ProtectionSettings = ReturnType<typeof toProtectionSettings>;

export function toProtectionSettings(env: ProtectionEnv) {
  const windowMs = env.GATEWAY_RATE_LIMIT_WINDOW_MS;
  const policy = (max: number): RateLimitPolicy => ({ max, windowMs });
  const policies: Readonly<Record<RateLimitClass, RateLimitPolicy>> = {
    reads: policy(env.GATEWAY_RATE_LIMIT_READS),
    writes: policy(env.GATEWAY_RATE_LIMIT_WRITES),
    events: policy(env.GATEWAY_RATE_LIMIT_EVENTS),
    webhooks: policy(env.GATEWAY_RATE_LIMIT_WEBHOOKS),
    connect: policy(env.GATEWAY_RATE_LIMIT_CONNECT),
    docs: policy(env.GATEWAY_RATE_LIMIT_DOCS),
  };
  return {
    rateLimits: {
      policies,
      redis: env.REDIS_URL === undefined ? undefined : { url: env.REDIS_URL, prefix: env.GATEWAY_RATE_LIMIT_REDIS_PREFIX, commandTimeoutMs: env.GATEWAY_RATE_LIMIT_REDIS_TIMEOUT_MS },
    },
    bodyLimitBytes: env.GATEWAY_BODY_LIMIT_BYTES,
  };
}
