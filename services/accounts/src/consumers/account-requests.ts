import { EncryptedSecret, type EventOf, type accountEvents, type accountRequests, derivedAccountId } from '@postwire/contracts';
import { type TokenCipher, eventFieldContext } from '@postwire/crypto';
import type { DatabaseTransactionConnection } from '@postwire/db';
import type { GraphClient } from '@postwire/graph';
import { NonRetryableError } from '@postwire/kafka';
import type { Consumed, DeadLetterHandlers, Emit, InboxHandlers } from '@postwire/outbox';
import { type AccountsRepository, createAccountsRepository } from '../db/accounts-repository.ts';
import { type ConnectionRefused, givenUp } from '../domain/connection-failure.ts';
import { accessTokenContext } from '../service.ts';
import { type DiscoveredAccount, discoverAccounts } from './discover.ts';

type In = typeof accountRequests;
type Out = typeof accountEvents;
type AccountEvent = EventOf<Out>;

export type AccountRequestsDependencies = {
  readonly graph: GraphClient;
  readonly cipher: TokenCipher;
  readonly now?: () => Date;
};

/**
 * `postwire.account-requests.v1`, one function per request type. Whatever Meta must be asked happens first,
 * outside any transaction; `apply` then records the event in the inbox, changes the rows and emits the
 * answers in one transaction (their envelope comes from the request).
 */
export function accountRequestHandlers({ graph, cipher, now = () => new Date() }: AccountRequestsDependencies): InboxHandlers<In, Out> {
  return {
    async 'account.authorized'(event, { apply, logger }) {
      const { data, metadata } = event;
      const shortLivedToken = decryptRequestToken(cipher, event);
      const connectedAt = now();
      const discovery = await discoverAccounts(graph, data, shortLivedToken, connectedAt);
      await apply(async (connection, emit) => {
        const accounts = createAccountsRepository(connection);
        if (discovery.outcome === 'refused') {
          await refuse(event, discovery.refusal, accounts, emit);
          logger.warn({ eventId: metadata.id, socialAccountId: data.socialAccountId, stage: discovery.refusal.stage, category: discovery.refusal.info.category }, 'account connection refused');
          return;
        }
        // Rows are locked in one global order, so two logins sharing Pages cannot deadlock each other.
        const ordered = [...discovery.accounts].sort((a, b) => `${a.platform}:${a.platformAccountId}`.localeCompare(`${b.platform}:${b.platformAccountId}`));
        const events: AccountEvent[] = [];
        for (const account of ordered) events.push(await connect(cipher, metadata.organisationId, account, accounts, connectedAt));
        if (data.reconnect && !events.some((connected) => connected.data.socialAccountId === data.socialAccountId)) {
          // The user re-authorised but did not share the account they meant to reconnect: say so on that account.
          const missed = await missedReconnect(metadata.organisationId, data.socialAccountId, connection);
          if (missed !== undefined) events.push(missed);
        }
        await emit(events);
        logger.info({ eventId: metadata.id, organisationId: metadata.organisationId, accounts: ordered.length, platform: data.platform }, 'accounts connected');
      });
    },

    async 'account.disconnect-requested'(event, { apply, logger }) {
      const { data, metadata } = event;
      await apply(async (connection, emit) => {
        const accounts = createAccountsRepository(connection);
        const row = await accounts.lockById(metadata.organisationId, data.socialAccountId);
        if (row === null) {
          logger.warn({ eventId: metadata.id, socialAccountId: data.socialAccountId }, 'disconnect requested for an unknown account; nothing to do');
          return;
        }
        const deleting = data.mode === 'delete';
        // Already disconnected and erased: nothing changes, so nothing is announced again.
        if (!deleting && row.status === 'disconnected' && row.erased) return;
        if (deleting) await accounts.delete(row.id);
        else await accounts.markDisconnected(row.id);
        await emit([
          {
            type: 'account.disconnected',
            data: { socialAccountId: row.id, platform: row.platform, reason: 'user-request', deleted: deleting, disconnectedAt: now().toISOString() },
          },
        ]);
        logger.info({ eventId: metadata.id, socialAccountId: row.id, deleted: deleting }, 'account disconnected');
      });
    },
  };
}

/** A connect given up (Meta failing until the retries ran out, an event that can never apply): the requester hears why. */
export const accountRequestFailures: DeadLetterHandlers<In, Out> = {
  async 'account.authorized'(event, failure, { apply, logger }) {
    const { stage, info } = givenUp(failure.error);
    await apply(async (connection, emit) => {
      const failures = await createAccountsRepository(connection).recordConnectionError(event.metadata.organisationId, event.data.socialAccountId, info.message);
      await emit([
        {
          type: 'account.connection-failed',
          data: { socialAccountId: event.data.socialAccountId, platform: event.data.platform, stage, error: info, consecutiveFailures: failures ?? 1 },
        },
      ]);
    });
    logger.warn({ eventId: event.metadata.id, stage, category: info.category, reason: failure.reason }, 'account connection given up');
  },
};

function decryptRequestToken(cipher: TokenCipher, event: Consumed<In, 'account.authorized'>): string {
  try {
    return cipher.decrypt(event.data.shortLivedToken, eventFieldContext('account.authorized', event.data.socialAccountId, 'shortLivedToken'));
  } catch (error) {
    // Wrong key ring or a token bound to another event: the event can never be applied.
    throw new NonRetryableError('the short-lived token cannot be decrypted', { cause: error });
  }
}

async function connect(cipher: TokenCipher, organisationId: string, account: DiscoveredAccount, accounts: AccountsRepository, connectedAt: Date): Promise<AccountEvent> {
  // The ciphertext is bound to the row id, so the id must be known before the write: the existing row's
  // (locked until commit), else the derived one, which a racing connect of the same account derives too.
  const existing = await accounts.lockByPlatformId(organisationId, account.platform, account.platformAccountId);
  const id = existing?.id ?? derivedAccountId(organisationId, account.platform, account.platformAccountId);
  const written = await accounts.upsertConnected({
    id,
    organisationId,
    platform: account.platform,
    accountType: account.accountType,
    platformAccountId: account.platformAccountId,
    username: account.username,
    profilePictureUrl: account.profilePictureUrl,
    pageId: account.pageId,
    pageName: account.pageName,
    accessToken: cipher.encrypt(account.accessToken, accessTokenContext(id)),
    tokenExpiresAt: account.tokenExpiresAt,
    canPublishFeed: account.capabilities.feed,
    canPublishStories: account.capabilities.stories,
    canPublishReels: account.capabilities.reels,
  });
  // Only a row written with another id between our look and our insert could differ: retry the event.
  if (written.id !== id) throw new Error(`account ${account.platform}/${account.platformAccountId} changed id while connecting; retrying`);
  return {
    type: 'account.connected',
    data: {
      socialAccountId: id,
      platform: account.platform,
      accountType: account.accountType,
      platformAccountId: account.platformAccountId,
      username: account.username,
      profilePictureUrl: account.profilePictureUrl,
      pageId: account.pageId,
      pageName: account.pageName,
      capabilities: account.capabilities,
      accessToken: EncryptedSecret.parse(cipher.encrypt(account.accessToken, eventFieldContext('account.connected', id, 'accessToken'))),
      tokenExpiresAt: account.tokenExpiresAt?.toISOString() ?? null,
      connectedAt: connectedAt.toISOString(),
      reconnected: !written.inserted,
      ...(account.publishingLimit === undefined ? {} : { publishingLimit: account.publishingLimit }),
    },
  };
}

async function missedReconnect(organisationId: string, socialAccountId: string, connection: DatabaseTransactionConnection): Promise<AccountEvent | undefined> {
  const accounts = createAccountsRepository(connection);
  const row = await accounts.lockById(organisationId, socialAccountId);
  if (row === null) return undefined;
  const message =
    row.platform === 'instagram'
      ? 'This Instagram account was not among those you shared. Reconnect and select the Facebook Page it is linked to (or log in with this Instagram account).'
      : 'This Facebook Page was not among those you shared. Reconnect and select it.';
  const failures = await accounts.recordConnectionError(organisationId, row.id, message);
  return {
    type: 'account.connection-failed',
    data: { socialAccountId: row.id, platform: row.platform, stage: 'discovery', error: { category: 'permission', message, retryable: false }, consecutiveFailures: failures ?? 1 },
  };
}

async function refuse(event: Consumed<In, 'account.authorized'>, refusal: ConnectionRefused, accounts: AccountsRepository, emit: Emit<Out>): Promise<void> {
  const { data } = event;
  // A failed reconnect of a known account is remembered on it; a new login leaves no row behind.
  const failures = await accounts.recordConnectionError(event.metadata.organisationId, data.socialAccountId, refusal.info.message);
  await emit([
    {
      type: 'account.connection-failed',
      data: {
        socialAccountId: data.socialAccountId,
        platform: data.platform,
        stage: refusal.stage,
        error: refusal.info,
        ...(refusal.missingScopes === undefined ? {} : { missingScopes: [...refusal.missingScopes] }),
        consecutiveFailures: failures ?? 1,
      },
    },
  ]);
}
