import { createHash } from 'node:crypto';
import { HOUR } from './clock.ts';
import { GraphError, errors } from './errors.ts';

/**
 * Which insight metrics exist for which media, which Meta removed, and how values grow after publishing.
 * Growth is a deterministic, monotonic function of the media id and the sandbox time elapsed since publishing,
 * so tests can assert that values only ever rise.
 */
export type ProductType = 'FEED' | 'REELS' | 'STORY';

export const INSTAGRAM_METRICS = {
  views: ['FEED', 'REELS', 'STORY'],
  reach: ['FEED', 'REELS', 'STORY'],
  shares: ['FEED', 'REELS', 'STORY'],
  total_interactions: ['FEED', 'REELS', 'STORY'],
  reposts: ['FEED', 'REELS', 'STORY'],
  likes: ['FEED', 'REELS'],
  comments: ['FEED', 'REELS'],
  saved: ['FEED', 'REELS'],
  follows: ['FEED', 'STORY'],
  profile_visits: ['FEED', 'STORY'],
  profile_activity: ['FEED', 'STORY'],
  navigation: ['STORY'],
  replies: ['STORY'],
  ig_reels_avg_watch_time: ['REELS'],
  ig_reels_video_view_total_time: ['REELS'],
  reels_skip_rate: ['REELS'],
  // Current cross-app totals (Instagram plus the copy shared to Facebook); total_views only with Facebook Login.
  total_likes: ['FEED', 'REELS'],
  total_comments: ['FEED', 'REELS'],
  total_views: ['FEED', 'REELS'],
  facebook_views: ['FEED', 'REELS'],
  crossposted_views: ['FEED', 'REELS'],
} as const satisfies Record<string, readonly ProductType[]>;

export type InstagramMetric = keyof typeof INSTAGRAM_METRICS;

export const REMOVED_INSTAGRAM_METRICS: Readonly<Record<string, string>> = {
  impressions: 'impressions is no longer supported for media created after 2024-07-01 and was removed in v22.0 (all versions from 2025-04-21); use views',
  plays: 'plays was removed in v22.0 (all versions from 2025-04-21); use views',
  clips_replays_count: 'clips_replays_count was removed with plays; use views',
  ig_reels_aggregated_all_plays_count: 'ig_reels_aggregated_all_plays_count was removed with plays; use views',
  video_views: 'video_views was removed on 2025-01-08; use views',
  engagement: 'engagement is no longer supported; use total_interactions',
  carousel_album_impressions: 'carousel metrics are no longer supported',
  carousel_album_reach: 'carousel metrics are no longer supported',
  carousel_album_engagement: 'carousel metrics are no longer supported',
  carousel_album_saved: 'carousel metrics are no longer supported',
  carousel_album_video_views: 'carousel metrics are no longer supported',
};

const TITLES: Readonly<Record<string, [string, string]>> = {
  views: ['Views', 'The number of times the media was played or displayed.'],
  reach: ['Accounts reached', 'The number of unique accounts that saw the media at least once.'],
  shares: ['Shares', 'The number of shares of the media.'],
  total_interactions: ['Interactions', 'Likes, saves, comments and shares, minus un-likes, un-saves and deleted comments.'],
  reposts: ['Reposts', 'The number of times the media was reposted.'],
  likes: ['Likes', 'The number of likes on the media.'],
  comments: ['Comments', 'The number of comments on the media.'],
  saved: ['Saved', 'The number of saves of the media.'],
  follows: ['Follows', 'The number of accounts that started following after seeing the media.'],
  profile_visits: ['Profile visits', 'The number of times the profile was visited from the media.'],
  profile_activity: ['Profile activity', 'Actions people took on the profile after engaging with the media.'],
  navigation: ['Navigation', 'Forward, back, exit and next-story taps on the story.'],
  replies: ['Replies', 'The number of replies to the story.'],
  ig_reels_avg_watch_time: ['Average watch time', 'The average time spent playing the reel, in milliseconds.'],
  ig_reels_video_view_total_time: ['Total watch time', 'The total time the reel was played, in milliseconds.'],
  reels_skip_rate: ['Skip rate', 'The percentage of views that skipped the reel in the first 3 seconds.'],
  total_likes: ['Total likes', 'Likes on Instagram and on the copy shared to Facebook.'],
  total_comments: ['Total comments', 'Comments on Instagram and on the copy shared to Facebook.'],
  total_views: ['Total views', 'Views on Instagram and on Facebook.'],
  facebook_views: ['Facebook views', 'Views of the copy shared to Facebook.'],
  crossposted_views: ['Cross-posted views', 'Views of the media cross-posted to other apps.'],
};

/** Metrics that Instagram Login tokens cannot read. */
export const FACEBOOK_LOGIN_ONLY_METRICS: ReadonlySet<string> = new Set(['total_views']);

/** Validates a metric list for one media product type: one bad metric fails the whole request, as at Meta. */
export function resolveInstagramMetrics(requested: readonly string[], productType: ProductType): InstagramMetric[] {
  if (requested.length === 0) throw errors.missingParameter('metric');
  return requested.map((metric) => {
    const removed = REMOVED_INSTAGRAM_METRICS[metric];
    if (removed !== undefined) throw errors.invalidParameter(`metric[${requested.indexOf(metric)}]: ${removed}`);
    if (!(metric in INSTAGRAM_METRICS)) {
      throw errors.invalidParameter(
        `metric[${requested.indexOf(metric)}] must be one of the following values: ${Object.keys(INSTAGRAM_METRICS).join(', ')}`,
      );
    }
    const known = metric as InstagramMetric;
    const applies: readonly ProductType[] = INSTAGRAM_METRICS[known];
    if (!applies.includes(productType)) {
      throw errors.invalidParameter(`The Media Insights API does not support the ${metric} metric for this media product type (${productType}).`);
    }
    return known;
  });
}

export function metricTitle(metric: string): { title: string; description: string } {
  const [title, description] = TITLES[metric] ?? [metric, metric];
  return { title, description };
}

const GROWTH_TIME_CONSTANT_MS = 6 * HOUR;

function seeded(seed: string, salt: string, min: number, max: number): number {
  const digest = createHash('sha256').update(seed).update(salt).digest();
  return min + (digest.readUInt32BE(0) % (max - min + 1));
}

/** Views reached after `elapsedMs`: 0 at publish time, saturating towards a per-media peak. */
export function viewsAt(seed: string, elapsedMs: number): number {
  if (elapsedMs <= 0) return 0;
  const peak = seeded(seed, 'peak', 400, 5_000);
  return Math.floor(peak * (1 - Math.exp(-elapsedMs / GROWTH_TIME_CONSTANT_MS)));
}

const RATIOS: Readonly<Record<string, number>> = {
  reach: 0.7,
  likes: 0.08,
  comments: 0.01,
  saved: 0.02,
  shares: 0.01,
  reposts: 0.004,
  follows: 0.005,
  profile_visits: 0.03,
  profile_activity: 0.02,
  navigation: 0.5,
  replies: 0.01,
  facebook: 0.1,
  facebookLikes: 0.005,
};

/** The value of one metric; `extraComments` adds comments made through the API. */
export function instagramMetricValue(metric: InstagramMetric, seed: string, elapsedMs: number, extraComments = 0): number {
  const views = viewsAt(seed, elapsedMs);
  const part = (name: string) => Math.floor(views * (RATIOS[name] ?? 0));
  switch (metric) {
    case 'views':
      return views;
    case 'comments':
      return part('comments') + extraComments;
    case 'total_interactions':
      return part('likes') + part('comments') + extraComments + part('saved') + part('shares');
    case 'ig_reels_avg_watch_time':
      return views === 0 ? 0 : seeded(seed, 'watch', 3_000, 14_000);
    case 'ig_reels_video_view_total_time':
      return views * seeded(seed, 'watch', 3_000, 14_000);
    case 'reels_skip_rate':
      return views === 0 ? 0 : seeded(seed, 'skip', 10, 60);
    case 'facebook_views':
    case 'crossposted_views':
      return part('facebook');
    case 'total_views':
      return views + part('facebook');
    case 'total_likes':
      return part('likes') + part('facebookLikes');
    case 'total_comments':
      return part('comments') + extraComments;
    default:
      return part(metric);
  }
}

/** Facebook Page post insights. */
export const FACEBOOK_POST_METRICS = [
  'post_media_view',
  'post_total_media_view_unique',
  'post_clicks',
  'post_reactions_by_type_total',
  'post_video_views',
] as const;

export type FacebookPostMetric = (typeof FACEBOOK_POST_METRICS)[number];

export const REMOVED_FACEBOOK_METRICS: Readonly<Record<string, string>> = {
  post_impressions: 'post_impressions was replaced by post_media_view on 2025-11-15',
  post_impressions_unique: 'post_impressions_unique was replaced by post_total_media_view_unique',
  post_engaged_users: 'post_engaged_users is no longer supported',
  post_impressions_organic: 'post_impressions_organic was replaced by post_media_view',
};

export function resolveFacebookMetrics(requested: readonly string[]): FacebookPostMetric[] {
  if (requested.length === 0) throw errors.missingParameter('metric');
  return requested.map((metric, index) => {
    const removed = REMOVED_FACEBOOK_METRICS[metric];
    if (removed !== undefined) throw errors.invalidParameter(`metric[${index}]: ${removed}`);
    if (!(FACEBOOK_POST_METRICS as readonly string[]).includes(metric)) {
      throw new GraphError({
        code: 100,
        message: `(#100) The value must be a valid insights metric: metric[${index}] must be one of ${FACEBOOK_POST_METRICS.join(', ')}`,
      });
    }
    return metric as FacebookPostMetric;
  });
}

/** `GET /{video-id}/video_insights`: Page videos and reels each have their own metric set. */
export const VIDEO_INSIGHT_METRICS = {
  video: ['total_video_views', 'total_video_impressions', 'total_video_avg_time_watched', 'total_video_view_total_time'],
  reel: ['blue_reels_play_count', 'fb_reels_total_plays', 'fb_reels_replay_count', 'post_video_avg_time_watched', 'post_impressions_unique'],
} as const;

export function resolveVideoMetrics(requested: readonly string[], kind: 'video' | 'reel'): string[] {
  const known: readonly string[] = VIDEO_INSIGHT_METRICS[kind];
  if (requested.length === 0) return [...known];
  return requested.map((metric, index) => {
    if (!known.includes(metric)) {
      throw errors.invalidParameter(`metric[${index}] must be one of the following values for this ${kind}: ${known.join(', ')}`);
    }
    return metric;
  });
}

export function videoMetricValue(metric: string, seed: string, elapsedMs: number): number {
  const views = viewsAt(seed, elapsedMs);
  switch (metric) {
    case 'total_video_impressions':
    case 'post_impressions_unique':
      return Math.floor(views * 1.4);
    case 'total_video_avg_time_watched':
    case 'post_video_avg_time_watched':
      return views === 0 ? 0 : seeded(seed, 'watch', 3_000, 14_000);
    case 'total_video_view_total_time':
      return views * seeded(seed, 'watch', 3_000, 14_000);
    case 'fb_reels_replay_count':
      return Math.floor(views * 0.1);
    default:
      return views;
  }
}

export type ReactionCounts = { like: number; love: number; wow: number; haha: number; sorry: number; anger: number };

export function facebookPostCounts(seed: string, elapsedMs: number, isVideo: boolean) {
  const views = viewsAt(seed, elapsedMs);
  const reactions: ReactionCounts = {
    like: Math.floor(views * 0.05),
    love: Math.floor(views * 0.02),
    wow: Math.floor(views * 0.004),
    haha: Math.floor(views * 0.004),
    sorry: Math.floor(views * 0.001),
    anger: Math.floor(views * 0.001),
  };
  return {
    mediaViews: views,
    uniqueViews: Math.floor(views * 0.7),
    clicks: Math.floor(views * 0.03),
    videoViews: isVideo ? Math.floor(views * 0.6) : 0,
    reactions,
    reactionsTotal: Object.values(reactions).reduce((sum, count) => sum + count, 0),
    comments: Math.floor(views * 0.01),
    shares: Math.floor(views * 0.006),
  };
}
