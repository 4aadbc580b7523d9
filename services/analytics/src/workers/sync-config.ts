import { fields } from '@postwire/config';
import { z } from 'zod';
import { DEFAULT_SYNC_OFFSETS_MS, HOUR_MS } from '../domain/schedule.ts';

/** "1h,6h,24h,3d" -> milliseconds, distinct and ascending. */
const offsets = z
  .string()
  .default(DEFAULT_SYNC_OFFSETS_MS.map((ms) => `${ms / HOUR_MS}h`).join(','))
  .transform((value) => value.split(',').map((part) => part.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^\d+(m|h|d)$/, 'each offset is a whole number of minutes (m), hours (h) or days (d), e.g. 6h')).min(1, 'name at least one offset'))
  .transform((parts) => [...new Set(parts.map((part) => Number(part.slice(0, -1)) * { m: 60_000, h: HOUR_MS, d: 24 * HOUR_MS }[part.slice(-1) as 'm' | 'h' | 'd']))].sort((a, b) => a - b))
  .pipe(z.array(z.number().int().min(60_000).max(366 * 24 * HOUR_MS)));

/** Environment settings of the insight syncs. */
export const syncFields = {
  /** When insights are read after publishing (default +1 h, +6 h, +24 h, +72 h, +7 d, +28 d). */
  ANALYTICS_SYNC_OFFSETS: offsets,
  /** The most a scheduled sync is moved after its offset to spread bursts (also capped at a tenth of the offset). */
  ANALYTICS_SYNC_MAX_SPREAD_MS: fields.durationMs(10 * 60_000),
  /** 0 turns the timer off (runOnce still works). */
  ANALYTICS_SYNC_INTERVAL_MS: fields.durationMs(5_000),
  ANALYTICS_SYNC_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(50),
  ANALYTICS_SYNC_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  /** How long a claim is held before another instance may take the sync over (an instance died mid-sync). */
  ANALYTICS_SYNC_LEASE_MS: fields.durationMs(5 * 60_000),
  ANALYTICS_SYNC_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(6),
  ANALYTICS_SYNC_RETRY_INITIAL_MS: fields.durationMs(60_000),
  ANALYTICS_SYNC_RETRY_MAX_MS: fields.durationMs(60 * 60_000),
  /** Data lag: when Meta has no figures yet, ask again this much later (until the next sync is due). */
  ANALYTICS_SYNC_NOT_YET_RECHECK_MS: fields.durationMs(HOUR_MS),
  /** Calls per second per instance, whatever the usage headers say: a burst of due syncs becomes a stream. */
  ANALYTICS_META_MAX_CALLS_PER_SECOND: z.coerce.number().min(0.1).max(1000).default(20),
  /** Start spacing calls at this usage percentage (either header), and wait at most this long between them near 100 %. */
  ANALYTICS_USAGE_SLOW_DOWN_PERCENT: z.coerce.number().int().min(1).max(99).default(75),
  ANALYTICS_USAGE_MAX_SLOW_DOWN_MS: fields.durationMs(30_000),
  /** A rate-limit error without Meta's estimate pauses this long. */
  ANALYTICS_RATE_LIMIT_PAUSE_MS: fields.durationMs(5 * 60_000),
  /** One on-demand refresh per post per this much time. */
  ANALYTICS_REFRESH_COOLDOWN_MS: fields.durationMs(15 * 60_000),
};

type SyncEnvironment = { readonly [Key in keyof typeof syncFields]: z.output<(typeof syncFields)[Key]> };

export type SyncSettings = {
  readonly offsetsMs: readonly number[];
  readonly maxSpreadMs: number;
  readonly intervalMs: number;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly retry: { readonly maxAttempts: number; readonly initialDelayMs: number; readonly maxDelayMs: number };
  readonly notYetRecheckMs: number;
  readonly maxCallsPerSecond: number;
  readonly slowDownAtPercent: number;
  readonly maxSlowDownMs: number;
  readonly rateLimitPauseMs: number;
  readonly refreshCooldownMs: number;
};

export function toSyncSettings(env: SyncEnvironment): SyncSettings {
  return {
    offsetsMs: env.ANALYTICS_SYNC_OFFSETS,
    maxSpreadMs: env.ANALYTICS_SYNC_MAX_SPREAD_MS,
    intervalMs: env.ANALYTICS_SYNC_INTERVAL_MS,
    batchSize: env.ANALYTICS_SYNC_BATCH_SIZE,
    concurrency: env.ANALYTICS_SYNC_CONCURRENCY,
    leaseMs: env.ANALYTICS_SYNC_LEASE_MS,
    retry: { maxAttempts: env.ANALYTICS_SYNC_MAX_ATTEMPTS, initialDelayMs: env.ANALYTICS_SYNC_RETRY_INITIAL_MS, maxDelayMs: env.ANALYTICS_SYNC_RETRY_MAX_MS },
    notYetRecheckMs: env.ANALYTICS_SYNC_NOT_YET_RECHECK_MS,
    maxCallsPerSecond: env.ANALYTICS_META_MAX_CALLS_PER_SECOND,
    slowDownAtPercent: env.ANALYTICS_USAGE_SLOW_DOWN_PERCENT,
    maxSlowDownMs: env.ANALYTICS_USAGE_MAX_SLOW_DOWN_MS,
    rateLimitPauseMs: env.ANALYTICS_RATE_LIMIT_PAUSE_MS,
    refreshCooldownMs: env.ANALYTICS_REFRESH_COOLDOWN_MS,
  };
}
