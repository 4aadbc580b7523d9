import { z } from 'zod';

/**
 * The public shape of a connected account: what the accounts service answers and the gateway
 * documents. Tokens are never part of it, in any form.
 */
export const AccountResource = z.object({
  id: z.uuid(),
  platform: z.enum(['instagram', 'facebook']),
  accountType: z.enum(['business', 'creator', 'page']).nullable(),
  platformAccountId: z.string(),
  username: z.string().nullable().describe('@handle for Instagram, Page name for Facebook'),
  profilePictureUrl: z.string().nullable(),
  pageId: z.string().nullable().describe('The Facebook Page (for an Instagram account: the Page it is linked to)'),
  pageName: z.string().nullable(),
  status: z.enum(['active', 'expired', 'disconnected', 'error']),
  errorMessage: z.string().nullable().describe('What the user can do when the account is not active'),
  capabilities: z.object({ feed: z.boolean(), stories: z.boolean(), reels: z.boolean() }),
  tokenExpiresAt: z.iso.datetime().nullable().describe('Null: the token does not expire (Page tokens)'),
  connectedAt: z.iso.datetime(),
  lastSyncedAt: z.iso.datetime().nullable(),
  lastTokenRefresh: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type AccountResource = z.infer<typeof AccountResource>;

export const AccountList = z.object({ data: z.array(AccountResource) });

export const AccountListQuery = z.object({
  status: z.enum(['active', 'expired', 'disconnected', 'error']).optional().describe('Only accounts in this state'),
  platform: z.enum(['instagram', 'facebook']).optional(),
});

export const AccountCapabilities = z.object({
  accountId: z.uuid(),
  canPostFeed: z.boolean(),
  canPostStories: z.boolean(),
  canPostReels: z.boolean(),
  isActive: z.boolean(),
});

export const ExpiringAccountsQuery = z.object({
  days: z.coerce.number().int().min(1).max(60).default(7).describe('Tokens that expire within this many days'),
});

export const ExpiringAccounts = z.object({
  data: z.array(
    z.object({
      id: z.uuid(),
      platform: z.enum(['instagram', 'facebook']),
      username: z.string().nullable(),
      tokenExpiresAt: z.iso.datetime(),
      daysUntilExpiry: z.number(),
    }),
  ),
});

export const AccountIdParams = z.object({ id: z.uuid() });
