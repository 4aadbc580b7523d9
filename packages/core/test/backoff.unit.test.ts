import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/index.ts';

describe('backoff', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 2_000 };

  it('grows exponentially up to the cap when jitter picks the maximum', () => {
    expect([1, 2, 3, 4, 5, 6, 10].map((attempt) => backoffDelay(attempt, options, () => 1))).toEqual([
      100, 200, 400, 800, 1_600, 2_000, 2_000,
    ]);
  });

  it('spreads retries between zero and the cap (full jitter)', () => {
    expect(backoffDelay(3, options, () => 0)).toBe(0);
    expect(backoffDelay(3, options, () => 0.5)).toBe(200);
  });

  it('uses the given multiplier and treats attempt 0 like the first', () => {
    const tripling = { initialDelayMs: 50, maxDelayMs: 10_000, multiplier: 3 };
    expect([0, 1, 2, 3].map((attempt) => backoffDelay(attempt, tripling, () => 1))).toEqual([50, 50, 150, 450]);
  });
});
