/**
 * The sandbox's notion of now: real time plus an offset that tests move forward. It never goes back,
 * so everything derived from it (token expiry, container status, quota windows, insight growth) stays monotonic.
 */
export type Clock = {
  now(): number;
  advance(ms: number): void;
  /** Moves the clock to `epochMs`, which must not lie in the sandbox's past. */
  set(epochMs: number): void;
  offsetMs(): number;
  reset(): void;
};

export function createClock(realNow: () => number = Date.now): Clock {
  let offset = 0;
  return {
    now: () => realNow() + offset,
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the sandbox clock only moves forward');
      offset += ms;
    },
    set(epochMs) {
      const current = realNow() + offset;
      if (epochMs < current) throw new RangeError('the sandbox clock only moves forward');
      offset += epochMs - current;
    },
    offsetMs: () => offset,
    reset() {
      offset = 0;
    },
  };
}

/** Meta's timestamp format: `2026-01-31T12:00:00+0000`. */
export function metaTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, '+0000');
}

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
