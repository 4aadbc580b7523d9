import { type CommonQueryMethods, sql } from '@postwire/db';
import { z } from 'zod';
import type { SnapshotMetrics } from '../domain/insights.ts';
import { SnapshotRow } from './rows.ts';

const snapshots = sql.identifier(['analytics', 'social_media_analytics_snapshots']);
const posts = sql.identifier(['analytics', 'tracked_posts']);
const columns = sql.fragment`s.id, s.post_id, s.likes_count, s.comments_count, s.shares_count, s.saves_count, s.reach, s.impressions,
  s.plays_count, s.engagement_rate, s.snapshot_at, s.hours_since_published`;

export const SummaryRow = z.object({
  platform: z.string(),
  post_type: z.string(),
  window: z.enum(['current', 'previous']),
  posts: z.coerce.number(),
  likes: z.coerce.number(),
  comments: z.coerce.number(),
  shares: z.coerce.number(),
  saves: z.coerce.number(),
  reach: z.coerce.number(),
  impressions: z.coerce.number(),
  plays: z.coerce.number(),
  average_engagement_rate: z.coerce.number().nullable(),
});
export type SummaryRow = z.infer<typeof SummaryRow>;

/** Snapshots of the seed's table; pool or transaction alike (reads under the caller's claims: RLS decides). */
export function createSnapshotsRepository(connection: CommonQueryMethods) {
  return {
    async insert(input: { postId: string; metrics: SnapshotMetrics; engagementRate: number; snapshotAt: Date; hoursSincePublished: number }): Promise<string> {
      const { metrics } = input;
      return connection.oneFirst(sql.type(z.object({ id: z.string() }))`
        INSERT INTO ${snapshots} (post_id, likes_count, comments_count, shares_count, saves_count, reach, impressions, plays_count,
                                  engagement_rate, snapshot_at, hours_since_published)
        VALUES (${input.postId}, ${metrics.likes}, ${metrics.comments}, ${metrics.shares}, ${metrics.saves}, ${metrics.reach},
                ${metrics.impressions}, ${metrics.plays}, ${input.engagementRate}, ${sql.timestamp(input.snapshotAt)}, ${input.hoursSincePublished})
        RETURNING id
      `);
    },

    /** A post's time series, oldest first. */
    async forPost(postId: string) {
      return connection.any(sql.type(SnapshotRow)`
        SELECT ${columns} FROM ${snapshots} s WHERE s.post_id = ${postId} ORDER BY s.snapshot_at, s.created_at
      `);
    },

    /**
     * Totals per platform and post type over [from, to) and the window before it, from each post's latest
     * snapshot (snapshots are cumulative: summing them would count a post several times). Posts count in the
     * window they were published in.
     */
    async summary(organisationId: string, from: Date, to: Date) {
      const span = to.getTime() - from.getTime();
      const previousFrom = new Date(from.getTime() - span);
      return connection.any(sql.type(SummaryRow)`
        WITH latest AS (
          SELECT DISTINCT ON (s.post_id) s.post_id, s.likes_count, s.comments_count, s.shares_count, s.saves_count, s.reach, s.impressions,
                 s.plays_count, s.engagement_rate
            FROM ${snapshots} s
           ORDER BY s.post_id, s.snapshot_at DESC, s.created_at DESC
        )
        SELECT p.platform, p.post_type,
               CASE WHEN p.published_at >= ${sql.timestamp(from)} THEN 'current' ELSE 'previous' END AS window,
               count(*) AS posts,
               coalesce(sum(l.likes_count), 0) AS likes, coalesce(sum(l.comments_count), 0) AS comments,
               coalesce(sum(l.shares_count), 0) AS shares, coalesce(sum(l.saves_count), 0) AS saves,
               coalesce(sum(l.reach), 0) AS reach, coalesce(sum(l.impressions), 0) AS impressions,
               coalesce(sum(l.plays_count), 0) AS plays,
               round(avg(l.engagement_rate), 2) AS average_engagement_rate
          FROM ${posts} p
          JOIN latest l ON l.post_id = p.id
         WHERE p.organisation_id = ${organisationId}
           AND p.published_at >= ${sql.timestamp(previousFrom)} AND p.published_at < ${sql.timestamp(to)}
         GROUP BY 1, 2, 3
         ORDER BY 1, 2, 3
      `);
    },
  };
}
