/**
 * Which insights are asked for which post, and how Meta's answer becomes the seed's snapshot columns
 * (shared/reference/meta-graph-api.md §4). Pure functions.
 *
 * Instagram: only the metrics Meta documents for the media's product type, never a removed one (asking for one
 * that does not apply fails the whole request with 100). `views` replaced `impressions` and `plays`, so it fills
 * both seed columns. Facebook posts: `post_media_view` (replaced `post_impressions`) and
 * `post_total_media_view_unique` (replaced `post_impressions_unique`), with reaction, comment and share counts
 * from the post's fields. Facebook reels: `video_insights`.
 */
import type { PostType } from './schedule.ts';

export type Platform = 'instagram' | 'facebook';

/** Instagram media metrics Meta removed (the sandbox refuses them with 100): never asked for. */
export const REMOVED_INSTAGRAM_METRICS: readonly string[] = [
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
];

/**
 * Facebook post insights Meta replaced: never asked of a post. (`post_impressions_unique` lives on as a
 * `video_insights` metric of reels, which is where it is asked.)
 */
export const REMOVED_FACEBOOK_POST_METRICS: readonly string[] = [
  'post_impressions',
  'post_impressions_unique',
  'post_engaged_users',
  'post_impressions_organic',
];

/** FEED (feed images and carousel parents) and REELS share these; Meta lists each for both. */
export const INSTAGRAM_FEED_METRICS = ['views', 'reach', 'likes', 'comments', 'saved', 'shares'] as const;
/** Stories have no likes, comments or saves; replies are their comments. */
export const INSTAGRAM_STORY_METRICS = ['views', 'reach', 'shares', 'replies'] as const;
export const FACEBOOK_POST_METRICS = ['post_media_view', 'post_total_media_view_unique'] as const;
/** A Facebook reel read through its post: the post metrics plus its video views. */
export const FACEBOOK_VIDEO_POST_METRICS = ['post_media_view', 'post_total_media_view_unique', 'post_video_views'] as const;
/** A Facebook reel read through its video (when the id we hold names the video): `video_insights`. */
export const FACEBOOK_REEL_METRICS = ['fb_reels_total_plays', 'post_impressions_unique'] as const;
/** Counts Facebook gives as fields of the post, not as insights. */
export const FACEBOOK_COUNT_FIELDS = 'reactions.summary(total_count).limit(0),comments.summary(true).limit(0),shares';

export type InsightPlan =
  | { readonly source: 'instagram-media'; readonly metrics: readonly string[] }
  | { readonly source: 'facebook-post'; readonly metrics: readonly string[] }
  | { readonly source: 'facebook-reel'; readonly metrics: readonly string[]; readonly videoMetrics: readonly string[] }
  | { readonly source: 'none'; readonly reason: string };

/** What to ask Meta for one post. A carousel is asked about as a whole (its children have no insights). */
export function insightPlan(platform: Platform, postType: PostType): InsightPlan {
  if (platform === 'instagram') {
    return { source: 'instagram-media', metrics: postType === 'story' ? INSTAGRAM_STORY_METRICS : INSTAGRAM_FEED_METRICS };
  }
  if (postType === 'story') return { source: 'none', reason: 'facebook-stories-have-no-insights' };
  if (postType === 'reel') return { source: 'facebook-reel', metrics: FACEBOOK_VIDEO_POST_METRICS, videoMetrics: FACEBOOK_REEL_METRICS };
  return { source: 'facebook-post', metrics: FACEBOOK_POST_METRICS };
}

/** The seed's snapshot figures (the contracts' PostMetrics). */
export type SnapshotMetrics = {
  readonly likes: number;
  readonly comments: number;
  readonly shares: number;
  readonly saves: number;
  readonly reach: number;
  readonly impressions: number;
  /** Video plays; null where the post is not a video. */
  readonly plays: number | null;
};

export type InsightValues = Readonly<Record<string, number | undefined>>;
export type FacebookCounts = { readonly reactions: number | undefined; readonly comments: number | undefined; readonly shares: number | undefined };

export type MappedInsights = { readonly kind: 'available'; readonly metrics: SnapshotMetrics } | { readonly kind: 'not-yet' };

const NOT_YET: MappedInsights = { kind: 'not-yet' };

/** Every wanted metric has a value: Meta answers an empty list (or leaves metrics out) while data lags. */
function complete(values: InsightValues, wanted: readonly string[]): boolean {
  return wanted.every((name) => typeof values[name] === 'number');
}

const value = (values: InsightValues, name: string): number => values[name] ?? 0;

/**
 * Meta's answer -> snapshot figures, or "not yet" when any metric is missing: missing data is never read as 0.
 * Where a metric does not exist for the post type at all (a story's likes and saves, a Facebook post's saves),
 * the column is 0: the seed's columns are NOT NULL and nobody could have liked or saved it through that channel.
 */
export function mapInstagram(postType: PostType, values: InsightValues): MappedInsights {
  if (postType === 'story') {
    if (!complete(values, INSTAGRAM_STORY_METRICS)) return NOT_YET;
    return {
      kind: 'available',
      metrics: { likes: 0, comments: value(values, 'replies'), shares: value(values, 'shares'), saves: 0, reach: value(values, 'reach'), impressions: value(values, 'views'), plays: null },
    };
  }
  if (!complete(values, INSTAGRAM_FEED_METRICS)) return NOT_YET;
  const views = value(values, 'views');
  return {
    kind: 'available',
    metrics: {
      likes: value(values, 'likes'),
      comments: value(values, 'comments'),
      shares: value(values, 'shares'),
      saves: value(values, 'saved'),
      reach: value(values, 'reach'),
      impressions: views,
      plays: postType === 'reel' ? views : null,
    },
  };
}

/**
 * A Facebook post: `post_media_view` -> impressions, `post_total_media_view_unique` -> reach, reactions -> likes,
 * and for a reel `post_video_views` -> plays. Meta leaves `shares` out while it is zero, so an absent share count
 * is 0; absent reactions or comments are not.
 */
export function mapFacebookPost(values: InsightValues, counts: FacebookCounts, video = false): MappedInsights {
  if (!complete(values, video ? FACEBOOK_VIDEO_POST_METRICS : FACEBOOK_POST_METRICS) || counts.reactions === undefined || counts.comments === undefined) return NOT_YET;
  return {
    kind: 'available',
    metrics: {
      likes: counts.reactions,
      comments: counts.comments,
      shares: counts.shares ?? 0,
      saves: 0,
      reach: value(values, 'post_total_media_view_unique'),
      impressions: value(values, 'post_media_view'),
      plays: video ? value(values, 'post_video_views') : null,
    },
  };
}

/** A Facebook reel read through its video: plays fill impressions and plays (as views do on Instagram), unique impressions are its reach. */
export function mapFacebookReel(values: InsightValues, counts: FacebookCounts): MappedInsights {
  if (!complete(values, FACEBOOK_REEL_METRICS) || counts.reactions === undefined || counts.comments === undefined) return NOT_YET;
  const plays = value(values, 'fb_reels_total_plays');
  return {
    kind: 'available',
    metrics: {
      likes: counts.reactions,
      comments: counts.comments,
      shares: counts.shares ?? 0,
      saves: 0,
      reach: value(values, 'post_impressions_unique'),
      impressions: plays,
      plays,
    },
  };
}

/** The largest value DECIMAL(5,2) holds. */
export const MAX_ENGAGEMENT_RATE = 999.99;

/**
 * The seed's calculate_engagement_rate on a snapshot: (likes + comments + shares + saves) / reach x 100, two
 * decimals, 0 without reach. It can pass 100 %: reach counts unique accounts, interactions do not (one account
 * likes, comments and shares), and shares and saves come from people outside the reach figure's window. Capped
 * at what DECIMAL(5,2) holds rather than failing the write.
 */
export function engagementRate(metrics: SnapshotMetrics): number {
  if (metrics.reach <= 0) return 0;
  const engagement = metrics.likes + metrics.comments + metrics.shares + metrics.saves;
  return Math.min(Math.round((engagement / metrics.reach) * 100 * 100) / 100, MAX_ENGAGEMENT_RATE);
}
