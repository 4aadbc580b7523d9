import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AnalyticsSummary, PostIdParams, SnapshotSeries, SummaryQuery } from '@postwire/api';
import { type Caller, callerOf } from '@postwire/auth';
import { type DatabaseTransactionConnection, withCallerClaims } from '@postwire/db';
import { ProblemError } from '@postwire/service-kit';
import type { SummaryRow } from '../db/snapshots-repository.ts';
import { createSnapshotsRepository } from '../db/snapshots-repository.ts';
import { createTrackedPostsRepository } from '../db/tracked-posts-repository.ts';
import { DAY_MS, refreshAllowedAt } from '../domain/schedule.ts';

export type AnalyticsRoutesOptions = { readonly now: () => Date; readonly refreshCooldownMs: number };

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Percent change from `before` to `after`; null without a base to compare with. */
export function percentChange(before: number, after: number): number | null {
  if (before === 0) return null;
  return Math.round(((after - before) / before) * 10_000) / 100;
}

function totals(row: SummaryRow | undefined) {
  return {
    posts: row?.posts ?? 0,
    likes: row?.likes ?? 0,
    comments: row?.comments ?? 0,
    shares: row?.shares ?? 0,
    saves: row?.saves ?? 0,
    reach: row?.reach ?? 0,
    impressions: row?.impressions ?? 0,
    plays: row?.plays ?? 0,
    averageEngagementRate: row?.average_engagement_rate ?? null,
  };
}

/**
 * The analytics read API. The gateway forwards the caller's bearer token; it is verified again here, and every
 * query runs as analytics_app with the caller's claims, so the seed's RLS policies have the last word.
 */
export const analyticsRoutes: FastifyPluginAsyncZod<AnalyticsRoutesOptions> = async (fastify, { now, refreshCooldownMs }) => {
  fastify.addHook('onRequest', fastify.authenticate);

  const asCaller = <T>(caller: Caller, work: (connection: DatabaseTransactionConnection) => Promise<T>) =>
    withCallerClaims(fastify.db, { sub: caller.userId, organisationId: caller.organisationId }, work);

  fastify.get(
    '/posts/:postId/snapshots',
    { schema: { tags: ['analytics'], summary: "A post's insight snapshots as a time series", params: PostIdParams, response: { 200: SnapshotSeries } } },
    async (request) => {
      const caller = callerOf(request);
      const found = await asCaller(caller, async (connection) => {
        const post = await createTrackedPostsRepository(connection).get(request.params.postId);
        if (post === null) return null;
        return { post, snapshots: await createSnapshotsRepository(connection).forPost(post.id) };
      });
      if (found === null) throw new ProblemError(404, 'post-not-found', 'Post not found', `No published post ${request.params.postId} in your organisation.`);
      const { post, snapshots } = found;
      const allowed = refreshAllowedAt(post.last_refresh_requested_at === null ? null : new Date(post.last_refresh_requested_at), refreshCooldownMs, now());
      return {
        postId: post.id,
        socialAccountId: post.social_account_id,
        platform: post.platform,
        postType: post.post_type,
        publishedAt: iso(post.published_at),
        syncsStoppedReason: post.syncs_stopped_reason,
        refreshAvailableAt: allowed === undefined ? null : allowed.toISOString(),
        data: snapshots.map((row) => ({
          id: row.id,
          postId: row.post_id,
          likes: row.likes_count,
          comments: row.comments_count,
          shares: row.shares_count,
          saves: row.saves_count,
          reach: row.reach,
          impressions: row.impressions,
          plays: row.plays_count,
          engagementRate: row.engagement_rate,
          snapshotAt: new Date(row.snapshot_at).toISOString(),
          hoursSincePublished: row.hours_since_published,
        })),
      };
    },
  );

  fastify.get(
    '/analytics/summary',
    {
      schema: {
        tags: ['analytics'],
        summary: 'Totals and trends per platform and post type over a window, with the window before it',
        description: "Each post counts once, with its latest snapshot, in the window it was published in.",
        querystring: SummaryQuery,
        response: { 200: AnalyticsSummary },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const to = now();
      const from = new Date(to.getTime() - request.query.days * DAY_MS);
      const previousFrom = new Date(from.getTime() - request.query.days * DAY_MS);
      const rows = await asCaller(caller, (connection) => createSnapshotsRepository(connection).summary(caller.organisationId, from, to));
      const keys = [...new Set(rows.map((row) => `${row.platform}:${row.post_type}`))].sort();
      const groups = keys.map((key) => {
        const [platform, postType] = key.split(':') as ['instagram' | 'facebook', 'feed' | 'reel' | 'story' | 'carousel'];
        const pick = (window: 'current' | 'previous') => rows.find((row) => row.platform === platform && row.post_type === postType && row.window === window);
        const current = totals(pick('current'));
        const previous = totals(pick('previous'));
        const engagement = (t: typeof current) => t.likes + t.comments + t.shares + t.saves;
        return {
          platform,
          postType,
          current,
          previous,
          change: {
            reach: percentChange(previous.reach, current.reach),
            impressions: percentChange(previous.impressions, current.impressions),
            engagement: percentChange(engagement(previous), engagement(current)),
          },
        };
      });
      return { from: from.toISOString(), to: to.toISOString(), previousFrom: previousFrom.toISOString(), groups };
    },
  );
};
