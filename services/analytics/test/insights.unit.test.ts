import { describe, expect, it } from 'vitest';
import {
  FACEBOOK_COUNT_FIELDS,
  FACEBOOK_POST_METRICS,
  FACEBOOK_REEL_METRICS,
  FACEBOOK_VIDEO_POST_METRICS,
  INSTAGRAM_FEED_METRICS,
  INSTAGRAM_STORY_METRICS,
  MAX_ENGAGEMENT_RATE,
  REMOVED_FACEBOOK_POST_METRICS,
  REMOVED_INSTAGRAM_METRICS,
  engagementRate,
  insightPlan,
  mapFacebookPost,
  mapFacebookReel,
  mapInstagram,
} from '../src/domain/insights.ts';

const feed = { views: 1000, reach: 700, likes: 80, comments: 10, saved: 20, shares: 5 };
const story = { views: 300, reach: 210, shares: 3, replies: 4 };

describe('which insights are asked for', () => {
  it('asks Instagram feed posts, carousels and reels for the metrics Meta lists for FEED and REELS', () => {
    expect(INSTAGRAM_FEED_METRICS).toEqual(['views', 'reach', 'likes', 'comments', 'saved', 'shares']);
    for (const type of ['feed', 'carousel', 'reel'] as const) expect(insightPlan('instagram', type)).toEqual({ source: 'instagram-media', metrics: INSTAGRAM_FEED_METRICS });
  });

  it('asks Instagram stories only for story metrics (no likes, comments or saves)', () => {
    expect(INSTAGRAM_STORY_METRICS).toEqual(['views', 'reach', 'shares', 'replies']);
    expect(insightPlan('instagram', 'story')).toEqual({ source: 'instagram-media', metrics: INSTAGRAM_STORY_METRICS });
  });

  it('asks Facebook posts for post_media_view and post_total_media_view_unique, reels for video_insights, stories for nothing', () => {
    expect(FACEBOOK_POST_METRICS).toEqual(['post_media_view', 'post_total_media_view_unique']);
    expect(FACEBOOK_REEL_METRICS).toEqual(['fb_reels_total_plays', 'post_impressions_unique']);
    expect(FACEBOOK_VIDEO_POST_METRICS).toEqual(['post_media_view', 'post_total_media_view_unique', 'post_video_views']);
    expect(FACEBOOK_COUNT_FIELDS).toBe('reactions.summary(total_count).limit(0),comments.summary(true).limit(0),shares');
    expect(insightPlan('facebook', 'feed')).toEqual({ source: 'facebook-post', metrics: FACEBOOK_POST_METRICS });
    expect(insightPlan('facebook', 'carousel')).toEqual({ source: 'facebook-post', metrics: FACEBOOK_POST_METRICS });
    expect(insightPlan('facebook', 'reel')).toEqual({ source: 'facebook-reel', metrics: FACEBOOK_VIDEO_POST_METRICS, videoMetrics: FACEBOOK_REEL_METRICS });
    expect(insightPlan('facebook', 'story')).toEqual({ source: 'none', reason: 'facebook-stories-have-no-insights' });
  });

  it('never asks for a removed metric', () => {
    expect(REMOVED_INSTAGRAM_METRICS).toEqual([
      'impressions',
      'plays',
      'video_views',
      'engagement',
      'clips_replays_count',
      'ig_reels_aggregated_all_plays_count',
      'carousel_album_impressions',
      'carousel_album_reach',
      'carousel_album_engagement',
      'carousel_album_saved',
      'carousel_album_video_views',
    ]);
    expect(REMOVED_FACEBOOK_POST_METRICS).toEqual(['post_impressions', 'post_impressions_unique', 'post_engaged_users', 'post_impressions_organic']);
    for (const type of ['feed', 'reel', 'story', 'carousel'] as const) {
      const plan = insightPlan('instagram', type);
      const metrics = plan.source === 'none' ? [] : plan.metrics;
      expect(metrics.length).toBeGreaterThan(0);
      expect(metrics.filter((metric) => REMOVED_INSTAGRAM_METRICS.includes(metric))).toEqual([]);
    }
    expect([...FACEBOOK_POST_METRICS, ...FACEBOOK_VIDEO_POST_METRICS].filter((metric) => REMOVED_FACEBOOK_POST_METRICS.includes(metric))).toEqual([]);
  });
});

describe("Meta's answer as the seed's columns", () => {
  it('fills impressions from views, and plays from views for reels only', () => {
    expect(mapInstagram('feed', feed)).toEqual({ kind: 'available', metrics: { likes: 80, comments: 10, shares: 5, saves: 20, reach: 700, impressions: 1000, plays: null } });
    expect(mapInstagram('carousel', feed)).toEqual({ kind: 'available', metrics: { likes: 80, comments: 10, shares: 5, saves: 20, reach: 700, impressions: 1000, plays: null } });
    expect(mapInstagram('reel', feed)).toEqual({ kind: 'available', metrics: { likes: 80, comments: 10, shares: 5, saves: 20, reach: 700, impressions: 1000, plays: 1000 } });
  });

  it('maps a story: replies are its comments, likes and saves do not exist (0)', () => {
    expect(mapInstagram('story', story)).toEqual({ kind: 'available', metrics: { likes: 0, comments: 4, shares: 3, saves: 0, reach: 210, impressions: 300, plays: null } });
  });

  it('reads missing data as "not yet", never as 0', () => {
    expect(mapInstagram('feed', {})).toEqual({ kind: 'not-yet' });
    expect(mapInstagram('story', {})).toEqual({ kind: 'not-yet' });
    for (const metric of INSTAGRAM_FEED_METRICS) {
      expect(mapInstagram('feed', { ...feed, [metric]: undefined })).toEqual({ kind: 'not-yet' });
    }
    for (const metric of INSTAGRAM_STORY_METRICS) {
      expect(mapInstagram('story', { ...story, [metric]: undefined })).toEqual({ kind: 'not-yet' });
    }
    // A real zero is a value.
    expect(mapInstagram('feed', { ...feed, likes: 0 })).toEqual({ kind: 'available', metrics: { likes: 0, comments: 10, shares: 5, saves: 20, reach: 700, impressions: 1000, plays: null } });
  });

  it('maps a Facebook post: post_media_view -> impressions, unique views -> reach, reactions -> likes; absent shares are 0', () => {
    const values = { post_media_view: 900, post_total_media_view_unique: 630 };
    expect(mapFacebookPost(values, { reactions: 72, comments: 9, shares: 5 })).toEqual({
      kind: 'available',
      metrics: { likes: 72, comments: 9, shares: 5, saves: 0, reach: 630, impressions: 900, plays: null },
    });
    expect(mapFacebookPost(values, { reactions: 72, comments: 9, shares: undefined })).toEqual({
      kind: 'available',
      metrics: { likes: 72, comments: 9, shares: 0, saves: 0, reach: 630, impressions: 900, plays: null },
    });
    expect(mapFacebookPost({ post_media_view: 900 }, { reactions: 72, comments: 9, shares: 5 })).toEqual({ kind: 'not-yet' });
    expect(mapFacebookPost({ post_total_media_view_unique: 630 }, { reactions: 72, comments: 9, shares: 5 })).toEqual({ kind: 'not-yet' });
    expect(mapFacebookPost(values, { reactions: undefined, comments: 9, shares: 5 })).toEqual({ kind: 'not-yet' });
    expect(mapFacebookPost(values, { reactions: 72, comments: undefined, shares: 5 })).toEqual({ kind: 'not-yet' });
  });

  it('maps a Facebook reel read through its post: post_video_views are its plays', () => {
    const values = { post_media_view: 900, post_total_media_view_unique: 630, post_video_views: 540 };
    expect(mapFacebookPost(values, { reactions: 72, comments: 9, shares: 5 }, true)).toEqual({
      kind: 'available',
      metrics: { likes: 72, comments: 9, shares: 5, saves: 0, reach: 630, impressions: 900, plays: 540 },
    });
    expect(mapFacebookPost({ post_media_view: 900, post_total_media_view_unique: 630 }, { reactions: 72, comments: 9, shares: 5 }, true)).toEqual({ kind: 'not-yet' });
    expect(mapFacebookPost(values, { reactions: 72, comments: 9, shares: 5 }, false)).toEqual({
      kind: 'available',
      metrics: { likes: 72, comments: 9, shares: 5, saves: 0, reach: 630, impressions: 900, plays: null },
    });
  });

  it('maps a Facebook reel: plays fill impressions and plays, unique impressions are its reach', () => {
    const values = { fb_reels_total_plays: 500, post_impressions_unique: 420 };
    expect(mapFacebookReel(values, { reactions: 30, comments: 4, shares: 2 })).toEqual({
      kind: 'available',
      metrics: { likes: 30, comments: 4, shares: 2, saves: 0, reach: 420, impressions: 500, plays: 500 },
    });
    expect(mapFacebookReel(values, { reactions: 30, comments: 4, shares: undefined })).toEqual({
      kind: 'available',
      metrics: { likes: 30, comments: 4, shares: 0, saves: 0, reach: 420, impressions: 500, plays: 500 },
    });
    expect(mapFacebookReel({ fb_reels_total_plays: 500 }, { reactions: 30, comments: 4, shares: 2 })).toEqual({ kind: 'not-yet' });
    expect(mapFacebookReel({ post_impressions_unique: 420 }, { reactions: 30, comments: 4, shares: 2 })).toEqual({ kind: 'not-yet' });
    expect(mapFacebookReel(values, { reactions: undefined, comments: 4, shares: 2 })).toEqual({ kind: 'not-yet' });
    expect(mapFacebookReel(values, { reactions: 30, comments: undefined, shares: 2 })).toEqual({ kind: 'not-yet' });
  });
});

describe('engagement rate', () => {
  const metrics = { likes: 80, comments: 10, shares: 5, saves: 20, reach: 700, impressions: 1000, plays: null };

  it('is (likes + comments + shares + saves) / reach x 100, two decimals', () => {
    expect(engagementRate(metrics)).toBe(16.43);
    expect(engagementRate({ ...metrics, likes: 1, comments: 0, shares: 0, saves: 0, reach: 3 })).toBe(33.33);
    expect(engagementRate({ ...metrics, likes: 2, comments: 0, shares: 0, saves: 0, reach: 3 })).toBe(66.67);
  });

  it('is 0 without reach', () => {
    expect(engagementRate({ ...metrics, reach: 0 })).toBe(0);
  });

  it('can pass 100 % and is capped at what DECIMAL(5,2) holds', () => {
    expect(engagementRate({ ...metrics, likes: 30, comments: 10, shares: 5, saves: 5, reach: 20 })).toBe(250);
    expect(MAX_ENGAGEMENT_RATE).toBe(999.99);
    expect(engagementRate({ ...metrics, likes: 10_000, comments: 0, shares: 0, saves: 0, reach: 1 })).toBe(999.99);
    expect(engagementRate({ ...metrics, likes: 9_999, comments: 0, shares: 0, saves: 0, reach: 1_000 })).toBe(999.9);
    expect(engagementRate({ ...metrics, likes: 1, comments: 1, shares: 1, saves: 1, reach: 1 })).toBe(400);
  });
});
