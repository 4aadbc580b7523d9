/**
 * What a failed insight read means for its sync (pure). Built on packages/graph's classification of Meta's
 * codes, with the two readings that are particular to insights: error 10 on a story is "fewer than 5 viewers"
 * (not a permission problem), and 100 on a read is the object being gone (deleted media) or the question not
 * applying, which no retry changes.
 */
import type { GraphErrorClass } from '@postwire/graph';
import type { PostType } from './schedule.ts';

export type FailureInput = {
  readonly class: GraphErrorClass;
  readonly code: number | undefined;
  readonly subcode: number | undefined;
  /** Meta's estimate (usage headers) of when calls are accepted again. */
  readonly retryAfterMs: number | undefined;
  /** How long ago the post was published. */
  readonly publishedAgeMs: number;
};

export type SyncFailure =
  /** Try the same sync again after a backoff (counts as an attempt). */
  | { readonly kind: 'retry'; readonly reason: string }
  /** Meta's budget is spent: pause the scope until it is back; the sync waits without losing an attempt. */
  | { readonly kind: 'rate-limited'; readonly scope: 'app' | 'account'; readonly waitMs: number }
  /** The account's token is refused: its syncs wait for a new token (account events), nothing is lost. */
  | { readonly kind: 'account-blocked'; readonly reason: string }
  /** Meta has nothing to give for this read, and says so: the sync ends without a snapshot. */
  | { readonly kind: 'unavailable'; readonly reason: string }
  /** Meta refuses for good: this post's syncs stop with the reason. */
  | { readonly kind: 'stop'; readonly reason: string };

/** Platform-wide limits (4 app, 17 user, 613 custom) pause every call; the others (32 Page, 800xx BUC) one account. */
const APP_WIDE_CODES: ReadonlySet<number> = new Set([4, 17, 613]);
/** Meta's 100/2207006: the media was not found (deleted on Instagram). */
const MEDIA_NOT_FOUND = 2207006;
/**
 * 100/33 ("does not exist, cannot be loaded") is transient on an object created moments ago (Meta catching up,
 * seen since 2026-05); on a post published longer ago than this it means the object is gone.
 */
export const JUST_CREATED_MS = 15 * 60_000;

export function classifySyncFailure(failure: FailureInput, postType: PostType, defaultPauseMs: number): SyncFailure {
  if (failure.code === 100 && failure.subcode === 33) {
    return failure.publishedAgeMs > JUST_CREATED_MS ? { kind: 'stop', reason: 'object-deleted' } : { kind: 'retry', reason: 'object-not-ready' };
  }
  switch (failure.class) {
    case 'rate-limited': {
      const estimate = failure.retryAfterMs ?? 0;
      return { kind: 'rate-limited', scope: APP_WIDE_CODES.has(failure.code ?? 0) ? 'app' : 'account', waitMs: estimate > 0 ? estimate : defaultPauseMs };
    }
    case 'permission-missing':
      // A story seen by fewer than 5 accounts answers 10: there are no insights to give, which is not an error.
      if (postType === 'story' && failure.code === 10) return { kind: 'unavailable', reason: 'fewer-than-5-viewers' };
      return { kind: 'stop', reason: 'permission-missing' };
    case 'token-invalid':
    case 'account-action-required':
      return { kind: 'account-blocked', reason: failure.class };
    case 'invalid-parameter':
      return { kind: 'stop', reason: failure.subcode === MEDIA_NOT_FOUND ? 'media-deleted' : 'object-unavailable' };
    case 'transient':
    case 'ambiguous':
    case 'policy-block':
    case 'unknown':
      return { kind: 'retry', reason: failure.class };
    default:
      // page-role-lost, bad-media, account-restricted, duplicate...: nothing a retry changes.
      return { kind: 'stop', reason: failure.class };
  }
}

export type RetrySettings = { readonly initialDelayMs: number; readonly maxDelayMs: number; readonly maxAttempts: number };

/**
 * The wait before attempt `attempt + 1` after `attempt` failed: doubling from `initialDelayMs` up to `maxDelayMs`,
 * the second half jittered ("equal jitter") so failed syncs of many posts do not come back in step.
 */
export function retryDelayMs(attempt: number, settings: RetrySettings, random: number): number {
  const cap = Math.min(settings.maxDelayMs, settings.initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(cap / 2 + (cap / 2) * Math.min(1, Math.max(0, random)));
}

/** After `attempt` failures, is another one allowed? */
export function mayRetry(attempt: number, settings: RetrySettings): boolean {
  return attempt < settings.maxAttempts;
}

/**
 * "Not available yet" (data lag): the sync is read again later, but not forever: once past the next sync's time,
 * that one takes over and this one ends (`give-up`).
 */
export function notYetDecision(now: Date, nextDueAt: Date | undefined, recheckMs: number): { readonly kind: 'recheck'; readonly at: Date } | { readonly kind: 'give-up' } {
  const at = new Date(now.getTime() + recheckMs);
  if (nextDueAt !== undefined && at.getTime() >= nextDueAt.getTime()) return { kind: 'give-up' };
  return { kind: 'recheck', at };
}
