import { describe, expect, it } from 'vitest';
import { adviseUsage, highestUsagePercent, parseAppUsage, parseBusinessUseCaseUsage, readUsage, retryAfterMs } from '../src/index.ts';

describe('usage headers', () => {
  it('parses X-App-Usage percentages', () => {
    expect(parseAppUsage('{"call_count":28,"total_time":25,"total_cputime":25}')).toEqual({ callCount: 28, totalCputime: 25, totalTime: 25 });
    expect(parseAppUsage(undefined)).toBeUndefined();
    expect(parseAppUsage('not json')).toBeUndefined();
    expect(parseAppUsage('{"call_count":"12"}')).toEqual({ callCount: 12, totalCputime: 0, totalTime: 0 });
  });

  it('parses X-Business-Use-Case-Usage per object id, with regain time in minutes', () => {
    const header = JSON.stringify({
      '17841400000000301': [{ type: 'instagram', call_count: 100, total_cputime: 40, total_time: 50, estimated_time_to_regain_access: 7 }],
      '1001000000000201': [{ type: 'pages', call_count: 10, total_cputime: 1, total_time: 2, estimated_time_to_regain_access: 0 }],
    });
    const parsed = parseBusinessUseCaseUsage(header);
    expect(parsed['17841400000000301']).toEqual([{ type: 'instagram', callCount: 100, totalCputime: 40, totalTime: 50, estimatedTimeToRegainAccess: 7 }]);
    expect(parsed['1001000000000201']?.[0]?.type).toBe('pages');
    expect(parseBusinessUseCaseUsage('[]')).toEqual({});
    expect(parseBusinessUseCaseUsage('{"1":"x"}')).toEqual({});
  });

  it('reads both headers from a Headers object; highest percent and retry-after across them', () => {
    const headers = new Headers({
      'x-app-usage': '{"call_count":12,"total_cputime":91,"total_time":3}',
      'x-business-use-case-usage': '{"1":[{"type":"pages","call_count":50,"total_cputime":0,"total_time":0,"estimated_time_to_regain_access":3}],"2":[{"type":"instagram","call_count":5,"total_cputime":0,"total_time":0,"estimated_time_to_regain_access":11}]}',
    });
    const snapshot = readUsage(headers);
    expect(highestUsagePercent(snapshot)).toBe(91);
    expect(retryAfterMs(snapshot)).toBe(11 * 60_000);
    expect(retryAfterMs({ app: undefined, business: {} })).toBeUndefined();
    expect(highestUsagePercent({ app: undefined, business: {} })).toBe(0);
  });
});

describe('usage policy', () => {
  const app = (percent: number) => ({ app: { callCount: percent, totalCputime: 0, totalTime: 0 }, business: {} });

  it('proceeds below the threshold, slows down more the closer to 100 %, stops at 100 %', () => {
    expect(adviseUsage(app(79))).toEqual({ action: 'proceed', delayMs: 0, percent: 79 });
    expect(adviseUsage(app(80))).toMatchObject({ action: 'slow-down', delayMs: 0 });
    expect(adviseUsage(app(90))).toMatchObject({ action: 'slow-down', delayMs: 15_000 });
    expect(adviseUsage(app(90), { slowDownAtPercent: 50, maxSlowDownMs: 1000 })).toMatchObject({ action: 'slow-down', delayMs: 800 });
    expect(adviseUsage(app(100))).toMatchObject({ action: 'stop', delayMs: 300_000 });
  });

  it("stops until Meta's regain estimate, at 100 % or after a rate-limit error", () => {
    const spent = { app: undefined, business: { '9': [{ type: 'instagram', callCount: 100, totalCputime: 0, totalTime: 0, estimatedTimeToRegainAccess: 4 }] } };
    expect(adviseUsage(spent)).toEqual({ action: 'stop', delayMs: 240_000, percent: 100 });
    expect(adviseUsage(app(10), { rateLimited: true, stopWithoutEstimateMs: 60_000 })).toEqual({ action: 'stop', delayMs: 60_000, percent: 10 });
  });
});
