import { z } from 'zod';
import { defineEvent, defineTopic } from '../define.ts';
import { EncryptedSecret, Platform, Timestamp, Uuid } from '../primitives.ts';

export const accountAuthorized = defineEvent({
  type: 'account.authorized',
  summary:
    'The gateway finished an OAuth connect flow: the code was exchanged, the short-lived token encrypted. ' +
    'The accounts service exchanges it for a long-lived token and discovers the Pages and Instagram accounts.',
  data: z.object({
    socialAccountId: Uuid.describe(
      'Key. The account being reconnected, or for a new login an id the gateway derives from (organisation, platform, platform user id)',
    ),
    platform: Platform,
    platformUserId: z.string().min(1).max(64).describe('The Meta user id that granted access'),
    shortLivedToken: EncryptedSecret,
    tokenExpiresAt: Timestamp,
    grantedScopes: z.array(z.string().min(1)).min(1),
    reconnect: z.boolean().describe('True when the user re-authorised an account that already exists'),
  }),
});

export const accountDisconnectRequested = defineEvent({
  type: 'account.disconnect-requested',
  summary:
    'A user asked to disconnect an account. With mode "delete" the account and its posts are removed (the seed\'s ON DELETE CASCADE).',
  data: z.object({
    socialAccountId: Uuid,
    mode: z.enum(['disconnect', 'delete']),
    revokeOnPlatform: z.boolean().describe('Also revoke the app permissions at Meta'),
  }),
});

export const accountRequests = defineTopic({
  name: 'postwire.account-requests.v1',
  id: 'accountRequestsV1',
  title: 'Account requests',
  description: 'Commands about social media accounts, accepted by the gateway on behalf of a user.',
  kind: 'request',
  producer: 'gateway',
  consumers: ['accounts'],
  events: [accountAuthorized, accountDisconnectRequested],
});
