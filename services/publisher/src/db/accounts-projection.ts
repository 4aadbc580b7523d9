import { AccountStatus, AccountType, Capabilities, Platform, PublishingLimit } from '@postwire/contracts';
import { columnContext } from '@postwire/crypto';
import { type CommonQueryMethods, sql } from '@postwire/db';
import { z } from 'zod';

const accounts = sql.identifier(['publisher', 'accounts']);

/** A projected token is bound to its row and column: it opens as no other account's. The engine decrypts with this. */
export function accountTokenContext(socialAccountId: string) {
  return columnContext('publisher.accounts', socialAccountId, 'access_token');
}

/** The one row schema of publisher.accounts (migration 004). */
export const ProjectedAccountRow = z.object({
  social_account_id: z.uuid(),
  organisation_id: z.uuid(),
  platform: Platform,
  account_type: AccountType,
  platform_account_id: z.string(),
  page_id: z.string().nullable(),
  username: z.string().nullable(),
  status: AccountStatus,
  status_reason: z.string().nullable(),
  capabilities: Capabilities,
  access_token: z.string(),
  token_expires_at: z.number().nullable(),
  publishing_limit: PublishingLimit.nullable(),
  last_event_at: z.number(),
  created_at: z.number(),
  updated_at: z.number(),
});

/** What validating a post needs: whose the account is, where, whether it works and what it may publish. */
export const AccountForValidation = ProjectedAccountRow.pick({ social_account_id: true, organisation_id: true, platform: true, status: true, capabilities: true });
/** What deleting on the platform needs. */
export const AccountForPlatformCall = ProjectedAccountRow.pick({ social_account_id: true, platform: true, access_token: true, status: true });

export type ConnectedAccount = {
  readonly socialAccountId: string;
  readonly organisationId: string;
  readonly platform: z.infer<typeof Platform>;
  readonly accountType: z.infer<typeof AccountType>;
  readonly platformAccountId: string;
  readonly pageId: string | null;
  readonly username: string | null;
  readonly capabilities: z.infer<typeof Capabilities>;
  /** Already encrypted with accountTokenContext. */
  readonly accessToken: string;
  readonly tokenExpiresAt: Date | null;
  readonly publishingLimit: z.infer<typeof PublishingLimit> | null;
};

export type AccountProfile = Omit<ConnectedAccount, 'accessToken' | 'tokenExpiresAt'> & { readonly status: z.infer<typeof AccountStatus> };

const Applied = z.object({ social_account_id: z.uuid() });
const nullableTimestamp = (value: Date | null) => (value === null ? null : sql.timestamp(value));
const jsonOrNull = (value: unknown) => (value === null ? null : sql.jsonb(value as Parameters<typeof sql.jsonb>[0]));

/**
 * The publisher's projection of account events. Every write carries the event's time and changes the row only
 * when no newer event was applied (`last_event_at`): a late, older event changes nothing. Each returns whether
 * it applied.
 */
export function createAccountsProjection(connection: CommonQueryMethods) {
  return {
    async upsertConnected(account: ConnectedAccount, eventAt: Date): Promise<boolean> {
      const row = await connection.maybeOne(sql.type(Applied)`
        INSERT INTO ${accounts} (
          social_account_id, organisation_id, platform, account_type, platform_account_id, page_id, username, status,
          status_reason, capabilities, access_token, token_expires_at, publishing_limit, last_event_at
        ) VALUES (
          ${account.socialAccountId}, ${account.organisationId}, ${account.platform}, ${account.accountType}, ${account.platformAccountId},
          ${account.pageId}, ${account.username}, 'active', NULL, ${sql.jsonb(account.capabilities)}, ${account.accessToken},
          ${nullableTimestamp(account.tokenExpiresAt)}, ${jsonOrNull(account.publishingLimit)}, ${sql.timestamp(eventAt)}
        )
        ON CONFLICT (social_account_id) DO UPDATE SET
          account_type = EXCLUDED.account_type,
          platform_account_id = EXCLUDED.platform_account_id,
          page_id = EXCLUDED.page_id,
          username = EXCLUDED.username,
          status = 'active',
          status_reason = NULL,
          capabilities = EXCLUDED.capabilities,
          access_token = EXCLUDED.access_token,
          token_expires_at = EXCLUDED.token_expires_at,
          publishing_limit = COALESCE(EXCLUDED.publishing_limit, ${accounts}.publishing_limit),
          last_event_at = EXCLUDED.last_event_at
        WHERE ${accounts}.last_event_at <= EXCLUDED.last_event_at AND ${accounts}.organisation_id = EXCLUDED.organisation_id
        RETURNING social_account_id`);
      return row !== null;
    },

    /** account.updated carries the whole profile but no token: it changes a known account, never creates one. */
    async applyProfile(profile: AccountProfile, eventAt: Date): Promise<boolean> {
      const row = await connection.maybeOne(sql.type(Applied)`
        UPDATE ${accounts} SET
          account_type = ${profile.accountType}, platform_account_id = ${profile.platformAccountId}, page_id = ${profile.pageId},
          username = ${profile.username}, status = ${profile.status}, capabilities = ${sql.jsonb(profile.capabilities)},
          publishing_limit = COALESCE(${jsonOrNull(profile.publishingLimit)}, publishing_limit), last_event_at = ${sql.timestamp(eventAt)}
        WHERE social_account_id = ${profile.socialAccountId} AND organisation_id = ${profile.organisationId} AND last_event_at <= ${sql.timestamp(eventAt)}
        RETURNING social_account_id`);
      return row !== null;
    },

    async replaceToken(socialAccountId: string, organisationId: string, accessToken: string, tokenExpiresAt: Date | null, eventAt: Date): Promise<boolean> {
      const row = await connection.maybeOne(sql.type(Applied)`
        UPDATE ${accounts} SET access_token = ${accessToken}, token_expires_at = ${nullableTimestamp(tokenExpiresAt)}, last_event_at = ${sql.timestamp(eventAt)}
        WHERE social_account_id = ${socialAccountId} AND organisation_id = ${organisationId} AND last_event_at <= ${sql.timestamp(eventAt)}
        RETURNING social_account_id`);
      return row !== null;
    },

    async setStatus(socialAccountId: string, organisationId: string, status: 'expired' | 'disconnected', reason: string, eventAt: Date): Promise<boolean> {
      const row = await connection.maybeOne(sql.type(Applied)`
        UPDATE ${accounts} SET status = ${status}, status_reason = ${reason}, last_event_at = ${sql.timestamp(eventAt)}
        WHERE social_account_id = ${socialAccountId} AND organisation_id = ${organisationId} AND last_event_at <= ${sql.timestamp(eventAt)}
        RETURNING social_account_id`);
      return row !== null;
    },

    async forValidation(socialAccountId: string) {
      return connection.maybeOne(sql.type(AccountForValidation)`
        SELECT social_account_id, organisation_id, platform, status, capabilities FROM ${accounts} WHERE social_account_id = ${socialAccountId}`);
    },

    async forPlatformCall(socialAccountId: string) {
      return connection.maybeOne(sql.type(AccountForPlatformCall)`
        SELECT social_account_id, platform, access_token, status FROM ${accounts} WHERE social_account_id = ${socialAccountId}`);
    },
  };
}
