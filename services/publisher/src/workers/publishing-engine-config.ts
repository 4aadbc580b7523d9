import { z } from 'zod';
import { fields } from '@postwire/config';

const positiveMs = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** Environment settings of the publishing engine (services/publisher README, "Publishing engine"). */
export const publishingEngineFields = {
  /** How often the dispatcher looks for due posts when it has free slots (a finished step also wakes it). */
  PUBLISHER_CLAIM_INTERVAL_MS: positiveMs(200),
  /** Posts this instance works on at once (each one step at a time, never two of one account). */
  PUBLISHER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
  /** A claim's lease; renewed at every saved step, so only a dead instance's claims run out. */
  PUBLISHER_CLAIM_LEASE_MS: positiveMs(60_000),
  /** Posts whose time passed longer ago than this when first claimed fail with "missed its window". */
  PUBLISHER_MAX_LATENESS_MS: fields.durationMs(3_600_000),
  PUBLISHER_RETRY_BASE_DELAY_MS: positiveMs(30_000),
  PUBLISHER_RETRY_MAX_DELAY_MS: positiveMs(15 * 60_000),
  PUBLISHER_RETRY_MIN_DELAY_MS: fields.durationMs(1_000),
  /** A rate-limited account waits this long when Meta's usage headers give no estimate. */
  PUBLISHER_RATE_LIMIT_WAIT_MS: positiveMs(5 * 60_000),
  /** An account over its publishing quota reads it again after this long. */
  PUBLISHER_QUOTA_RECHECK_MS: positiveMs(10 * 60_000),
  /** First re-check of a processing container; each later one waits twice as long, up to the max. */
  PUBLISHER_CONTAINER_POLL_FIRST_MS: positiveMs(1_000),
  PUBLISHER_CONTAINER_POLL_MAX_MS: positiveMs(60_000),
  /** Names this instance in claims (default: host name and process id). */
  PUBLISHER_INSTANCE_ID: z.string().min(1).max(200).optional(),
  /** false: this instance serves reads and consumes requests but publishes nothing. */
  PUBLISHER_ENGINE_ENABLED: fields.boolean(true),
};

type EngineEnvironment = z.output<z.ZodObject<typeof publishingEngineFields>>;

export type PublishingEngineSettings = {
  readonly enabled: boolean;
  readonly instanceId: string | undefined;
  readonly claimIntervalMs: number;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly maxLatenessMs: number;
  readonly retry: { readonly initialDelayMs: number; readonly maxDelayMs: number; readonly minDelayMs: number };
  readonly rateLimitFallbackMs: number;
  readonly quotaRecheckMs: number;
  readonly pollFirstDelayMs: number;
  readonly pollMaxDelayMs: number;
};

export function toPublishingEngineSettings(env: EngineEnvironment): PublishingEngineSettings {
  return {
    enabled: env.PUBLISHER_ENGINE_ENABLED,
    instanceId: env.PUBLISHER_INSTANCE_ID,
    claimIntervalMs: env.PUBLISHER_CLAIM_INTERVAL_MS,
    concurrency: env.PUBLISHER_CONCURRENCY,
    leaseMs: env.PUBLISHER_CLAIM_LEASE_MS,
    maxLatenessMs: env.PUBLISHER_MAX_LATENESS_MS,
    retry: { initialDelayMs: env.PUBLISHER_RETRY_BASE_DELAY_MS, maxDelayMs: env.PUBLISHER_RETRY_MAX_DELAY_MS, minDelayMs: env.PUBLISHER_RETRY_MIN_DELAY_MS },
    rateLimitFallbackMs: env.PUBLISHER_RATE_LIMIT_WAIT_MS,
    quotaRecheckMs: env.PUBLISHER_QUOTA_RECHECK_MS,
    pollFirstDelayMs: env.PUBLISHER_CONTAINER_POLL_FIRST_MS,
    pollMaxDelayMs: env.PUBLISHER_CONTAINER_POLL_MAX_MS,
  };
}
