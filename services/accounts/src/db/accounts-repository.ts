import type { AccountType, Platform } from '@postwire/contracts';
import { type CommonQueryMethods, sql } from '@postwire/db';
import { z } from 'zod';
import { AccountState } from './account-row.ts';

const table = sql.identifier(['accounts', 'social_media_accounts']);

/**
 * What `access_token` holds once a token is erased. The seed keeps the column NOT NULL; encrypting an empty
 * string would still look like a token, so erasure is the literal empty string, never a ciphertext.
 */
export const ERASED_TOKEN = '';

export type AccountRow = {
  readonly id: string;
  readonly organisationId: string;
  readonly platform: Platform;
  readonly accountType: z.infer<typeof AccountType>;
  readonly platformAccountId: string;
  readonly username: string | null;
  readonly profilePictureUrl: string | null;
  readonly pageId: string | null;
  readonly pageName: string | null;
  /** Already encrypted for this row's access_token column. */
  readonly accessToken: string;
  readonly tokenExpiresAt: Date | null;
  readonly canPublishFeed: boolean;
  readonly canPublishStories: boolean;
  readonly canPublishReels: boolean;
};

const Existing = AccountState.pick({ id: true, status: true });
const Upserted = z.object({ id: z.string(), inserted: z.boolean() });
const Found = AccountState.extend({ erased: z.boolean() });
const Failures = z.object({ connection_error_count: z.number() });
const Id = z.object({ id: z.string() });

export type AccountsRepository = ReturnType<typeof createAccountsRepository>;

/** Queries on accounts.social_media_accounts; runs on the pool or inside a transaction alike. */
export function createAccountsRepository(connection: CommonQueryMethods) {
  return {
    /** Locks the row of (organisation, platform, platform account id), if there is one, for this transaction. */
    async lockByPlatformId(organisationId: string, platform: string, platformAccountId: string) {
      return connection.maybeOne(sql.type(Existing)`
        SELECT id, status FROM ${table}
         WHERE organisation_id = ${organisationId} AND platform = ${platform} AND platform_account_id = ${platformAccountId}
         FOR UPDATE
      `);
    },

    async lockById(organisationId: string, id: string) {
      return connection.maybeOne(sql.type(Found)`
        SELECT id, platform, status, access_token = ${ERASED_TOKEN} AS erased FROM ${table}
         WHERE id = ${id} AND organisation_id = ${organisationId}
         FOR UPDATE
      `);
    },

    /**
     * Inserts the account or, when (organisation, platform, platform account id) exists, brings it back to
     * active with the new token and profile. Never a second row. Returns the id the row really has.
     */
    async upsertConnected(row: AccountRow) {
      return connection.one(sql.type(Upserted)`
        INSERT INTO ${table} (
          id, organisation_id, platform, account_type, platform_account_id, username, profile_picture_url,
          access_token, token_expires_at, refresh_token, page_id, page_name,
          last_synced_at, last_token_refresh, status, error_message, connection_error_count,
          can_publish_feed, can_publish_stories, can_publish_reels
        ) VALUES (
          ${row.id}, ${row.organisationId}, ${row.platform}, ${row.accountType}, ${row.platformAccountId}, ${row.username},
          ${row.profilePictureUrl}, ${row.accessToken}, ${row.tokenExpiresAt === null ? null : sql.timestamp(row.tokenExpiresAt)}, NULL,
          ${row.pageId}, ${row.pageName}, NOW(), NOW(), 'active', NULL, 0,
          ${row.canPublishFeed}, ${row.canPublishStories}, ${row.canPublishReels}
        )
        ON CONFLICT (organisation_id, platform, platform_account_id) DO UPDATE SET
          account_type = EXCLUDED.account_type,
          username = EXCLUDED.username,
          profile_picture_url = EXCLUDED.profile_picture_url,
          access_token = EXCLUDED.access_token,
          token_expires_at = EXCLUDED.token_expires_at,
          refresh_token = NULL,
          page_id = EXCLUDED.page_id,
          page_name = EXCLUDED.page_name,
          last_synced_at = NOW(),
          last_token_refresh = NOW(),
          status = 'active',
          error_message = NULL,
          connection_error_count = 0,
          can_publish_feed = EXCLUDED.can_publish_feed,
          can_publish_stories = EXCLUDED.can_publish_stories,
          can_publish_reels = EXCLUDED.can_publish_reels
        RETURNING id, (xmax = 0) AS inserted
      `);
    },

    /** Records a failed reconnect on an existing account; its status stays (the old token may still work). */
    async recordConnectionError(organisationId: string, id: string, message: string) {
      const row = await connection.maybeOne(sql.type(Failures)`
        UPDATE ${table}
           SET error_message = ${message}, connection_error_count = COALESCE(connection_error_count, 0) + 1
         WHERE id = ${id} AND organisation_id = ${organisationId}
         RETURNING connection_error_count
      `);
      return row?.connection_error_count;
    },

    /** Disconnects and erases both tokens. */
    async markDisconnected(id: string) {
      await connection.one(sql.type(Id)`
        UPDATE ${table}
           SET status = 'disconnected', access_token = ${ERASED_TOKEN}, refresh_token = NULL, token_expires_at = NULL, error_message = NULL
         WHERE id = ${id}
         RETURNING id
      `);
    },

    async delete(id: string) {
      await connection.one(sql.type(Id)`DELETE FROM ${table} WHERE id = ${id} RETURNING id`);
    },
  };
}
