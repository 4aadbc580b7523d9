import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from '../context.ts';
import { DAY } from '../domain/clock.ts';
import { errors } from '../domain/errors.ts';
import {
  FACEBOOK_LOGIN_ONLY_METRICS,
  facebookPostCounts,
  resolveVideoMetrics,
  videoMetricValue,
  instagramMetricValue,
  metricTitle,
  resolveFacebookMetrics,
  resolveInstagramMetrics,
  viewsAt,
} from '../domain/insights.ts';
import { list } from '../domain/publishing.ts';
import { authenticate, instagramAccess, pageAccess, readParams } from './graph-access.ts';
import { visibleMedia } from './instagram.ts';

/** `GET /{ig-media-id}/insights`, `GET /{page-post-id}/insights` and `GET /{video-id}/video_insights`. */
export function insightsRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  app.get<{ Params: { id: string } }>('/:id/insights', { config: { operation: 'insights' } }, async (request, reply) => {
    const params = readParams(request);
    const token = authenticate(ctx, request, reply, params);
    const id = request.params.id;
    const requested = list(params, 'metric');
    const now = ctx.clock.now();

    const post = ctx.store.posts.get(id);
    if (post && post.deletedAt === undefined) {
      pageAccess(ctx, reply, token, post.pageId, 'get', { scopes: ['read_insights'] });
      const metrics = resolveFacebookMetrics(requested);
      const counts = facebookPostCounts(post.id, now - post.publishAt, post.kind === 'video' || post.kind === 'reel');
      const values = {
        post_media_view: counts.mediaViews,
        post_total_media_view_unique: counts.uniqueViews,
        post_clicks: counts.clicks,
        post_reactions_by_type_total: counts.reactions,
        post_video_views: counts.videoViews,
      };
      return {
        data: metrics.map((name) => ({
          name,
          period: 'lifetime',
          values: [{ value: values[name] }],
          title: name.replace(/_/g, ' '),
          description: `Lifetime ${name.replace(/_/g, ' ')} (Meta sandbox)`,
          id: `${post.id}/insights/${name}/lifetime`,
        })),
        paging: {},
      };
    }

    const media = visibleMedia(ctx, id, 'get');
    const { login } = instagramAccess(ctx, reply, token, media.igUserId, 'get', 'insights');
    if (media.parentId !== undefined) throw errors.invalidParameter('Insights are not available for carousel children.');
    const metrics = resolveInstagramMetrics(requested, media.productType);
    const facebookOnly = metrics.find((metric) => FACEBOOK_LOGIN_ONLY_METRICS.has(metric));
    if (login === 'instagram' && facebookOnly !== undefined) {
      throw errors.invalidParameter(`The ${facebookOnly} metric is only available with Facebook Login.`);
    }
    const age = now - media.publishedAt;
    if (media.productType === 'STORY' && age > DAY) {
      throw errors.invalidParameter('Insights for stories are only available for 24 hours after posting.');
    }
    if (media.productType === 'STORY' && instagramMetricValue('reach', media.id, age) < 5) throw errors.notEnoughViewers();
    // Data lags: for the first hours Meta answers an empty list, not zeros.
    if (age < ctx.settings.insightsDelayMs || viewsAt(media.id, age) === 0) return { data: [] };
    const elapsed = age;
    return {
      data: metrics.map((name) => ({
        name,
        period: 'lifetime',
        values: [{ value: instagramMetricValue(name, media.id, elapsed, media.commentIds.length) }],
        ...metricTitle(name),
        id: `${media.id}/insights/${name}/lifetime`,
      })),
    };
  });

  app.get<{ Params: { id: string } }>('/:id/video_insights', { config: { operation: 'pages.video-insights' } }, async (request, reply) => {
    const params = readParams(request);
    const token = authenticate(ctx, request, reply, params);
    const video = ctx.store.videos.get(request.params.id);
    if (!video || video.deletedAt !== undefined || video.purpose === 'story') throw errors.unsupported('get', request.params.id);
    pageAccess(ctx, reply, token, video.pageId, 'get', { scopes: ['read_insights'] });
    const kind = video.purpose === 'reel' ? 'reel' : 'video';
    const metrics = resolveVideoMetrics(list(params, 'metric'), kind);
    const post = video.postId === undefined ? undefined : ctx.store.posts.get(video.postId);
    const now = ctx.clock.now();
    const age = post === undefined || !post.published ? 0 : now - Math.max(post.publishAt, video.processedAt ?? now);
    if (age < ctx.settings.insightsDelayMs) return { data: [] };
    return {
      data: metrics.map((name) => ({
        name,
        period: 'lifetime',
        values: [{ value: videoMetricValue(name, video.id, age) }],
        title: name.replace(/_/g, ' '),
        description: `Lifetime ${name.replace(/_/g, ' ')} (Meta sandbox)`,
        id: `${video.id}/video_insights/${name}/lifetime`,
      })),
    };
  });
}
