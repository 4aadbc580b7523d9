import { describe, expect, it } from 'vitest';
import { nextCallSlot, usageObjectId } from '../src/domain/pacing.ts';

const proceed = { action: 'proceed', delayMs: 0, percent: 10 } as const;
const slow = (delayMs: number) => ({ action: 'slow-down', delayMs, percent: 90 }) as const;
const settings = { maxCallsPerSecond: 10 };

describe('pacing calls to Meta', () => {
  it('lets the first call go at once', () => {
    expect(nextCallSlot({ now: 5_000, lastSlot: 0, advice: proceed, settings })).toBe(5_000);
    expect(nextCallSlot({ now: 5_000, lastSlot: 0, advice: slow(3_000), settings })).toBe(5_000);
  });

  it('spaces calls by 1/rate', () => {
    expect(nextCallSlot({ now: 5_000, lastSlot: 5_000, advice: proceed, settings })).toBe(5_100);
    expect(nextCallSlot({ now: 5_050, lastSlot: 5_000, advice: proceed, settings })).toBe(5_100);
    expect(nextCallSlot({ now: 5_200, lastSlot: 5_000, advice: proceed, settings })).toBe(5_200);
    expect(nextCallSlot({ now: 5_000, lastSlot: 5_100, advice: proceed, settings })).toBe(5_200);
  });

  it('spaces calls by the slow-down when that is longer', () => {
    expect(nextCallSlot({ now: 5_000, lastSlot: 5_000, advice: slow(2_000), settings })).toBe(7_000);
    expect(nextCallSlot({ now: 5_000, lastSlot: 5_000, advice: slow(50), settings })).toBe(5_100);
    expect(nextCallSlot({ now: 9_000, lastSlot: 5_000, advice: slow(2_000), settings })).toBe(9_000);
    expect(nextCallSlot({ now: 5_000, lastSlot: 5_000, advice: { action: 'stop', delayMs: 60_000, percent: 100 }, settings })).toBe(65_000);
  });

  it('keys usage by the Instagram account, or the Page for Facebook', () => {
    expect(usageObjectId({ platform: 'instagram', platformAccountId: '1784', pageId: '1001' })).toBe('1784');
    expect(usageObjectId({ platform: 'facebook', platformAccountId: '1002', pageId: '1001' })).toBe('1001');
    expect(usageObjectId({ platform: 'facebook', platformAccountId: '1002', pageId: null })).toBe('1002');
  });
});
