import { describe, expect, it } from 'vitest';
import { formatDuration, lateness } from '../src/domain/lateness.ts';

const HOUR = 3_600_000;
const scheduled = new Date('2026-12-01T09:00:00.000Z');
const at = (offsetMs: number) => new Date(scheduled.getTime() + offsetMs);

describe('lateness', () => {
  it('is on time for a post without a time, or claimed at or before its time', () => {
    expect(lateness(null, at(5 * HOUR), HOUR)).toEqual({ kind: 'on-time' });
    expect(lateness(scheduled, at(0), HOUR)).toEqual({ kind: 'on-time' });
    expect(lateness(scheduled, at(-1), HOUR)).toEqual({ kind: 'on-time' });
  });

  it('publishes at once up to the configured lateness, inclusive', () => {
    expect(lateness(scheduled, at(1), HOUR)).toEqual({ kind: 'late', lateByMs: 1 });
    expect(lateness(scheduled, at(HOUR), HOUR)).toEqual({ kind: 'late', lateByMs: HOUR });
  });

  it('fails a post later than that with "missed its window" and its scheduled time', () => {
    const verdict = lateness(scheduled, at(HOUR + 1), HOUR);
    expect(verdict).toEqual({
      kind: 'missed',
      lateByMs: HOUR + 1,
      message: 'The post missed its window: it was scheduled for 2026-12-01T09:00:00.000Z and could not start within 1 h of that time. Reschedule or retry it.',
    });
  });

  it('with a lateness of 0, any delay misses the window', () => {
    expect(lateness(scheduled, at(1), 0)).toMatchObject({ kind: 'missed', lateByMs: 1 });
    expect(lateness(scheduled, at(0), 0)).toEqual({ kind: 'on-time' });
  });
});

describe('formatDuration', () => {
  it('says milliseconds below a second', () => {
    expect(formatDuration(0)).toBe('0 ms');
    expect(formatDuration(999)).toBe('999 ms');
  });

  it('says hours, minutes and seconds, leaving out the zero parts', () => {
    expect(formatDuration(1000)).toBe('1 s');
    expect(formatDuration(59_999)).toBe('59 s');
    expect(formatDuration(60_000)).toBe('1 min');
    expect(formatDuration(90_000)).toBe('1 min 30 s');
    expect(formatDuration(HOUR)).toBe('1 h');
    expect(formatDuration(HOUR + 1_000)).toBe('1 h 1 s');
    expect(formatDuration(5_400_000)).toBe('1 h 30 min');
    expect(formatDuration(3 * HOUR + 61_000)).toBe('3 h 1 min 1 s');
  });
});
