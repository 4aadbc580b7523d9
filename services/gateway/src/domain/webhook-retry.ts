/**
 * When a failed delivery is tried again: the Standard Webhooks reference schedule (immediately, then
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), which spans a little over a day (27 h 35 min 5 s).
 * Index i is the wait after the (i + 1)-th failed attempt.
 */
export const RETRY_DELAYS_MS: readonly number[] = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

/** Attempts a delivery gets in all: the first and one per delay. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/**
 * The wait before the next attempt after `failedAttempts` failed ones (1 = the first failed), or null
 * when the delivery has had all its attempts. `scale` shrinks the schedule (tests, benchmarks).
 */
export function retryDelayMs(failedAttempts: number, scale = 1): number | null {
  if (!Number.isInteger(failedAttempts) || failedAttempts < 1) throw new RangeError(`failedAttempts must be a positive integer, got ${failedAttempts}`);
  const delay = RETRY_DELAYS_MS[failedAttempts - 1];
  return delay === undefined ? null : Math.round(delay * scale);
}

/** Whether an HTTP answer counts as delivered: any 2xx. Redirects are not followed, so a 3xx is a failure. */
export function isDeliveredStatus(status: number): boolean {
  return status >= 200 && status <= 299;
}

export type DisablePolicy = {
  /** Failed attempts in a row before an endpoint may be disabled. */
  readonly afterFailures: number;
  /** And the failing must have lasted this long (an endpoint down for a deploy is not disabled). */
  readonly afterMs: number;
};

export type FailureStreak = {
  /** Failed attempts since the last success, including the one just made. */
  readonly consecutiveFailures: number;
  /** When the first of them happened. */
  readonly failingSince: Date;
};

/** The reason to disable an endpoint with this failure streak, or null to keep it enabled. */
export function disableReason(streak: FailureStreak, now: Date, policy: DisablePolicy): string | null {
  const failingForMs = now.getTime() - streak.failingSince.getTime();
  if (streak.consecutiveFailures < policy.afterFailures || failingForMs < policy.afterMs) return null;
  return `${streak.consecutiveFailures} delivery attempts failed in a row since ${streak.failingSince.toISOString()}`;
}
