import { describe, expect, it } from 'vitest';
import { attemptNumber, decideRetry } from '../src/domain/retry-policy.ts';

const settings = { initialDelayMs: 1_000, maxDelayMs: 8_000, minDelayMs: 100 };

describe('retry policy', () => {
  it('retries while retry_count is below max_retries, counting the retry', () => {
    expect(decideRetry(0, 3, settings, () => 1)).toEqual({ kind: 'retry', retryCount: 1, delayMs: 1_000 });
    expect(decideRetry(2, 3, settings, () => 1)).toEqual({ kind: 'retry', retryCount: 3, delayMs: 4_000 });
  });

  it('gives up once retry_count reached max_retries (3 retries: 4 attempts in all)', () => {
    expect(decideRetry(3, 3, settings, () => 1)).toEqual({ kind: 'give-up', retryCount: 3 });
    expect(decideRetry(4, 3, settings, () => 1)).toEqual({ kind: 'give-up', retryCount: 4 });
    expect(decideRetry(0, 0, settings, () => 1)).toEqual({ kind: 'give-up', retryCount: 0 });
  });

  it('backs off exponentially with full jitter, capped at the maximum', () => {
    expect(decideRetry(1, 10, settings, () => 1)).toMatchObject({ delayMs: 2_000 });
    expect(decideRetry(5, 10, settings, () => 1)).toMatchObject({ delayMs: 8_000 });
    expect(decideRetry(0, 3, settings, () => 0.5)).toMatchObject({ delayMs: 500 });
  });

  it('never retries sooner than the minimum delay, even when the jitter draws 0', () => {
    expect(decideRetry(0, 3, settings, () => 0)).toEqual({ kind: 'retry', retryCount: 1, delayMs: 100 });
    expect(decideRetry(0, 3, settings, () => 0.1)).toEqual({ kind: 'retry', retryCount: 1, delayMs: 100 });
    expect(decideRetry(0, 3, settings, () => 0.101)).toEqual({ kind: 'retry', retryCount: 1, delayMs: 101 });
  });

  it('numbers attempts from 1', () => {
    expect(attemptNumber(0)).toBe(1);
    expect(attemptNumber(3)).toBe(4);
  });
});
