export type BackoffOptions = {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier?: number;
};

/**
 * Exponential backoff with "full jitter": a random delay between 0 and the exponential cap, so many
 * consumers failing on the same dependency do not retry in lockstep.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  const cap = Math.min(options.maxDelayMs, options.initialDelayMs * (options.multiplier ?? 2) ** exponent);
  return Math.round(cap * random());
}
