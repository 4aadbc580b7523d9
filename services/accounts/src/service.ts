import { columnContext } from '@postwire/crypto';

/** The accounts service's schema (inbox, outbox, tables) and its CloudEvents source. */
export const ACCOUNTS = { schema: 'accounts', source: '/postwire/accounts', consumer: 'accounts' } as const;

const TABLE = 'social_media_accounts';

/** A stored access token is bound to its row and column: it opens as no other row's. */
export function accessTokenContext(accountId: string) {
  return columnContext(TABLE, accountId, 'access_token');
}
