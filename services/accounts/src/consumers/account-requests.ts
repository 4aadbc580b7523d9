import {
  type AccountRequest,
  EncryptedSecret,
  type EventOfType,
  type OutgoingEvent,
  accountEvents,
  type accountRequests,
  assertNever,
  derivedAccountId,
} from '@postwire/contracts';
import { type TokenCipher, columnContext, eventFieldContext } from '@postwire/crypto';
import type { DatabasePool, DatabaseTransactionConnection } from '@postwire/db';
import type { GraphClient } from '@postwire/graph';
import { type ConsumedEvent, type EventHandler, type HandleOutcome, NonRetryableError, type ServiceLogger } from '@postwire/kafka';
import { appendToOutbox, createIdempotentHandler } from '@postwire/outbox';
import { createAccountsRepository } from '../db/accounts-repository.ts';
import { wasProcessed } from '../db/inbox.ts';
import type { ConnectionRefused } from '../domain/connection-failure.ts';
import { type DiscoveredAccount, type Discovery, discoverAccounts } from './discover.ts';

export const ACCOUNTS_CONSUMER = 'accounts';
const OUTBOX = { schema: 'accounts', source: '/postwire/accounts' } as const;
const TABLE = 'social_media_accounts';

type Topic = typeof accountRequests;
type Consumed<T extends AccountRequest['type']> = ConsumedEvent<Topic> & EventOfType<Topic, T>;
type AccountEventOut = OutgoingEvent<typeof accountEvents>;

export type AccountRequestsDependencies = {
  /** The worker role's pool (BYPASSRLS): the organisation comes from the event's envelope. */
  readonly pool: DatabasePool;
  readonly graph: GraphClient;
  readonly cipher: TokenCipher;
  readonly logger: ServiceLogger;
  readonly now?: () => Date;
};

/**
 * Handles `postwire.account-requests.v1`. Per event: whatever Meta must be asked happens first, outside any
 * transaction; then one transaction records the event id in the inbox, changes the rows and appends the
 * resulting events to the outbox. A redelivered event finds its id and changes nothing.
 */
/** Slonik wraps Postgres's 23503 in ForeignKeyIntegrityConstraintViolationError; look through the causes for it. */
function isForeignKeyViolation(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    if (current.constructor.name === 'ForeignKeyIntegrityConstraintViolationError') return true;
    if ('code' in current && current.code === '23503') return true;
  }
  return false;
}

export function createAccountRequestsHandler(dependencies: AccountRequestsDependencies): EventHandler<Topic> {
  const { pool, graph, cipher } = dependencies;
  const logger = dependencies.logger.child({ component: 'account-requests' });
  const now = dependencies.now ?? (() => new Date());

  const metadataFor = (event: ConsumedEvent<Topic>) => ({
    organisationId: event.metadata.organisationId,
    correlationId: event.metadata.correlationId,
    causationId: event.metadata.id,
    ...(event.metadata.actorId === undefined ? {} : { actorId: event.metadata.actorId }),
    ...(event.metadata.traceparent === undefined ? {} : { traceparent: event.metadata.traceparent }),
  });

  async function applyOnce(event: ConsumedEvent<Topic>, apply: (connection: DatabaseTransactionConnection) => Promise<void>): Promise<HandleOutcome> {
    const handler = createIdempotentHandler<Topic>(pool, { schema: OUTBOX.schema, consumer: ACCOUNTS_CONSUMER }, (_event, connection) => apply(connection));
    try {
      return (await handler.handle(event)) === 'duplicate' ? 'duplicate' : 'processed';
    } catch (error) {
      // The organisation is not (or no longer) there: no retry will make it appear.
      if (isForeignKeyViolation(error)) {
        throw new NonRetryableError(`organisation ${event.metadata.organisationId} does not exist`, { cause: error });
      }
      throw error;
    }
  }

  async function authorized(event: Consumed<'account.authorized'>): Promise<HandleOutcome> {
    const { data } = event;
    let shortLivedToken: string;
    try {
      shortLivedToken = cipher.decrypt(data.shortLivedToken, eventFieldContext('account.authorized', data.socialAccountId, 'shortLivedToken'));
    } catch (error) {
      // Wrong key ring or a token bound to another event: the event can never be applied.
      throw new NonRetryableError('the short-lived token cannot be decrypted', { cause: error });
    }
    const connectedAt = now();
    const discovery: Discovery = await discoverAccounts(graph, data, shortLivedToken, connectedAt);
    return applyOnce(event, async (connection) => {
      if (discovery.outcome === 'refused') {
        await refuse(event, discovery.refusal, connection);
        return;
      }
      const accounts = createAccountsRepository(connection);
      const events: AccountEventOut[] = [];
      // Rows are locked in one global order, so two logins sharing Pages cannot deadlock each other.
      const ordered = [...discovery.accounts].sort((a, b) => `${a.platform}:${a.platformAccountId}`.localeCompare(`${b.platform}:${b.platformAccountId}`));
      for (const account of ordered) {
        events.push(await connect(event, account, accounts, connectedAt));
      }
      if (data.reconnect && !events.some((connected) => connected.data.socialAccountId === data.socialAccountId)) {
        // The user re-authorised but did not share the account they meant to reconnect: say so on that account.
        const missed = await missedReconnect(event, connection);
        if (missed !== undefined) events.push(missed);
      }
      await appendToOutbox(connection, OUTBOX, accountEvents, events);
      logger.info(
        { eventId: event.metadata.id, organisationId: event.metadata.organisationId, accounts: discovery.accounts.length, platform: data.platform },
        'accounts connected',
      );
    });
  }

  async function connect(
    event: Consumed<'account.authorized'>,
    account: DiscoveredAccount,
    accounts: ReturnType<typeof createAccountsRepository>,
    connectedAt: Date,
  ): Promise<AccountEventOut> {
    const organisationId = event.metadata.organisationId;
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
      accessToken: cipher.encrypt(account.accessToken, columnContext(TABLE, id, 'access_token')),
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
      metadata: metadataFor(event),
    };
  }

  async function missedReconnect(event: Consumed<'account.authorized'>, connection: DatabaseTransactionConnection): Promise<AccountEventOut | undefined> {
    const { data } = event;
    const accounts = createAccountsRepository(connection);
    const row = await accounts.lockById(event.metadata.organisationId, data.socialAccountId);
    if (row === null) return undefined;
    const message =
      row.platform === 'instagram'
        ? 'This Instagram account was not among those you shared. Reconnect and select the Facebook Page it is linked to (or log in with this Instagram account).'
        : 'This Facebook Page was not among those you shared. Reconnect and select it.';
    const failures = await accounts.recordConnectionError(event.metadata.organisationId, row.id, message);
    return {
      type: 'account.connection-failed',
      data: {
        socialAccountId: row.id,
        platform: row.platform,
        stage: 'discovery',
        error: { category: 'permission', message, retryable: false },
        consecutiveFailures: failures ?? 1,
      },
      metadata: metadataFor(event),
    };
  }

  async function refuse(event: Consumed<'account.authorized'>, refusal: ConnectionRefused, connection: DatabaseTransactionConnection): Promise<void> {
    const { data } = event;
    const accounts = createAccountsRepository(connection);
    // A failed reconnect of a known account is remembered on it; a new login leaves no row behind.
    const failures = await accounts.recordConnectionError(event.metadata.organisationId, data.socialAccountId, refusal.info.message);
    await appendToOutbox(connection, OUTBOX, accountEvents, [
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
        metadata: metadataFor(event),
      },
    ]);
    logger.warn(
      { eventId: event.metadata.id, socialAccountId: data.socialAccountId, stage: refusal.stage, category: refusal.info.category, missingScopes: refusal.missingScopes },
      'account connection refused',
    );
  }

  async function disconnectRequested(event: Consumed<'account.disconnect-requested'>): Promise<HandleOutcome> {
    const { data } = event;
    return applyOnce(event, async (connection) => {
      const accounts = createAccountsRepository(connection);
      const row = await accounts.lockById(event.metadata.organisationId, data.socialAccountId);
      if (row === null) {
        logger.warn({ eventId: event.metadata.id, socialAccountId: data.socialAccountId }, 'disconnect requested for an unknown account; nothing to do');
        return;
      }
      const deleting = data.mode === 'delete';
      // Already disconnected and erased: nothing changes, so nothing is announced again.
      if (!deleting && row.status === 'disconnected' && row.erased) return;
      if (deleting) await accounts.delete(row.id);
      else await accounts.markDisconnected(row.id);
      await appendToOutbox(connection, OUTBOX, accountEvents, [
        {
          type: 'account.disconnected',
          data: { socialAccountId: row.id, platform: row.platform, reason: 'user-request', deleted: deleting, disconnectedAt: now().toISOString() },
          metadata: metadataFor(event),
        },
      ]);
      logger.info({ eventId: event.metadata.id, socialAccountId: row.id, deleted: deleting }, 'account disconnected');
    });
  }

  return {
    async handle(event) {
      if (await wasProcessed(pool, ACCOUNTS_CONSUMER, event.metadata.id)) return 'duplicate';
      switch (event.type) {
        case 'account.authorized':
          return authorized(event);
        case 'account.disconnect-requested':
          return disconnectRequested(event);
        default:
          return assertNever(event);
      }
    },
  };
}
