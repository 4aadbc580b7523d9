import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AnalyticsSummary, PostIdParams, SnapshotSeries, SummaryQuery, TopPosts, TopPostsQuery } from '@postwire/api';
import { callerOf } from '@postwire/auth';
import { analyticsRequests } from '@postwire/contracts';
import { provisionTopics } from '@postwire/kafka';
import { ProblemError, formatTraceparent } from '@postwire/service-kit';
import { parseJson, sendJson } from '../plugins/upstream.ts';
import { jsonResponse, locationHeader, problemResponse, problemResponses } from './problem-docs.ts';

export type AnalyticsRouteOptions = {
  readonly analyticsUrl: string;
  readonly publisherUrl: string;
  readonly partitions: number;
  readonly now?: () => Date;
};

const RefreshAccepted = z
  .object({ status: z.literal('accepted'), postId: z.uuid() })
  .meta({ examples: [{ status: 'accepted', postId: '8d3c2a6e-1f4b-4c2d-9e0f-1a2b3c4d5e6f' }] });
const readProblems = problemResponses(502, 503, 504);

/**
 * Insights: snapshots and the organisation summary from the analytics service, top posts from the publisher
 * (which owns the analytics columns), and the on-demand refresh, which becomes `post.insights-refresh-requested`.
 */
export const analyticsRoutes: FastifyPluginAsyncZod<AnalyticsRouteOptions> = async (fastify, { analyticsUrl, publisherUrl, partitions, now = () => new Date() }) => {
  // The refresh topic may not exist yet when analytics has not started: publishing would fail.
  await provisionTopics(fastify.kafka.client, { topics: [analyticsRequests.name], partitions });

  fastify.get(
    '/posts/:postId/snapshots',
    {
      schema: {
        tags: ['analytics'],
        operationId: 'listPostSnapshots',
        summary: "A post's insight snapshots as a time series",
        description: 'Synced after publishing at +1 h, +6 h, +24 h, +72 h, +7 d and +28 d (stories within their 24 h), and on demand.',
        params: PostIdParams,
        response: { 200: jsonResponse(SnapshotSeries, 'The snapshots, oldest first'), ...problemResponses(404), ...readProblems },
      },
    },
    async (request, reply) => sendJson(reply, await fastify.forwardRead(analyticsUrl, { path: `/v1/posts/${request.params.postId}/snapshots` }, request)),
  );

  fastify.get(
    '/analytics/summary',
    {
      schema: {
        tags: ['analytics'],
        operationId: 'getAnalyticsSummary',
        summary: 'Totals and trends per platform and post type over a window, with the window before it',
        description: 'Reach, impressions and interactions of the posts published in the last `days` days, per platform and post type, each beside the same window before it and the change in percent.',
        querystring: SummaryQuery,
        response: { 200: jsonResponse(AnalyticsSummary, 'The totals per group'), ...readProblems },
      },
    },
    async (request, reply) => sendJson(reply, await fastify.forwardRead(analyticsUrl, { path: '/v1/analytics/summary', query: request.query }, request)),
  );

  fastify.get(
    '/analytics/top-posts',
    {
      schema: {
        tags: ['analytics'],
        operationId: 'listTopPosts',
        summary: 'Best performing posts of a window, by engagement rate',
        description: 'Engagement rate = (likes + comments + shares + saves) / reach x 100; it can exceed 100 when interactions outnumber the accounts reached.',
        querystring: TopPostsQuery,
        response: { 200: jsonResponse(TopPosts, 'The posts, best first'), ...readProblems },
      },
    },
    async (request, reply) => sendJson(reply, await fastify.forwardRead(publisherUrl, { path: '/v1/analytics/top-posts', query: request.query }, request)),
  );

  fastify.post(
    '/posts/:postId/insights/refresh',
    {
      schema: {
        tags: ['analytics'],
        operationId: 'refreshPostInsights',
        summary: "Read a published post's insights now",
        description:
          'Accepted at once (202); the snapshot follows within seconds (see the Location). One refresh per post per cooldown ' +
          '(15 min by default): inside it the answer is 429 with Retry-After.',
        params: PostIdParams,
        response: {
          202: jsonResponse(RefreshAccepted, 'Accepted: the snapshot follows within seconds', locationHeader("The post's snapshots: /v1/posts/{postId}/snapshots")),
          ...problemResponses(404),
          409: problemResponse(409, 'Meta no longer gives insights for this post (`insights-unavailable`)'),
          429: {
            ...problemResponse(429, 'Refreshed recently (`refresh-too-soon`): wait as Retry-After says'),
            headers: { 'Retry-After': { type: 'integer', description: 'Seconds until a refresh is allowed' } },
          },
          ...readProblems,
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { postId } = request.params;
      // Only a post the caller can see may be refreshed, and the event is keyed by its account: ask its owner.
      const series = await fastify.forwardRead(analyticsUrl, { path: `/v1/posts/${postId}/snapshots` }, request);
      const parsed = SnapshotSeries.safeParse(parseJson(series));
      if (!parsed.success) throw new ProblemError(502, 'upstream-failed', 'Bad Gateway', 'The analytics service answered something unexpected. Try again.');
      const { refreshAvailableAt, syncsStoppedReason, socialAccountId } = parsed.data;
      if (syncsStoppedReason !== null) {
        throw new ProblemError(409, 'insights-unavailable', 'Insights unavailable', `Meta no longer gives insights for this post (${syncsStoppedReason}).`);
      }
      if (refreshAvailableAt !== null) {
        const waitSeconds = Math.max(1, Math.ceil((new Date(refreshAvailableAt).getTime() - now().getTime()) / 1000));
        reply.header('retry-after', String(waitSeconds));
        throw new ProblemError(429, 'refresh-too-soon', 'Too Many Requests', `This post was refreshed recently; try again after ${refreshAvailableAt}.`);
      }
      await fastify.kafka.producer.publish(analyticsRequests, [
        {
          type: 'post.insights-refresh-requested',
          data: { postId, socialAccountId },
          metadata: {
            organisationId: caller.organisationId,
            actorId: caller.userId,
            correlationId: request.correlationId,
            traceparent: formatTraceparent(request.traceContext),
          },
        },
      ]);
      request.log.info({ postId }, 'insights refresh requested');
      return reply.code(202).header('location', `/v1/posts/${postId}/snapshots`).send({ status: 'accepted', postId });
    },
  );
};
