import { backoffDelay } from '@postwire/core';

export type RetrySettings = {
  /** The cap of the first retry's delay (full jitter: the delay is drawn between 0 and the cap). */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** A retry never comes sooner than this, so a jitter draw near 0 does not hammer a struggling Meta. */
  readonly minDelayMs: number;
};

export type RetryDecision =
  | { readonly kind: 'retry'; readonly retryCount: number; readonly delayMs: number }
  | { readonly kind: 'give-up'; readonly retryCount: number };

/**
 * Whether a post that failed with a retryable error gets another attempt. `retryCount` is the seed's
 * retry_count (retries already made), `maxRetries` its max_retries: with 3, a post is tried 4 times in all.
 */
export function decideRetry(retryCount: number, maxRetries: number, settings: RetrySettings, random: () => number = Math.random): RetryDecision {
  if (retryCount >= maxRetries) return { kind: 'give-up', retryCount };
  const next = retryCount + 1;
  const delayMs = Math.max(settings.minDelayMs, backoffDelay(next, { initialDelayMs: settings.initialDelayMs, maxDelayMs: settings.maxDelayMs }, random));
  return { kind: 'retry', retryCount: next, delayMs };
}

/** The attempt a retry count stands for: the first attempt is 1. */
export function attemptNumber(retryCount: number): number {
  return retryCount + 1;
}
