import type { accountEvents, postEvents } from '@postwire/contracts';
import type { InboxHandlers } from '@postwire/outbox';
import type { HealthCheck } from '../workers/token-lifecycle-health.ts';

/**
 * `postwire.post-events.v1`, as far as accounts care: a post that failed because Meta refused the account's
 * token reports the account for reconnection. The report is not trusted as it stands (the user may have
 * reconnected since): the account's token is checked with Meta at once, and only Meta's verdict expires it
 * (`account.expired` then tells the publisher and the gateway). Every other post event is none of our business.
 */
export function postEventHandlers(healthCheck: HealthCheck): InboxHandlers<typeof postEvents, typeof accountEvents> {
  const ignore = async () => undefined;
  return {
    async 'post.failed'(event, { logger }) {
      if (event.data.error.category !== 'token') return;
      const checked = await healthCheck.checkAccount(event.data.socialAccountId);
      logger.info({ socialAccountId: event.data.socialAccountId, postId: event.data.postId, checked }, 'token refusal reported by the publisher');
    },
    'post.accepted': ignore,
    'post.rejected': ignore,
    'post.publishing': ignore,
    'post.published': ignore,
    'post.retrying': ignore,
    'post.deleted': ignore,
    'post.metrics-updated': ignore,
  };
}
