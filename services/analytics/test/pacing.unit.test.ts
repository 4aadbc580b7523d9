import { describe, expect, it } from 'vitest';
import { nextCallSlot, usageObjectId } from '../src/domain/pacing.ts';

const settings = { maxCallsPerSecond: 10 };
const slot = (input: { now: number; lastGlobal?: number; lastObject?: number; appDelayMs?: number; objectDelayMs?: number }) =>
  nextCallSlot({ lastGlobal: 0, lastObject: 0, appDelayMs: 0, objectDelayMs: 0, settings, ...input });

describe('pacing calls to Meta', () => {
  it('lets the first call go at once', () => {
    expect(slot({ now: 5_000 })).toEqual({ global: 5_000, start: 5_000 });
  });

  it('spaces every call by 1/rate', () => {
    expect(slot({ now: 5_000, lastGlobal: 5_000 })).toEqual({ global: 5_100, start: 5_100 });
    expect(slot({ now: 5_050, lastGlobal: 5_000 })).toEqual({ global: 5_100, start: 5_100 });
    expect(slot({ now: 5_200, lastGlobal: 5_000 })).toEqual({ global: 5_200, start: 5_200 });
    expect(slot({ now: 5_000, lastGlobal: 5_100 })).toEqual({ global: 5_200, start: 5_200 });
  });

  it('stretches the instance-wide gap by the app slow-down when that is longer', () => {
    expect(slot({ now: 5_000, lastGlobal: 5_000, appDelayMs: 2_000 })).toEqual({ global: 7_000, start: 7_000 });
    expect(slot({ now: 5_000, lastGlobal: 5_000, appDelayMs: 50 })).toEqual({ global: 5_100, start: 5_100 });
    expect(slot({ now: 9_000, lastGlobal: 5_000, appDelayMs: 2_000 })).toEqual({ global: 9_000, start: 9_000 });
  });

  it("spaces one object's calls by its own slow-down without holding up the others", () => {
    // The object's previous call at 5 000 and a 2 s slow-down: this one starts at 7 000, but reserves only the next global slot.
    expect(slot({ now: 5_000, lastGlobal: 5_000, lastObject: 5_000, objectDelayMs: 2_000 })).toEqual({ global: 5_100, start: 7_000 });
    expect(slot({ now: 5_000, lastGlobal: 5_000, lastObject: 5_000, objectDelayMs: 50 })).toEqual({ global: 5_100, start: 5_100 });
    expect(slot({ now: 8_000, lastGlobal: 5_000, lastObject: 5_000, objectDelayMs: 2_000 })).toEqual({ global: 8_000, start: 8_000 });
  });

  it('keys usage by the Instagram account, or the Page for Facebook', () => {
    expect(usageObjectId({ platform: 'instagram', platformAccountId: '1784', pageId: '1001' })).toBe('1784');
    expect(usageObjectId({ platform: 'facebook', platformAccountId: '1002', pageId: '1001' })).toBe('1001');
    expect(usageObjectId({ platform: 'facebook', platformAccountId: '1002', pageId: null })).toBe('1002');
  });
});
