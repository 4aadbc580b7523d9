import { describe, expect, it } from 'vitest';
import {
  DAY_MS,
  DEFAULT_SYNC_OFFSETS_MS,
  HOUR_MS,
  SPREAD_SHARE_OF_OFFSET,
  STORY_INSIGHTS_WINDOW_MS,
  STORY_LAST_SYNC_MS,
  STORY_MAX_SPREAD_MS,
  hoursSincePublished,
  offsetsFor,
  refreshAllowedAt,
  spreadFraction,
  spreadMs,
  storyInsightsOpen,
  syncSchedule,
} from '../src/domain/schedule.ts';

const POST = '6f1c1f0e-5f53-4c1e-9d59-6d7f2c3b1a10';

describe('the sync schedule', () => {
  it('defaults to +1 h, +6 h, +24 h, +72 h, +7 d and +28 d', () => {
    expect(DEFAULT_SYNC_OFFSETS_MS).toEqual([HOUR_MS, 6 * HOUR_MS, 24 * HOUR_MS, 72 * HOUR_MS, 7 * DAY_MS, 28 * DAY_MS]);
    expect(HOUR_MS).toBe(3_600_000);
    expect(DAY_MS).toBe(86_400_000);
  });

  it('keeps every offset, once and in order, for feed, reel and carousel posts', () => {
    for (const type of ['feed', 'reel', 'carousel'] as const) {
      expect(offsetsFor(type, [6 * HOUR_MS, HOUR_MS, HOUR_MS, 28 * DAY_MS])).toEqual([HOUR_MS, 6 * HOUR_MS, 28 * DAY_MS]);
    }
  });

  it("replaces a story's offsets from its last read on by that last read, once", () => {
    expect(STORY_INSIGHTS_WINDOW_MS).toBe(24 * HOUR_MS);
    expect(STORY_LAST_SYNC_MS).toBe(23 * HOUR_MS);
    expect(offsetsFor('story', DEFAULT_SYNC_OFFSETS_MS)).toEqual([HOUR_MS, 6 * HOUR_MS, 23 * HOUR_MS]);
    // An offset just under the last read stays; one exactly at it is replaced by it (no duplicate).
    expect(offsetsFor('story', [HOUR_MS, 23 * HOUR_MS - 1])).toEqual([HOUR_MS, 23 * HOUR_MS - 1]);
    expect(offsetsFor('story', [HOUR_MS, 23 * HOUR_MS])).toEqual([HOUR_MS, 23 * HOUR_MS]);
    expect(offsetsFor('story', [HOUR_MS, 23 * HOUR_MS, 48 * HOUR_MS])).toEqual([HOUR_MS, 23 * HOUR_MS]);
    expect(offsetsFor('story', [48 * HOUR_MS])).toEqual([23 * HOUR_MS]);
  });

  it('spreads a sync by a fixed fraction of at most a tenth of its offset, the configured maximum, and for stories half an hour', () => {
    expect(SPREAD_SHARE_OF_OFFSET).toBe(0.1);
    expect(STORY_MAX_SPREAD_MS).toBe(30 * 60_000);
    const fraction = spreadFraction(POST, HOUR_MS);
    expect(fraction).toBeGreaterThanOrEqual(0);
    expect(fraction).toBeLessThan(1);
    expect(spreadFraction(POST, HOUR_MS)).toBe(fraction);
    expect(spreadFraction(POST, 6 * HOUR_MS)).not.toBe(fraction);
    expect(spreadFraction('another-post', HOUR_MS)).not.toBe(fraction);
    // +1 h: a tenth is 6 min, under the 10 min maximum.
    expect(spreadMs(POST, 'feed', HOUR_MS, 10 * 60_000)).toBe(Math.floor(fraction * 6 * 60_000));
    // +28 d: capped at the maximum.
    expect(spreadMs(POST, 'feed', 28 * DAY_MS, 10 * 60_000)).toBe(Math.floor(spreadFraction(POST, 28 * DAY_MS) * 10 * 60_000));
    // Stories: half an hour at most, even with a larger maximum.
    expect(spreadMs(POST, 'story', 23 * HOUR_MS, 3 * HOUR_MS)).toBe(Math.floor(spreadFraction(POST, 23 * HOUR_MS) * 30 * 60_000));
    expect(spreadMs(POST, 'feed', 23 * HOUR_MS, 3 * HOUR_MS)).toBe(Math.floor(spreadFraction(POST, 23 * HOUR_MS) * 2.3 * HOUR_MS));
    expect(spreadMs(POST, 'feed', HOUR_MS, 0)).toBe(0);
  });

  it('knows the same spread on every instance and keeps it within its cap for many posts', () => {
    for (let index = 0; index < 200; index += 1) {
      const id = `${POST.slice(0, -3)}${String(index).padStart(3, '0')}`;
      const spread = spreadMs(id, 'feed', HOUR_MS, 10 * 60_000);
      expect(spread).toBeGreaterThanOrEqual(0);
      expect(spread).toBeLessThan(6 * 60_000);
    }
  });

  it("schedules each offset after the publication, plus its spread", () => {
    const publishedAt = new Date('2026-12-01T10:00:00.000Z');
    const schedule = syncSchedule({ id: POST, postType: 'feed', publishedAt }, { offsetsMs: [HOUR_MS, DAY_MS], maxSpreadMs: 10 * 60_000 });
    expect(schedule).toEqual([
      { offsetMs: HOUR_MS, dueAt: new Date(publishedAt.getTime() + HOUR_MS + spreadMs(POST, 'feed', HOUR_MS, 10 * 60_000)) },
      { offsetMs: DAY_MS, dueAt: new Date(publishedAt.getTime() + DAY_MS + spreadMs(POST, 'feed', DAY_MS, 10 * 60_000)) },
    ]);
    const unspread = syncSchedule({ id: POST, postType: 'story', publishedAt }, { offsetsMs: [HOUR_MS, DAY_MS], maxSpreadMs: 0 });
    expect(unspread).toEqual([
      { offsetMs: HOUR_MS, dueAt: new Date('2026-12-01T11:00:00.000Z') },
      { offsetMs: 23 * HOUR_MS, dueAt: new Date('2026-12-02T09:00:00.000Z') },
    ]);
  });

  it('counts whole hours since publishing, never negative', () => {
    const publishedAt = new Date('2026-12-01T10:00:00.000Z');
    expect(hoursSincePublished(publishedAt, new Date('2026-12-01T10:59:59.999Z'))).toBe(0);
    expect(hoursSincePublished(publishedAt, new Date('2026-12-01T11:00:00.000Z'))).toBe(1);
    expect(hoursSincePublished(publishedAt, new Date('2026-12-29T10:30:00.000Z'))).toBe(672);
    expect(hoursSincePublished(publishedAt, new Date('2026-12-01T09:00:00.000Z'))).toBe(0);
  });

  it("keeps a story's insights open for 24 h exactly", () => {
    const publishedAt = new Date('2026-12-01T10:00:00.000Z');
    expect(storyInsightsOpen(publishedAt, new Date(publishedAt.getTime() + DAY_MS - 1))).toBe(true);
    expect(storyInsightsOpen(publishedAt, new Date(publishedAt.getTime() + DAY_MS))).toBe(false);
    expect(storyInsightsOpen(publishedAt, publishedAt)).toBe(true);
  });

  it('allows one on-demand refresh per cooldown', () => {
    const at = new Date('2026-12-01T10:00:00.000Z');
    expect(refreshAllowedAt(null, 15 * 60_000, at)).toBeUndefined();
    expect(refreshAllowedAt(new Date(at.getTime() - 15 * 60_000), 15 * 60_000, at)).toBeUndefined();
    expect(refreshAllowedAt(new Date(at.getTime() - 15 * 60_000 + 1), 15 * 60_000, at)).toEqual(new Date(at.getTime() + 1));
    expect(refreshAllowedAt(at, 15 * 60_000, at)).toEqual(new Date(at.getTime() + 15 * 60_000));
  });
});
