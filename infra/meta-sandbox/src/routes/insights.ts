import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from '../context.ts';
import { DAY } from '../domain/clock.ts';
import { errors } from '../domain/errors.ts';
import {
  facebookPostCounts,
  instagramMetricValue,
  metricTitle,
  resolveFacebookMetrics,
  resolveInstagramMetrics,
  viewsAt,
} from '../domain/insights.ts';
import { list } from '../domain/publishing.ts';
import { authenticate, instagramAccess, pageAccess, readParams } from './graph-access.ts';
import { visibleMedia } from './instagram.ts';

/** `GET /{ig-media-id}/insights` and `GET /{page-post-id}/insights`. */
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
    instagramAccess(ctx, reply, token, media.igUserId, 'get', 'insights');
    if (media.parentId !== undefined) throw errors.invalidParameter('Insights are not available for carousel children.');
    const metrics = resolveInstagramMetrics(requested, media.productType);
    const elapsed = media.productType === 'STORY' ? Math.min(now - media.publishedAt, DAY) : now - media.publishedAt;
    if (media.productType === 'STORY' && instagramMetricValue('reach', media.id, elapsed) < 5) throw errors.notEnoughViewers();
    // Fresh media has no data yet: Meta answers an empty list rather than zeros.
    if (viewsAt(media.id, elapsed) === 0) return { data: [] };
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
}
