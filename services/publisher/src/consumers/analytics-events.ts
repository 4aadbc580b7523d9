import type { analyticsEvents, postEvents } from '@postwire/contracts';
import type { InboxHandlers } from '@postwire/outbox';
import { createMetricsRepository } from '../db/metrics-repository.ts';

/**
 * `postwire.analytics-events.v1`: a snapshot analytics stored becomes the post's analytics columns (when newer
 * than what they hold), engagement_rate is recomputed by the seed's calculate_engagement_rate, and
 * `post.metrics-updated` tells everyone, all in the inbox's transaction.
 *
 * Engagement rate = (likes + comments + shares + saves) / reach x 100. Reach counts unique accounts while
 * interactions count actions (one account can like, comment, share and save; shares and saves also come from
 * accounts outside the reach figure's window), so the rate can exceed 100 %; it is capped at 999.99, what the
 * seed's DECIMAL(5,2) holds.
 */
export function analyticsEventHandlers(): InboxHandlers<typeof analyticsEvents, typeof postEvents> {
  return {
    async 'post.metrics-synced'(event, { apply, logger }) {
      const { data } = event;
      await apply(async (connection, emit) => {
        const applied = await createMetricsRepository(connection).applySynced(data.postId, data.metrics, new Date(data.snapshotAt));
        if (applied === null) {
          logger.debug({ postId: data.postId, snapshotId: data.snapshotId }, 'snapshot not applied: unknown or deleted post, or newer figures stored');
          return;
        }
        await emit([
          {
            type: 'post.metrics-updated',
            data: {
              postId: applied.id,
              socialAccountId: applied.social_account_id,
              metrics: data.metrics,
              engagementRate: applied.engagement_rate,
              syncedAt: data.snapshotAt,
            },
          },
        ]);
      });
    },
  };
}
