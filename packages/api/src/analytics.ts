import { z } from 'zod';
import { Platform, PostType } from '@postwire/contracts';

const Instant = z.iso.datetime({ offset: true });

/** One stored snapshot of a post's insights (the seed's social_media_analytics_snapshots row). */
export const SnapshotResource = z.object({
  id: z.uuid(),
  postId: z.uuid(),
  likes: z.int(),
  comments: z.int(),
  shares: z.int(),
  saves: z.int(),
  reach: z.int(),
  impressions: z.int().describe("Meta's `views` for Instagram media, `post_media_view` for Facebook posts"),
  plays: z.int().nullable().describe('Video plays (reels); null for images'),
  engagementRate: z.number().nullable().describe('(likes + comments + shares + saves) / reach x 100; can exceed 100'),
  snapshotAt: Instant,
  hoursSincePublished: z.int().nullable(),
});

/** A post's snapshots, oldest first, with what is known about its syncs. */
export const SnapshotSeries = z.object({
  postId: z.uuid(),
  socialAccountId: z.uuid(),
  platform: Platform,
  postType: PostType,
  publishedAt: Instant.nullable(),
  syncsStoppedReason: z.string().nullable().describe('Set when Meta refused the insights for good (deleted media, permission gone)'),
  refreshAvailableAt: Instant.nullable().describe('When the next on-demand refresh is allowed; null: now'),
  data: z.array(SnapshotResource),
});

export const SummaryQuery = z.object({
  days: z.coerce.number().int().min(1).max(365).default(30).describe('The window: the last N days, compared with the N days before'),
});

const Totals = z.object({
  posts: z.int(),
  likes: z.int(),
  comments: z.int(),
  shares: z.int(),
  saves: z.int(),
  reach: z.int(),
  impressions: z.int(),
  plays: z.int(),
  averageEngagementRate: z.number().nullable(),
});

/** Totals per platform and post type over a window, each with the window before it and the change. */
export const AnalyticsSummary = z.object({
  from: Instant,
  to: Instant,
  previousFrom: Instant,
  groups: z.array(
    z.object({
      platform: Platform,
      postType: PostType,
      current: Totals,
      previous: Totals,
      change: z.object({
        reach: z.number().nullable().describe('Percent change against the previous window; null when it had none'),
        impressions: z.number().nullable(),
        engagement: z.number().nullable().describe('Change of likes + comments + shares + saves, percent'),
      }),
    }),
  ),
});

export const TopPostsQuery = z.object({
  days: z.coerce.number().int().min(1).max(365).default(30),
  limit: z.coerce.number().int().min(1).max(100).default(10),
});

/** The seed's example query 3: published posts of the window by engagement rate. */
export const TopPosts = z.object({
  data: z.array(
    z.object({
      id: z.uuid(),
      platform: Platform,
      postType: PostType,
      caption: z.string().nullable(),
      publishedAt: Instant.nullable(),
      likes: z.int(),
      comments: z.int(),
      shares: z.int(),
      reach: z.int(),
      impressions: z.int(),
      engagementRate: z.number().nullable(),
      username: z.string().nullable(),
    }),
  ),
});
