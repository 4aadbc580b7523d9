import { AccountStatus, AccountType, Platform } from '@postwire/contracts';
import { z } from 'zod';

// slonik's default type parsers give timestamptz as epoch milliseconds.
const timestamp = z.number();

/**
 * The one row schema of accounts.social_media_accounts (seed schema), its enums the contracts' own. Queries
 * read named projections of it, never a schema of their own.
 */
export const SocialMediaAccountRow = z.object({
  id: z.uuid(),
  organisation_id: z.uuid(),
  platform: Platform,
  account_type: AccountType.nullable(),
  platform_account_id: z.string(),
  username: z.string().nullable(),
  profile_picture_url: z.string().nullable(),
  page_id: z.string().nullable(),
  page_name: z.string().nullable(),
  access_token: z.string(),
  refresh_token: z.string().nullable(),
  token_expires_at: timestamp.nullable(),
  status: AccountStatus,
  error_message: z.string().nullable(),
  connection_error_count: z.number(),
  can_publish_feed: z.boolean().nullable(),
  can_publish_stories: z.boolean().nullable(),
  can_publish_reels: z.boolean().nullable(),
  connected_at: timestamp,
  last_synced_at: timestamp.nullable(),
  last_token_refresh: timestamp.nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});

export type SocialMediaAccountRow = z.infer<typeof SocialMediaAccountRow>;

/** What a read answers: every column but the organisation and the two token columns. */
export const ReadableAccount = SocialMediaAccountRow.omit({ organisation_id: true, access_token: true, refresh_token: true, connection_error_count: true });

/** A row a lifecycle worker holds locked while it decides: its profile, token and state. */
export const LockedAccount = SocialMediaAccountRow.pick({
  id: true,
  organisation_id: true,
  platform: true,
  account_type: true,
  platform_account_id: true,
  username: true,
  profile_picture_url: true,
  page_id: true,
  page_name: true,
  access_token: true,
  status: true,
  connection_error_count: true,
  can_publish_feed: true,
  can_publish_stories: true,
  can_publish_reels: true,
}).extend({
  // Nullable in the seed for rows written elsewhere; every row this service connects has them.
  account_type: AccountType,
  can_publish_feed: z.boolean(),
  can_publish_stories: z.boolean(),
  can_publish_reels: z.boolean(),
});

/** A row a lifecycle worker may call Meta for. */
export const TokenCandidate = SocialMediaAccountRow.pick({ id: true, organisation_id: true, platform: true, access_token: true, token_expires_at: true });

/** The row a connect or disconnect request finds. */
export const AccountState = SocialMediaAccountRow.pick({ id: true, platform: true, status: true });
