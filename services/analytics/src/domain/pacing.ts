/**
 * How fast to call Meta given its usage headers (pure). packages/graph parses the headers and advises
 * proceed / slow-down / stop; this turns that advice and the pauses we keep into a wait before the next call.
 */
import type { UsageAdvice } from '@postwire/graph';

export type PacingSettings = {
  /** Calls per second one instance makes at most, whatever the headers say (spreads a burst). */
  readonly maxCallsPerSecond: number;
};

/**
 * When the next call may start: calls are spaced by 1/rate, or by the usage slow-down when that is longer, so
 * rising usage stretches the gap between calls (not just delays them all once). `lastSlot` is the start reserved
 * by the previous call (0: none yet, go now); concurrent callers each reserve the slot after the last one.
 */
export function nextCallSlot(input: { readonly now: number; readonly lastSlot: number; readonly advice: UsageAdvice; readonly settings: PacingSettings }): number {
  // 'proceed' advises no delay, so its delayMs (0) never stretches the interval.
  const interval = Math.max(1000 / input.settings.maxCallsPerSecond, input.advice.delayMs);
  return Math.max(input.now, input.lastSlot + interval);
}

/** The business object a usage header is keyed by for an account: its Instagram account id or Page id. */
export function usageObjectId(account: { readonly platform: 'instagram' | 'facebook'; readonly platformAccountId: string; readonly pageId: string | null }): string {
  return account.platform === 'facebook' ? (account.pageId ?? account.platformAccountId) : account.platformAccountId;
}
