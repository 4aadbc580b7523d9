import type { EventOf, Platform, accountEvents, postEvents } from '@postwire/contracts';
import { type TokenCipher, eventFieldContext } from '@postwire/crypto';
import type { DatabaseTransactionConnection } from '@postwire/db';
import { NonRetryableError } from '@postwire/kafka';
import type { Consumed, Emit, InboxHandlers } from '@postwire/outbox';
import { type ConnectedAccount, accountTokenContext, createAccountsProjection } from '../db/accounts-projection.ts';
import { createContentCounters } from '../db/content-counters.ts';
import { createPostsRepository } from '../db/posts-repository.ts';

type In = typeof accountEvents;
type Out = typeof postEvents;
type PostEvent = EventOf<Out>;

export type AccountEventsDependencies = {
  readonly cipher: TokenCipher;
  readonly now?: () => Date;
};

/** What a queued post of an account that stopped working says to its user. */
export function reconnectMessage(platform: Platform, why: 'expired' | 'disconnected'): string {
  const account = platform === 'instagram' ? 'Instagram account' : 'Facebook Page';
  const what = why === 'expired' ? `access to this ${account} expired or was revoked` : `this ${account} was disconnected`;
  return `The post was not published: ${what}. Reconnect the ${account}, then retry the post.`;
}

/** The account's profile as account.connected and account.updated both carry it, in the projection's terms. */
function profileOf({ data, metadata }: Consumed<In, 'account.connected' | 'account.updated'>): Omit<ConnectedAccount, 'accessToken' | 'tokenExpiresAt'> {
  return {
    socialAccountId: data.socialAccountId,
    organisationId: metadata.organisationId,
    platform: data.platform,
    accountType: data.accountType,
    platformAccountId: data.platformAccountId,
    pageId: data.pageId,
    username: data.username,
    capabilities: data.capabilities,
    publishingLimit: data.publishingLimit ?? null,
  };
}

/**
 * `postwire.account-events.v1` into the publisher's projection (publisher.accounts), one function per event type.
 * Writes are ordered by event time: the projection remembers the newest event applied, and an older one arriving
 * late changes nothing. The token is re-encrypted from the event's context to the column's.
 */
export function accountEventHandlers({ cipher, now = () => new Date() }: AccountEventsDependencies): InboxHandlers<In, Out> {
  function reencrypt(type: 'account.connected' | 'account.token-refreshed', socialAccountId: string, accessToken: string): string {
    let plaintext: string;
    try {
      plaintext = cipher.decrypt(accessToken, eventFieldContext(type, socialAccountId, 'accessToken'));
    } catch (error) {
      // Another key ring, or a token bound to another event: this event can never be applied.
      throw new NonRetryableError(`the token of ${type} for ${socialAccountId} cannot be decrypted`, { cause: error });
    }
    return cipher.encrypt(plaintext, accountTokenContext(socialAccountId));
  }

  /** Queued posts of an account that stopped working fail now, each told why (the engine fails claimed ones at Meta). */
  async function failQueued(connection: DatabaseTransactionConnection, emit: Emit<Out>, socialAccountId: string, platform: Platform, why: 'expired' | 'disconnected') {
    const message = reconnectMessage(platform, why);
    const failed = await createPostsRepository(connection).failQueuedOfAccount(socialAccountId, message);
    const failedAt = now().toISOString();
    await emit(
      failed.map(
        (post): PostEvent => ({
          type: 'post.failed',
          data: {
            postId: post.id,
            socialAccountId,
            platform: post.platform,
            attempts: post.retry_count ?? 0,
            error: { category: 'token', message, retryable: false },
            failedAt,
          },
        }),
      ),
    );
    return failed.length;
  }

  /** The seed's ON DELETE CASCADE: an account deleted takes its posts with it, for good. */
  async function deletePosts(connection: DatabaseTransactionConnection, emit: Emit<Out>, socialAccountId: string) {
    const removed = await createPostsRepository(connection).deleteAllOfAccount(socialAccountId);
    const counters = createContentCounters(connection);
    for (const post of removed) if (post.status === 'published' && post.content_id !== null) await counters.unpublished(post.content_id);
    const deletedAt = now().toISOString();
    // Posts already deleted were announced when they were; the others are announced now.
    await emit(
      removed
        .filter((post) => post.status !== 'deleted')
        .map(
          (post): PostEvent => ({
            type: 'post.deleted',
            data: { postId: post.id, socialAccountId, platform: post.platform, reason: 'account-deleted', deletedFromPlatform: false, deletedAt },
          }),
        ),
    );
    return removed.length;
  }

  return {
    async 'account.connected'(event, { apply, logger }) {
      const { data, metadata } = event;
      const accessToken = reencrypt(event.type, data.socialAccountId, data.accessToken);
      await apply(async (connection) => {
        const applied = await createAccountsProjection(connection).upsertConnected(
          { ...profileOf(event), accessToken, tokenExpiresAt: data.tokenExpiresAt === null ? null : new Date(data.tokenExpiresAt) },
          new Date(metadata.time),
        );
        logger.info({ socialAccountId: data.socialAccountId, applied }, applied ? 'account connected' : 'older account.connected ignored');
      });
    },

    async 'account.updated'(event, { apply, logger }) {
      const { data, metadata } = event;
      await apply(async (connection) => {
        const applied = await createAccountsProjection(connection).applyProfile({ ...profileOf(event), status: data.status }, new Date(metadata.time));
        logger.info({ socialAccountId: data.socialAccountId, applied }, applied ? 'account updated' : 'account.updated ignored (unknown account or older event)');
      });
    },

    async 'account.token-refreshed'(event, { apply, logger }) {
      const { data, metadata } = event;
      const accessToken = reencrypt(event.type, data.socialAccountId, data.accessToken);
      await apply(async (connection) => {
        const expiresAt = data.tokenExpiresAt === null ? null : new Date(data.tokenExpiresAt);
        const applied = await createAccountsProjection(connection).replaceToken(data.socialAccountId, metadata.organisationId, accessToken, expiresAt, new Date(metadata.time));
        logger.info({ socialAccountId: data.socialAccountId, applied }, applied ? 'account token replaced' : 'account.token-refreshed ignored (unknown account or older event)');
      });
    },

    // Nothing to do: the accounts service refreshes the token or, when only the user can, says account.expired
    // once it stops working. Until then posts publish with the token they have.
    async 'token.expiring'() {},

    async 'account.expired'(event, { apply, logger }) {
      const { data, metadata } = event;
      await apply(async (connection, emit) => {
        const applied = await createAccountsProjection(connection).setStatus(data.socialAccountId, metadata.organisationId, 'expired', data.reason, new Date(metadata.time));
        if (!applied) return logger.info({ socialAccountId: data.socialAccountId }, 'account.expired ignored (unknown account or older event)');
        const failed = await failQueued(connection, emit, data.socialAccountId, data.platform, 'expired');
        logger.info({ socialAccountId: data.socialAccountId, failedPosts: failed }, 'account expired');
      });
    },

    async 'account.disconnected'(event, { apply, logger }) {
      const { data, metadata } = event;
      await apply(async (connection, emit) => {
        const applied = await createAccountsProjection(connection).setStatus(data.socialAccountId, metadata.organisationId, 'disconnected', data.reason, new Date(metadata.time));
        // The row stays (disconnected), so an older connected event arriving late cannot bring the account back.
        if (!applied) return logger.info({ socialAccountId: data.socialAccountId }, 'account.disconnected ignored (unknown account or older event)');
        if (data.deleted) {
          const removed = await deletePosts(connection, emit, data.socialAccountId);
          return logger.info({ socialAccountId: data.socialAccountId, deletedPosts: removed }, 'account deleted with its posts');
        }
        const failed = await failQueued(connection, emit, data.socialAccountId, data.platform, 'disconnected');
        logger.info({ socialAccountId: data.socialAccountId, failedPosts: failed }, 'account disconnected');
      });
    },

    // Nothing to do: a failed connect, discovery or health check leaves the token in use as it is; a token that
    // stops working arrives as account.expired.
    async 'account.connection-failed'() {},
  };
}
