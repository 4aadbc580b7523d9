import { describe, expect, it } from 'vitest';
import { CLASS_POLICY, type GraphErrorClass, type GraphErrorClassification, type GraphErrorInfo } from '@postwire/graph';
import { INTERNAL_ERROR, type OutcomeSettings, type StepFailure, decideOutcome } from '../src/domain/outcome.ts';

const now = new Date('2026-12-01T09:00:00.000Z');
const later = (ms: number) => new Date(now.getTime() + ms);
const settings: OutcomeSettings = {
  retry: { initialDelayMs: 1_000, maxDelayMs: 60_000, minDelayMs: 10 },
  rateLimitFallbackMs: 300_000,
  quotaRecheckMs: 600_000,
};
const fresh = { retryCount: 0, maxRetries: 3 };
const one = () => 1;

function graph(kind: GraphErrorClass, info: Partial<GraphErrorInfo> = {}, retryAfterMs?: number): StepFailure {
  const classification: GraphErrorClassification = {
    class: kind,
    ...CLASS_POLICY[kind],
    userMessage: `message for ${kind}`,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
  return { kind: 'graph', classification, info: { category: 'transient', message: `message for ${kind}`, retryable: CLASS_POLICY[kind].retryable, ...info } };
}

describe('outcome of a failed publishing step', () => {
  it('retries a transient error with backoff, counting the retry, the error marked retryable', () => {
    expect(decideOutcome(graph('transient', { code: 2 }), fresh, now, settings, one)).toEqual({
      kind: 'retry',
      retryCount: 1,
      nextAttemptAt: later(1_000),
      error: { category: 'transient', message: 'message for transient', retryable: true, code: 2 },
    });
    expect(decideOutcome(graph('transient'), { retryCount: 2, maxRetries: 3 }, now, settings, one)).toMatchObject({ kind: 'retry', retryCount: 3, nextAttemptAt: later(4_000) });
  });

  it.each(['ambiguous', 'media-not-ready', 'container-missing', 'container-expired', 'policy-block'] as const)('retries (reconciling first where the flow must) on %s', (kind) => {
    expect(decideOutcome(graph(kind), fresh, now, settings, one)).toMatchObject({ kind: 'retry', retryCount: 1, nextAttemptAt: later(1_000), error: { retryable: true } });
  });

  it('fails with the last reason once max_retries is used up', () => {
    expect(decideOutcome(graph('transient', { code: 1 }), { retryCount: 3, maxRetries: 3 }, now, settings, one)).toEqual({
      kind: 'fail',
      error: { category: 'transient', code: 1, retryable: false, message: 'Publishing gave up after 4 attempts. Last error: message for transient' },
      accountStatus: null,
    });
    expect(decideOutcome(graph('transient'), { retryCount: 0, maxRetries: 0 }, now, settings, one)).toMatchObject({
      kind: 'fail',
      error: { message: 'Publishing gave up after 1 attempt. Last error: message for transient' },
    });
  });

  it('pauses a rate-limited account as long as Meta said, without counting a retry', () => {
    expect(decideOutcome(graph('rate-limited', { category: 'rate-limited' }, 120_000), { retryCount: 3, maxRetries: 3 }, now, settings, one)).toEqual({
      kind: 'wait',
      reason: 'rate-limit',
      nextAttemptAt: later(120_000),
      error: { category: 'rate-limited', message: 'message for rate-limited', retryable: true },
    });
  });

  it('pauses a rate-limited account for the fallback when Meta gave no estimate', () => {
    expect(decideOutcome(graph('rate-limited'), fresh, now, settings, one)).toMatchObject({ kind: 'wait', reason: 'rate-limit', nextAttemptAt: later(300_000) });
  });

  it('waits for the publishing quota, never failing, even with no retries left', () => {
    expect(decideOutcome(graph('publish-quota'), { retryCount: 3, maxRetries: 3 }, now, settings, one)).toMatchObject({ kind: 'wait', reason: 'quota', nextAttemptAt: later(600_000) });
  });

  it('fails an invalid token with the reconnect message and marks the account expired', () => {
    expect(decideOutcome(graph('token-invalid', { category: 'token', code: 190, subcode: 460 }), fresh, now, settings, one)).toEqual({
      kind: 'fail',
      error: { category: 'token', code: 190, subcode: 460, message: 'message for token-invalid', retryable: false },
      accountStatus: 'expired',
    });
  });

  it.each(['account-action-required', 'permission-missing', 'page-role-lost', 'invalid-parameter', 'bad-media', 'account-restricted', 'duplicate', 'unknown'] as const)(
    'fails at once on %s with what to do, the account left as it is',
    (kind) => {
      expect(decideOutcome(graph(kind), fresh, now, settings, one)).toEqual({
        kind: 'fail',
        error: { category: 'transient', message: `message for ${kind}`, retryable: false },
        accountStatus: null,
      });
    },
  );

  it('fails a refusal without a Graph error (a container in ERROR) at once, with its message', () => {
    const info: GraphErrorInfo = { category: 'bad-media', message: 'Error: Media upload has failed with error code 2207026', retryable: true };
    expect(decideOutcome({ kind: 'refused', info }, fresh, now, settings, one)).toEqual({ kind: 'fail', error: { ...info, retryable: false }, accountStatus: null });
  });

  it('retries an internal error (not Meta) like a transient one, then gives up with its message', () => {
    expect(decideOutcome({ kind: 'internal' }, fresh, now, settings, one)).toEqual({ kind: 'retry', retryCount: 1, nextAttemptAt: later(1_000), error: INTERNAL_ERROR });
    expect(decideOutcome({ kind: 'internal' }, { retryCount: 3, maxRetries: 3 }, now, settings, one)).toEqual({
      kind: 'fail',
      error: { ...INTERNAL_ERROR, retryable: false, message: `Publishing gave up after 4 attempts. Last error: ${INTERNAL_ERROR.message}` },
      accountStatus: null,
    });
    expect(INTERNAL_ERROR).toEqual({ category: 'unknown', message: 'An internal error interrupted publishing; we will retry.', retryable: true });
  });

  it('retries a media URL that did not answer before publishing, then fails with its reason; fails a refused one at once', () => {
    const unreachable: GraphErrorInfo = { category: 'bad-media', message: 'the media URL answered HTTP 503', retryable: true };
    expect(decideOutcome({ kind: 'media', info: unreachable }, fresh, now, settings, one)).toEqual({ kind: 'retry', retryCount: 1, nextAttemptAt: later(1_000), error: unreachable });
    expect(decideOutcome({ kind: 'media', info: unreachable }, { retryCount: 3, maxRetries: 3 }, now, settings, one)).toEqual({
      kind: 'fail',
      error: { ...unreachable, retryable: false, message: 'Publishing gave up after 4 attempts. Last error: the media URL answered HTTP 503' },
      accountStatus: null,
    });
    const refused: GraphErrorInfo = { category: 'bad-media', message: 'the media URL is text/html, not image', retryable: false };
    expect(decideOutcome({ kind: 'media', info: refused }, fresh, now, settings, one)).toEqual({ kind: 'fail', error: refused, accountStatus: null });
  });
});
