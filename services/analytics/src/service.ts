import { columnContext } from '@postwire/crypto';

/** The analytics service's schema (inbox, outbox, tables) and its CloudEvents source. */
export const ANALYTICS = { schema: 'analytics', source: '/postwire/analytics', consumer: 'analytics' } as const;

/** A token in the account projection is bound to its row and column: it opens as no other row's. */
export function accountTokenContext(accountId: string) {
  return columnContext('analytics.accounts', accountId, 'access_token');
}
