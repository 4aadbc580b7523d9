import type { analyticsEvents, analyticsRequests } from '@postwire/contracts';
import type { InboxHandlers } from '@postwire/outbox';
import { createSyncsRepository } from '../db/syncs-repository.ts';
import { createTrackedPostsRepository } from '../db/tracked-posts-repository.ts';
import { refreshAllowedAt } from '../domain/schedule.ts';
import type { SyncMetrics } from '../workers/sync-metrics.ts';

/**
 * `postwire.analytics-requests.v1`: an on-demand refresh becomes a sync due now, at most one per post per cooldown
 * (the gateway answers 429 before that; this is the authority when requests race). A request for a post this
 * service does not track, or that belongs to another organisation, is dropped without a trace of the post.
 */
export function analyticsRequestHandlers(
  settings: { readonly refreshCooldownMs: number },
  now: () => Date,
  metrics: () => SyncMetrics,
): InboxHandlers<typeof analyticsRequests, typeof analyticsEvents> {
  return {
    async 'post.insights-refresh-requested'(event, { apply, logger }) {
      let outcome = 'scheduled';
      await apply(async (connection) => {
        const posts = createTrackedPostsRepository(connection);
        const post = await posts.lock(event.data.postId);
        if (post === null || post.organisation_id !== event.metadata.organisationId || post.syncs_stopped_reason !== null) {
          outcome = 'unknown-post';
          return;
        }
        const at = now();
        const lastRequestedAt = post.last_refresh_requested_at === null ? null : new Date(post.last_refresh_requested_at);
        if (refreshAllowedAt(lastRequestedAt, settings.refreshCooldownMs, at) !== undefined) {
          outcome = 'rate-limited';
          return;
        }
        await posts.markRefreshRequested(post.id, at);
        await createSyncsRepository(connection).addOnDemand(post.id, post.social_account_id, at);
      });
      metrics().refreshRequests.inc({ outcome });
      logger.info({ postId: event.data.postId, outcome }, 'insights refresh requested');
    },
  };
}
