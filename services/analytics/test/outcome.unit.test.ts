import { describe, expect, it } from 'vitest';
import type { GraphErrorClass } from '@postwire/graph';
import { JUST_CREATED_MS, classifySyncFailure, mayRetry, notYetDecision, retryDelayMs } from '../src/domain/outcome.ts';

const PAUSE = 300_000;
const HOUR = 3_600_000;
const failure = (klass: GraphErrorClass, code?: number, subcode?: number, retryAfterMs?: number, publishedAgeMs = HOUR) => ({ class: klass, code, subcode, retryAfterMs, publishedAgeMs });

describe('what a failed insight read means', () => {
  it('pauses the app on platform limits (4, 17, 613) and the account on the others, as long as Meta says', () => {
    for (const code of [4, 17, 613]) expect(classifySyncFailure(failure('rate-limited', code, undefined, 120_000), 'feed', PAUSE)).toEqual({ kind: 'rate-limited', scope: 'app', waitMs: 120_000 });
    for (const code of [32, 80001, 80002]) expect(classifySyncFailure(failure('rate-limited', code, undefined, 120_000), 'feed', PAUSE)).toEqual({ kind: 'rate-limited', scope: 'account', waitMs: 120_000 });
    expect(classifySyncFailure(failure('rate-limited', undefined, undefined, 120_000), 'feed', PAUSE)).toEqual({ kind: 'rate-limited', scope: 'account', waitMs: 120_000 });
  });

  it('pauses for the configured time when Meta gave no estimate', () => {
    expect(classifySyncFailure(failure('rate-limited', 80002), 'feed', PAUSE)).toEqual({ kind: 'rate-limited', scope: 'account', waitMs: PAUSE });
    expect(classifySyncFailure(failure('rate-limited', 80002, undefined, 0), 'feed', PAUSE)).toEqual({ kind: 'rate-limited', scope: 'account', waitMs: PAUSE });
    expect(classifySyncFailure(failure('rate-limited', 80002, undefined, 1), 'feed', PAUSE)).toEqual({ kind: 'rate-limited', scope: 'account', waitMs: 1 });
  });

  it('reads error 10 on a story as fewer than 5 viewers, elsewhere as a missing permission', () => {
    expect(classifySyncFailure(failure('permission-missing', 10), 'story', PAUSE)).toEqual({ kind: 'unavailable', reason: 'fewer-than-5-viewers' });
    expect(classifySyncFailure(failure('permission-missing', 10), 'feed', PAUSE)).toEqual({ kind: 'stop', reason: 'permission-missing' });
    expect(classifySyncFailure(failure('permission-missing', 200), 'story', PAUSE)).toEqual({ kind: 'stop', reason: 'permission-missing' });
  });

  it('waits for a new token when Meta refuses the one we have', () => {
    expect(classifySyncFailure(failure('token-invalid', 190, 460), 'feed', PAUSE)).toEqual({ kind: 'account-blocked', reason: 'token-invalid' });
    expect(classifySyncFailure(failure('account-action-required', 190, 459), 'reel', PAUSE)).toEqual({ kind: 'account-blocked', reason: 'account-action-required' });
  });

  it('stops for good on a lost Page role, deleted media and invalid requests', () => {
    expect(classifySyncFailure(failure('page-role-lost', 190, 492), 'feed', PAUSE)).toEqual({ kind: 'stop', reason: 'page-role-lost' });
    expect(classifySyncFailure(failure('invalid-parameter', 100, 2207006), 'feed', PAUSE)).toEqual({ kind: 'stop', reason: 'media-deleted' });
    expect(classifySyncFailure(failure('invalid-parameter', 100), 'feed', PAUSE)).toEqual({ kind: 'stop', reason: 'object-unavailable' });
    expect(classifySyncFailure(failure('bad-media', 9004), 'feed', PAUSE)).toEqual({ kind: 'stop', reason: 'bad-media' });
    expect(classifySyncFailure(failure('account-restricted', 25), 'feed', PAUSE)).toEqual({ kind: 'stop', reason: 'account-restricted' });
  });

  it('reads 100/33 as "not ready" on a post just published and as deleted afterwards', () => {
    expect(JUST_CREATED_MS).toBe(15 * 60_000);
    expect(classifySyncFailure(failure('transient', 100, 33, undefined, JUST_CREATED_MS), 'feed', PAUSE)).toEqual({ kind: 'retry', reason: 'object-not-ready' });
    expect(classifySyncFailure(failure('transient', 100, 33, undefined, JUST_CREATED_MS + 1), 'feed', PAUSE)).toEqual({ kind: 'stop', reason: 'object-deleted' });
    expect(classifySyncFailure(failure('invalid-parameter', 100, 34, undefined, HOUR), 'feed', PAUSE)).toEqual({ kind: 'stop', reason: 'object-unavailable' });
    expect(classifySyncFailure(failure('transient', 1, 33, undefined, HOUR), 'feed', PAUSE)).toEqual({ kind: 'retry', reason: 'transient' });
  });

  it('retries transient, ambiguous, policy and unknown failures', () => {
    for (const klass of ['transient', 'ambiguous', 'policy-block', 'unknown'] as const) expect(classifySyncFailure(failure(klass, 2), 'feed', PAUSE)).toEqual({ kind: 'retry', reason: klass });
  });
});

describe('retries', () => {
  const settings = { initialDelayMs: 60_000, maxDelayMs: 600_000, maxAttempts: 4 };

  it('doubles from the initial delay up to the maximum, the second half jittered', () => {
    expect(retryDelayMs(1, settings, 0)).toBe(30_000);
    expect(retryDelayMs(1, settings, 1)).toBe(60_000);
    expect(retryDelayMs(1, settings, 0.5)).toBe(45_000);
    expect(retryDelayMs(2, settings, 1)).toBe(120_000);
    expect(retryDelayMs(3, settings, 1)).toBe(240_000);
    expect(retryDelayMs(4, settings, 1)).toBe(480_000);
    expect(retryDelayMs(5, settings, 1)).toBe(600_000);
    expect(retryDelayMs(5, settings, 0)).toBe(300_000);
    expect(retryDelayMs(0, settings, 1)).toBe(60_000);
    // Out-of-range randomness is clamped.
    expect(retryDelayMs(1, settings, 2)).toBe(60_000);
    expect(retryDelayMs(1, settings, -1)).toBe(30_000);
  });

  it('allows attempts below the maximum only', () => {
    expect(mayRetry(3, settings)).toBe(true);
    expect(mayRetry(4, settings)).toBe(false);
    expect(mayRetry(5, settings)).toBe(false);
  });

  it('reads "not yet" again later, but gives up once that would reach the next sync', () => {
    const now = new Date('2026-12-01T10:00:00.000Z');
    expect(notYetDecision(now, undefined, HOUR)).toEqual({ kind: 'recheck', at: new Date('2026-12-01T11:00:00.000Z') });
    expect(notYetDecision(now, new Date('2026-12-01T11:00:00.001Z'), HOUR)).toEqual({ kind: 'recheck', at: new Date('2026-12-01T11:00:00.000Z') });
    expect(notYetDecision(now, new Date('2026-12-01T11:00:00.000Z'), HOUR)).toEqual({ kind: 'give-up' });
    expect(notYetDecision(now, new Date('2026-12-01T10:30:00.000Z'), HOUR)).toEqual({ kind: 'give-up' });
  });
});
