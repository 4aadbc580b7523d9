import { type CommonQueryMethods, sql } from '@postwire/db';
import { z } from 'zod';

const posts = sql.identifier(['publisher', 'social_media_posts']);

const Applied = z.object({
  id: z.string(),
  organisation_id: z.string(),
  social_account_id: z.string(),
  engagement_rate: z.coerce.number().nullable(),
});

const TopPost = z.object({
  id: z.string(),
  platform: z.enum(['instagram', 'facebook']),
  post_type: z.enum(['feed', 'reel', 'story', 'carousel']),
  caption: z.string().nullable(),
  published_at: z.number().nullable(),
  likes_count: z.number().nullable(),
  comments_count: z.number().nullable(),
  shares_count: z.number().nullable(),
  reach: z.number().nullable(),
  impressions: z.number().nullable(),
  engagement_rate: z.coerce.number().nullable(),
  username: z.string().nullable(),
});
export type TopPost = z.infer<typeof TopPost>;

export type SyncedMetrics = {
  readonly likes: number;
  readonly comments: number;
  readonly shares: number;
  readonly saves: number;
  readonly reach: number;
  readonly impressions: number;
  readonly plays: number | null;
};

/** The analytics columns of social_media_posts (applied from post.metrics-synced) and query 3; pool or transaction alike. */
export function createMetricsRepository(connection: CommonQueryMethods) {
  return {
    /**
     * Applies a snapshot to the post's columns when it is newer than what they hold (snapshots can arrive out of
     * order: an on-demand refresh and a scheduled sync race), then recomputes engagement_rate with the seed's
     * calculate_engagement_rate. Null when nothing changed (unknown, deleted or newer data already stored).
     */
    async applySynced(postId: string, metrics: SyncedMetrics, syncedAt: Date) {
      const applied = await connection.maybeOne(sql.type(z.object({ id: z.string() }))`
        UPDATE ${posts}
           SET likes_count = ${metrics.likes}, comments_count = ${metrics.comments}, shares_count = ${metrics.shares},
               saves_count = ${metrics.saves}, reach = ${metrics.reach}, impressions = ${metrics.impressions},
               plays_count = COALESCE(${metrics.plays}, plays_count),
               last_analytics_sync = ${sql.timestamp(syncedAt)}, analytics_available = true
         WHERE id = ${postId}
           AND status = 'published'
           AND (last_analytics_sync IS NULL OR last_analytics_sync < ${sql.timestamp(syncedAt)})
        RETURNING id
      `);
      if (applied === null) return null;
      return connection.one(sql.type(Applied)`
        UPDATE ${posts} SET engagement_rate = publisher.calculate_engagement_rate(id)
         WHERE id = ${postId}
        RETURNING id, organisation_id, social_account_id, engagement_rate
      `);
    },

    /**
     * The seed's example query 3: the organisation's posts published in the last `days`, by engagement rate.
     * Runs under the caller's claims (RLS on the posts; the username through publisher.account_username, which
     * answers for the caller's organisation only); the organisation filter is the seed's own.
     */
    async topPosts(organisationId: string, days: number, limit: number, now: Date) {
      return connection.any(sql.type(TopPost)`
        SELECT p.id, p.platform, p.post_type, p.caption, p.published_at, p.likes_count, p.comments_count, p.shares_count,
               p.reach, p.impressions, p.engagement_rate, publisher.account_username(p.social_account_id) AS username
          FROM ${posts} p
         WHERE p.organisation_id = ${organisationId}
           AND p.status = 'published'
           AND p.published_at >= ${sql.timestamp(now)} - make_interval(days => ${days})
         ORDER BY p.engagement_rate DESC NULLS LAST, p.published_at DESC
         LIMIT ${limit}
      `);
    },
  };
}
