import { z } from 'zod';
import { type CommonQueryMethods, sql } from '@postwire/db';
import { ReadableAccount, SocialMediaAccountRow } from './account-row.ts';

const AccountRow = ReadableAccount;

// Every column but the two token columns: they never leave the service through a read.
const ACCOUNT_COLUMNS = sql.fragment`
  id, platform, account_type, platform_account_id, username, profile_picture_url, page_id, page_name,
  status, error_message, can_publish_feed, can_publish_stories, can_publish_reels, token_expires_at,
  connected_at, last_synced_at, last_token_refresh, created_at, updated_at`;

const iso = (value: number) => new Date(value).toISOString();
const isoOrNull = (value: number | null) => (value === null ? null : iso(value));

function toResource(row: z.infer<typeof AccountRow>) {
  return {
    id: row.id,
    platform: row.platform,
    accountType: row.account_type,
    platformAccountId: row.platform_account_id,
    username: row.username,
    profilePictureUrl: row.profile_picture_url,
    pageId: row.page_id,
    pageName: row.page_name,
    status: row.status,
    errorMessage: row.error_message,
    capabilities: {
      feed: row.can_publish_feed ?? false,
      stories: row.can_publish_stories ?? false,
      reels: row.can_publish_reels ?? false,
    },
    tokenExpiresAt: isoOrNull(row.token_expires_at),
    connectedAt: iso(row.connected_at),
    lastSyncedAt: isoOrNull(row.last_synced_at),
    lastTokenRefresh: isoOrNull(row.last_token_refresh),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/**
 * Reads for the caller's organisation. They run on a connection that carries the caller's claims,
 * so the seed's RLS policies decide as well as the explicit organisation filter.
 */
export function createAccountReads(connection: CommonQueryMethods) {
  return {
    /** The seed's example query 1, with the status and platform as optional filters. */
    async list(organisationId: string, filter: { readonly status?: string; readonly platform?: string }) {
      const conditions = [sql.fragment`organisation_id = ${organisationId}`];
      if (filter.status) conditions.push(sql.fragment`status = ${filter.status}`);
      if (filter.platform) conditions.push(sql.fragment`platform = ${filter.platform}`);
      const rows = await connection.any(sql.type(AccountRow)`
        SELECT ${ACCOUNT_COLUMNS}
        FROM accounts.social_media_accounts
        WHERE ${sql.join(conditions, sql.fragment` AND `)}
        ORDER BY platform, created_at`);
      return rows.map(toResource);
    },

    async get(organisationId: string, id: string) {
      const row = await connection.maybeOne(sql.type(AccountRow)`
        SELECT ${ACCOUNT_COLUMNS}
        FROM accounts.social_media_accounts
        WHERE organisation_id = ${organisationId} AND id = ${id}`);
      return row ? toResource(row) : undefined;
    },

    /**
     * The seed's get_account_capabilities; no row when the account is not the organisation's (the same
     * filter as every sibling read) or the caller may not see it.
     */
    async capabilities(organisationId: string, id: string) {
      return connection.maybeOne(sql.type(
        z.object({ can_post_feed: z.boolean().nullable(), can_post_stories: z.boolean().nullable(), can_post_reels: z.boolean().nullable(), is_active: z.boolean() }),
      )`
        SELECT capabilities.can_post_feed, capabilities.can_post_stories, capabilities.can_post_reels, capabilities.is_active
        FROM accounts.social_media_accounts AS account
        CROSS JOIN LATERAL accounts.get_account_capabilities(account.id) AS capabilities
        WHERE account.organisation_id = ${organisationId} AND account.id = ${id}`);
    },

    /** The seed's example query 4, for one organisation. */
    async expiring(organisationId: string, days: number) {
      const rows = await connection.any(sql.type(
        SocialMediaAccountRow.pick({ id: true, platform: true, username: true }).extend({
          token_expires_at: z.number().transform(iso),
          days_until_expiry: z.coerce.number(),
        }),
      )`
        SELECT id, platform, username, token_expires_at,
               EXTRACT(EPOCH FROM (token_expires_at - NOW())) / 86400 AS days_until_expiry
        FROM accounts.social_media_accounts
        WHERE organisation_id = ${organisationId}
          AND status = 'active'
          AND token_expires_at IS NOT NULL
          AND token_expires_at < NOW() + make_interval(days => ${days})
        ORDER BY token_expires_at ASC`);
      return rows.map((row) => ({
        id: row.id,
        platform: row.platform,
        username: row.username,
        tokenExpiresAt: row.token_expires_at,
        daysUntilExpiry: Math.round(row.days_until_expiry * 100) / 100,
      }));
    },
  };
}
