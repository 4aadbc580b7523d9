import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { TopPosts, TopPostsQuery } from '@postwire/api';
import { callerOf } from '@postwire/auth';
import { withCallerClaims } from '@postwire/db';
import { createMetricsRepository } from '../db/metrics-repository.ts';

export type TopPostsOptions = { readonly now?: () => Date };

/**
 * The seed's example query 3 as `GET /v1/analytics/top-posts?days=30&limit=10`: the caller's organisation's
 * posts published in the window, best engagement rate first. Runs as publisher_app with the caller's claims.
 */
export const topPostsRoutes: FastifyPluginAsyncZod<TopPostsOptions> = async (fastify, { now = () => new Date() }) => {
  fastify.get(
    '/analytics/top-posts',
    {
      onRequest: fastify.authenticate,
      schema: {
        tags: ['analytics'],
        summary: 'Best performing posts of a window, by engagement rate',
        description: 'Engagement rate = (likes + comments + shares + saves) / reach x 100; it can exceed 100 (see the publisher README).',
        querystring: TopPostsQuery,
        response: { 200: TopPosts },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const rows = await withCallerClaims(fastify.db, { sub: caller.userId, organisationId: caller.organisationId }, (connection) =>
        createMetricsRepository(connection).topPosts(caller.organisationId, request.query.days, request.query.limit, now()),
      );
      return {
        data: rows.map((row) => ({
          id: row.id,
          platform: row.platform,
          postType: row.post_type,
          caption: row.caption,
          publishedAt: row.published_at === null ? null : new Date(row.published_at).toISOString(),
          likes: row.likes_count ?? 0,
          comments: row.comments_count ?? 0,
          shares: row.shares_count ?? 0,
          reach: row.reach ?? 0,
          impressions: row.impressions ?? 0,
          engagementRate: row.engagement_rate,
          username: row.username,
        })),
      };
    },
  );
};
