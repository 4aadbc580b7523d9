import type { GraphErrorClassification, GraphErrorInfo } from '@postwire/graph';
import { type RetrySettings, attemptNumber, decideRetry } from './retry-policy.ts';

/** Why a publishing step did not finish, as the engine sees it. */
export type StepFailure =
  /** A Graph call failed; `classification` is classifyGraphError's, `info` toErrorInfo's. */
  | { readonly kind: 'graph'; readonly classification: GraphErrorClassification; readonly info: GraphErrorInfo }
  /** The platform refused the post without a Graph error (a container in ERROR): final, the info says why. */
  | { readonly kind: 'refused'; readonly info: GraphErrorInfo }
  /** Not Meta: a database hiccup or a bug. Retried like a transient error, never blamed on the post. */
  | { readonly kind: 'internal' }
  /**
   * A media URL checked again before publishing did not answer as it should: retried like a transient error when
   * it may come back (unreachable), failed at once when it cannot (refused address, wrong content type).
   */
  | { readonly kind: 'media'; readonly info: GraphErrorInfo };

export type OutcomeSettings = {
  readonly retry: RetrySettings;
  /** How long an account waits after a rate limit when Meta's usage headers gave no estimate. */
  readonly rateLimitFallbackMs: number;
  /** How long an account over its publishing quota waits before the quota is read again. */
  readonly quotaRecheckMs: number;
};

export type OutcomeDecision =
  /** Another attempt after a backoff (post.retrying); `retryCount` is the new retry_count. */
  | { readonly kind: 'retry'; readonly retryCount: number; readonly nextAttemptAt: Date; readonly error: GraphErrorInfo }
  /** The account waits (rate limit, quota); the post with it, without counting a retry. */
  | { readonly kind: 'wait'; readonly reason: 'rate-limit' | 'quota'; readonly nextAttemptAt: Date; readonly error: GraphErrorInfo }
  /** For good (post.failed); `accountStatus` set when the projection's account must change too. */
  | { readonly kind: 'fail'; readonly error: GraphErrorInfo; readonly accountStatus: 'expired' | null };

export const INTERNAL_ERROR: GraphErrorInfo = {
  category: 'unknown',
  message: 'An internal error interrupted publishing; we will retry.',
  retryable: true,
};

/**
 * What happens to a post after a failed step: transient errors (and unclear writes, which the flow reconciles
 * at the next step before anything else) are retried with backoff until max_retries, then fail with the last
 * reason; rate limits and the publishing quota make the account wait without counting a retry; an invalid token
 * fails the post and marks the account expired; everything else (bad media, invalid request, permissions, page
 * role, restrictions) fails at once with the classification's message, which says what to do.
 */
export function decideOutcome(
  failure: StepFailure,
  post: { readonly retryCount: number; readonly maxRetries: number },
  now: Date,
  settings: OutcomeSettings,
  random: () => number = Math.random,
): OutcomeDecision {
  if (failure.kind === 'refused') return { kind: 'fail', error: { ...failure.info, retryable: false }, accountStatus: null };
  if (failure.kind === 'internal') return retryOrGiveUp(INTERNAL_ERROR, post, now, settings.retry, random);
  if (failure.kind === 'media') {
    return failure.info.retryable ? retryOrGiveUp(failure.info, post, now, settings.retry, random) : { kind: 'fail', error: failure.info, accountStatus: null };
  }
  const { classification, info } = failure;
  switch (classification.action) {
    case 'wait-for-usage':
      return { kind: 'wait', reason: 'rate-limit', nextAttemptAt: new Date(now.getTime() + (classification.retryAfterMs ?? settings.rateLimitFallbackMs)), error: info };
    case 'wait-for-quota':
      return { kind: 'wait', reason: 'quota', nextAttemptAt: new Date(now.getTime() + settings.quotaRecheckMs), error: info };
    case 'retry-with-backoff':
    case 'reconcile-then-retry':
    case 'retry-then-new-container':
    case 'new-container':
    case 'poll-container':
    case 'back-off':
      return retryOrGiveUp(info, post, now, settings.retry, random);
    case 'reconnect-account':
      return { kind: 'fail', error: { ...info, retryable: false }, accountStatus: 'expired' };
    case 'user-must-act-on-facebook':
    case 'request-permissions':
    case 'regain-page-role':
    case 'fail':
      return { kind: 'fail', error: { ...info, retryable: false }, accountStatus: null };
  }
}

function retryOrGiveUp(
  info: GraphErrorInfo,
  post: { readonly retryCount: number; readonly maxRetries: number },
  now: Date,
  settings: RetrySettings,
  random: () => number,
): OutcomeDecision {
  const decision = decideRetry(post.retryCount, post.maxRetries, settings, random);
  if (decision.kind === 'retry') {
    return { kind: 'retry', retryCount: decision.retryCount, nextAttemptAt: new Date(now.getTime() + decision.delayMs), error: { ...info, retryable: true } };
  }
  const attempts = attemptNumber(post.retryCount);
  return {
    kind: 'fail',
    error: { ...info, retryable: false, message: `Publishing gave up after ${attempts} ${attempts === 1 ? 'attempt' : 'attempts'}. Last error: ${info.message}` },
    accountStatus: null,
  };
}
