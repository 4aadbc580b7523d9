/**
 * How fast to call Meta given its usage headers (pure). packages/graph parses the headers and advises
 * proceed / slow-down / stop; this turns that advice into when the next call may start.
 */
export type PacingSettings = {
  /** Calls per second one instance makes at most, whatever the headers say (spreads a burst). */
  readonly maxCallsPerSecond: number;
};

/**
 * When the next call may start. Two gaps apply: every call of this instance is spaced by 1/rate, stretched by
 * the app-wide slow-down (X-App-Usage) when that is longer; and calls about one business object (an Instagram
 * account or Page) are spaced by that object's own slow-down (X-Business-Use-Case-Usage), so one busy account
 * slows only its own calls. `lastGlobal` / `lastObject` are the slots the previous calls reserved (0: none yet).
 * Answers the slot this call reserves in the instance-wide sequence and when it may actually start.
 */
export function nextCallSlot(input: {
  readonly now: number;
  readonly lastGlobal: number;
  readonly lastObject: number;
  readonly appDelayMs: number;
  readonly objectDelayMs: number;
  readonly settings: PacingSettings;
}): { readonly global: number; readonly start: number } {
  const global = Math.max(input.now, input.lastGlobal + Math.max(1000 / input.settings.maxCallsPerSecond, input.appDelayMs));
  return { global, start: Math.max(global, input.lastObject + input.objectDelayMs) };
}

/** The business object a usage header is keyed by for an account: its Instagram account id or Page id. */
export function usageObjectId(account: { readonly platform: 'instagram' | 'facebook'; readonly platformAccountId: string; readonly pageId: string | null }): string {
  return account.platform === 'facebook' ? (account.pageId ?? account.platformAccountId) : account.platformAccountId;
}
