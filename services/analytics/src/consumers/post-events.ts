import type { analyticsEvents, postEvents } from '@postwire/contracts';
import type { InboxHandlers } from '@postwire/outbox';
import { createSyncsRepository } from '../db/syncs-repository.ts';
import { createTrackedPostsRepository } from '../db/tracked-posts-repository.ts';
import { syncSchedule } from '../domain/schedule.ts';
import type { SyncSettings } from '../workers/sync-config.ts';

/**
 * `postwire.post-events.v1`, as far as analytics cares: a published post joins the projection (what the
 * snapshots' RLS reads) with its sync schedule; a deleted post loses its snapshots, its row and its syncs
 * (the seed's ON DELETE CASCADE). Everything else is the publisher's business.
 */
export function postEventHandlers(settings: Pick<SyncSettings, 'offsetsMs' | 'maxSpreadMs'>): InboxHandlers<typeof postEvents, typeof analyticsEvents> {
  const ignore = async () => undefined;
  return {
    async 'post.published'(event, { apply, logger }) {
      const { data } = event;
      await apply(async (connection) => {
        const publishedAt = new Date(data.publishedAt);
        const added = await createTrackedPostsRepository(connection).insertPublished({
          id: data.postId,
          organisationId: event.metadata.organisationId,
          socialAccountId: data.socialAccountId,
          platform: data.platform,
          postType: data.postType,
          platformPostId: data.platformPostId,
          publishedAt,
        });
        if (!added) return;
        const schedule = syncSchedule({ id: data.postId, postType: data.postType, publishedAt }, settings);
        await createSyncsRepository(connection).schedule(data.postId, data.socialAccountId, schedule);
        logger.info({ postId: data.postId, syncs: schedule.length }, 'published post tracked; insight syncs scheduled');
      });
    },
    async 'post.deleted'(event, { apply, logger }) {
      await apply(async (connection) => {
        const snapshots = await createTrackedPostsRepository(connection).delete(event.data.postId);
        logger.info({ postId: event.data.postId, snapshots }, 'deleted post: snapshots and syncs removed');
      });
    },
    'post.accepted': ignore,
    'post.rejected': ignore,
    'post.publishing': ignore,
    'post.retrying': ignore,
    'post.failed': ignore,
    'post.metrics-updated': ignore,
  };
}
