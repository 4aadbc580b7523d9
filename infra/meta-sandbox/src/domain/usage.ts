import { MINUTE } from './clock.ts';

/**
 * A rolling call counter in one-minute buckets, for Meta's usage headers and rate limits.
 * `count` is O(buckets); windows are at most a day, so at most 1440 buckets are summed, usually far fewer live.
 */
export type UsageCounter = {
  record(now: number): number;
  count(now: number): number;
  /** Minutes until the oldest counted call leaves the window. */
  minutesToRegain(now: number): number;
};

export function createUsageCounter(windowMs: number): UsageCounter {
  const buckets = new Map<number, number>();
  let total = 0;
  let lastPrune = 0;

  const prune = (now: number) => {
    const cutoff = Math.floor((now - windowMs) / MINUTE);
    if (cutoff === lastPrune) return;
    lastPrune = cutoff;
    for (const [minute, count] of buckets) {
      if (minute <= cutoff) {
        buckets.delete(minute);
        total -= count;
      }
    }
  };

  return {
    record(now) {
      prune(now);
      const minute = Math.floor(now / MINUTE);
      buckets.set(minute, (buckets.get(minute) ?? 0) + 1);
      total += 1;
      return total;
    },
    count(now) {
      prune(now);
      return total;
    },
    minutesToRegain(now) {
      prune(now);
      let oldest = Infinity;
      for (const minute of buckets.keys()) oldest = Math.min(oldest, minute);
      if (oldest === Infinity) return 0;
      return Math.max(1, Math.ceil(((oldest + 1) * MINUTE + windowMs - now) / MINUTE));
    },
  };
}

export function percentOf(count: number, budget: number): number {
  return Math.min(100, Math.floor((count * 100) / budget));
}

/** The usage header for one app: call_count, total_cputime and total_time in percent of the budget. */
export function appUsageHeader(count: number, budget: number): string {
  const percent = percentOf(count, budget);
  return `{"call_count":${percent},"total_cputime":${Math.floor(percent / 2)},"total_time":${Math.floor(percent / 2)}}`;
}

export function businessUsageHeader(objectId: string, type: 'instagram' | 'pages', count: number, budget: number, regainMinutes: number): string {
  const percent = percentOf(count, budget);
  return JSON.stringify({
    [objectId]: [
      {
        type,
        call_count: percent,
        total_cputime: Math.floor(percent / 2),
        total_time: Math.floor(percent / 2),
        estimated_time_to_regain_access: percent >= 100 ? regainMinutes : 0,
      },
    ],
  });
}
