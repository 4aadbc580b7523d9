import type { accountEvents, analyticsEvents } from '@postwire/contracts';
import { type TokenCipher, eventFieldContext } from '@postwire/crypto';
import type { InboxHandlers } from '@postwire/outbox';
import { createAccountsProjection } from '../db/accounts-projection.ts';
import { accountTokenContext } from '../service.ts';

/**
 * `postwire.account-events.v1` -> the account projection the syncs read: the current token (decrypted with the
 * event's context, re-encrypted for this table's column) and the status. Syncs of an expired or disconnected
 * account are not claimed; a new token (reconnect, refresh) lets them run again.
 */
export function accountEventHandlers(cipher: TokenCipher): InboxHandlers<typeof accountEvents, typeof analyticsEvents> {
  const ignore = async () => undefined;
  const reencrypt = (ciphertext: string, eventType: 'account.connected' | 'account.token-refreshed', accountId: string) =>
    cipher.encrypt(cipher.decrypt(ciphertext, eventFieldContext(eventType, accountId, 'accessToken')), accountTokenContext(accountId));
  return {
    async 'account.connected'(event, { apply }) {
      const { data } = event;
      const token = reencrypt(data.accessToken, 'account.connected', data.socialAccountId);
      await apply(async (connection) => {
        await createAccountsProjection(connection).connect(
          {
            id: data.socialAccountId,
            organisationId: event.metadata.organisationId,
            platform: data.platform,
            accountType: data.accountType,
            platformAccountId: data.platformAccountId,
            pageId: data.pageId,
          },
          token,
        );
      });
    },
    async 'account.updated'(event, { apply }) {
      const { data } = event;
      await apply(async (connection) => {
        await createAccountsProjection(connection).update(
          {
            id: data.socialAccountId,
            organisationId: event.metadata.organisationId,
            platform: data.platform,
            accountType: data.accountType,
            platformAccountId: data.platformAccountId,
            pageId: data.pageId,
          },
          data.status,
        );
      });
    },
    async 'account.token-refreshed'(event, { apply }) {
      const token = reencrypt(event.data.accessToken, 'account.token-refreshed', event.data.socialAccountId);
      await apply(async (connection) => {
        await createAccountsProjection(connection).replaceToken(event.data.socialAccountId, token);
      });
    },
    async 'account.expired'(event, { apply }) {
      await apply(async (connection) => {
        await createAccountsProjection(connection).setStatus(event.data.socialAccountId, 'expired');
      });
    },
    async 'account.disconnected'(event, { apply }) {
      await apply(async (connection) => {
        const accounts = createAccountsProjection(connection);
        // A deleted account's posts follow as post.deleted (from the publisher), which removes their syncs.
        if (event.data.deleted) await accounts.delete(event.data.socialAccountId);
        else await accounts.disconnect(event.data.socialAccountId);
      });
    },
    'token.expiring': ignore,
    'account.connection-failed': ignore,
  };
}
