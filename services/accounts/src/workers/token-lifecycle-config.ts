import { fields } from '@postwire/config';
import { z } from 'zod';
import { MIN_REFRESH_AGE_HOURS } from '../domain/expiry.ts';

/** "7,3,1" -> [7, 3, 1]: distinct whole days, widest first. */
const thresholdsDays = z
  .string()
  .default('7,3,1')
  .transform((value) => value.split(',').map((part) => part.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^\d+$/, 'each threshold is a whole number of days')).min(1, 'name at least one threshold in days'))
  .transform((days) => [...new Set(days.map(Number))].sort((a, b) => b - a))
  .pipe(z.array(z.number().int().min(1).max(60)));

/** Environment settings of the token lifecycle workers (expiry scan with refresh, health check). */
export const lifecycleFields = {
  /** 0 turns the timer off (runOnce still works); an instance can leave the scans to others. */
  ACCOUNTS_EXPIRY_SCAN_INTERVAL_MS: fields.durationMs(15 * 60_000),
  ACCOUNTS_EXPIRY_THRESHOLDS_DAYS: thresholdsDays,
  ACCOUNTS_HEALTH_CHECK_INTERVAL_MS: fields.durationMs(6 * 3_600_000),
  /** Instagram Login tokens are refreshed once their last refresh is this old (Meta refuses under 24 h). */
  ACCOUNTS_TOKEN_REFRESH_AGE_HOURS: z.coerce.number().int().min(MIN_REFRESH_AGE_HOURS).max(24 * 59).default(24 * 7),
  /** Consecutive refresh/health-check failures (other than an invalid token) before an account turns `error`. */
  ACCOUNTS_MAX_CONSECUTIVE_FAILURES: z.coerce.number().int().min(1).max(100).default(3),
  ACCOUNTS_LIFECYCLE_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  /** Graph calls in flight at once per worker (debug_token, ig_refresh_token). */
  ACCOUNTS_LIFECYCLE_CONCURRENCY: z.coerce.number().int().min(1).max(50).default(4),
};

type LifecycleEnvironment = { readonly [Key in keyof typeof lifecycleFields]: z.output<(typeof lifecycleFields)[Key]> };

export type LifecycleSettings = {
  readonly expiryScanIntervalMs: number;
  readonly thresholdsDays: readonly number[];
  readonly healthCheckIntervalMs: number;
  readonly refreshAgeHours: number;
  readonly maxConsecutiveFailures: number;
  readonly batchSize: number;
  readonly concurrency: number;
};

export function toLifecycleSettings(env: LifecycleEnvironment): LifecycleSettings {
  return {
    expiryScanIntervalMs: env.ACCOUNTS_EXPIRY_SCAN_INTERVAL_MS,
    thresholdsDays: env.ACCOUNTS_EXPIRY_THRESHOLDS_DAYS,
    healthCheckIntervalMs: env.ACCOUNTS_HEALTH_CHECK_INTERVAL_MS,
    refreshAgeHours: env.ACCOUNTS_TOKEN_REFRESH_AGE_HOURS,
    maxConsecutiveFailures: env.ACCOUNTS_MAX_CONSECUTIVE_FAILURES,
    batchSize: env.ACCOUNTS_LIFECYCLE_BATCH_SIZE,
    concurrency: env.ACCOUNTS_LIFECYCLE_CONCURRENCY,
  };
}
