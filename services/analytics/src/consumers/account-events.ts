import type { accountEvents, analyticsEvents } from '@postwire/contracts';
import { type TokenCipher, eventFieldContext } from '@postwire/crypto';
import type { Consumed, InboxHandlers } from '@postwire/outbox';
import { type AccountProfile, createAccountsProjection } from '../db/accounts-projection.ts';
import { accountTokenContext } from '../service.ts';

/** The account as account.connected and account.updated both describe it, in the projection's terms. */
function profileOf({ data, metadata }: Consumed<typeof accountEvents, 'account.connected' | 'account.updated'>): AccountProfile {
  return {
    id: data.socialAccountId,
    organisationId: metadata.organisationId,
    platform: data.platform,
    accountType: data.accountType,
    platformAccountId: data.platformAccountId,
    pageId: data.pageId,
  };
}

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
      const token = reencrypt(event.data.accessToken, 'account.connected', event.data.socialAccountId);
      await apply(async (connection) => {
        await createAccountsProjection(connection).connect(profileOf(event), token);
      });
    },
    async 'account.updated'(event, { apply }) {
      await apply(async (connection) => {
        await createAccountsProjection(connection).update(profileOf(event), event.data.status);
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
