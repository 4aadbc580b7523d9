import { z } from 'zod';
import { defineEvent, defineTopic } from '../define.ts';
import {
  AccountStatus,
  AccountType,
  Capabilities,
  EncryptedSecret,
  ErrorInfo,
  HttpsUrl,
  Platform,
  PublishingLimit,
  Timestamp,
  Uuid,
} from '../primitives.ts';

// Profile fields other services keep in their projections (event-carried state transfer).
const profile = {
  socialAccountId: Uuid,
  platform: Platform,
  accountType: AccountType,
  platformAccountId: z.string().min(1).max(64),
  username: z.string().max(100).nullable(),
  profilePictureUrl: HttpsUrl.nullable(),
  pageId: z.string().max(64).nullable().describe('Facebook Page id (a Page, or the Page an Instagram account is linked to)'),
  pageName: z.string().max(200).nullable(),
  capabilities: Capabilities,
};

export const accountConnected = defineEvent({
  type: 'account.connected',
  summary: 'An Instagram professional account or Facebook Page is connected (or reconnected) and can publish.',
  data: z.object({
    ...profile,
    accessToken: EncryptedSecret.describe('Long-lived token; the publisher stores it as received'),
    tokenExpiresAt: Timestamp.nullable().describe('Null: a Page token that does not expire'),
    publishingLimit: PublishingLimit.optional(),
    connectedAt: Timestamp,
    reconnected: z.boolean(),
  }),
});

export const accountUpdated = defineEvent({
  type: 'account.updated',
  summary: 'A sync or health check found new profile data or capabilities; carries the whole profile, not a diff.',
  data: z.object({
    ...profile,
    status: AccountStatus,
    publishingLimit: PublishingLimit.optional(),
    lastSyncedAt: Timestamp,
  }),
});

export const accountTokenRefreshed = defineEvent({
  type: 'account.token-refreshed',
  summary: 'The long-lived token was refreshed before it expired.',
  data: z.object({
    socialAccountId: Uuid,
    platform: Platform,
    accessToken: EncryptedSecret,
    tokenExpiresAt: Timestamp.nullable(),
    refreshedAt: Timestamp,
  }),
});

export const tokenExpiring = defineEvent({
  type: 'token.expiring',
  summary: 'The expiry scan found a token that expires soon (example query 4); notifications and refresh follow it.',
  data: z.object({
    socialAccountId: Uuid,
    platform: Platform,
    tokenExpiresAt: Timestamp,
    expiresInSeconds: z.int().nonnegative(),
    refreshable: z.boolean().describe('False when only the user can renew access (reconnect needed)'),
  }),
});

export const accountExpired = defineEvent({
  type: 'account.expired',
  summary: 'The token no longer works; the account needs a reconnect. Queued posts wait or fail with a reconnect message.',
  data: z.object({
    socialAccountId: Uuid,
    platform: Platform,
    reason: z.enum(['token-expired', 'token-invalidated', 'password-changed', 'permissions-revoked']),
    error: ErrorInfo.optional(),
    expiredAt: Timestamp,
  }),
});

export const accountDisconnected = defineEvent({
  type: 'account.disconnected',
  summary:
    'The account is disconnected: queued posts are cancelled. With deleted=true the account is gone and its posts are deleted.',
  data: z.object({
    socialAccountId: Uuid,
    platform: Platform,
    reason: z.enum(['user-request', 'permissions-revoked', 'platform-removed']),
    deleted: z.boolean(),
    disconnectedAt: Timestamp,
  }),
});

export const accountConnectionFailed = defineEvent({
  type: 'account.connection-failed',
  summary: 'Connecting, discovering or checking an account failed; the message says what the user can do.',
  data: z.object({
    socialAccountId: Uuid,
    platform: Platform,
    stage: z.enum(['token-exchange', 'discovery', 'scope-check', 'health-check', 'refresh']),
    error: ErrorInfo,
    missingScopes: z.array(z.string()).optional(),
    consecutiveFailures: z.int().positive(),
  }),
});

export const accountEvents = defineTopic({
  name: 'postwire.account-events.v1',
  id: 'accountEventsV1',
  title: 'Account events',
  description: 'Facts about connected social media accounts, owned by the accounts service.',
  kind: 'fact',
  producer: 'accounts',
  consumers: ['publisher', 'gateway', 'analytics'],
  events: [
    accountConnected,
    accountUpdated,
    accountTokenRefreshed,
    tokenExpiring,
    accountExpired,
    accountDisconnected,
    accountConnectionFailed,
  ],
});
