import { type CommonQueryMethods, type DatabasePool, type DatabaseTransactionConnection, sql } from 'slonik';

/** What the gateway verified about the caller, forwarded to the service that owns the data. */
export type CallerClaims = {
  readonly sub: string;
  readonly organisationId: string;
  readonly role?: string;
  readonly [claim: string]: unknown;
};

/**
 * Runs `work` in one transaction with the caller's claims set for that transaction only
 * (`set_config(..., true)` is `SET LOCAL`), so `auth.uid()` and the RLS policies see this caller
 * and nobody else, even on a pooled connection.
 */
export async function withCallerClaims<T>(
  pool: DatabasePool,
  claims: CallerClaims,
  work: (connection: DatabaseTransactionConnection) => Promise<T>,
): Promise<T> {
  return pool.transaction(async (connection) => {
    await setCallerClaims(connection, claims);
    return work(connection);
  });
}

export async function setCallerClaims(connection: CommonQueryMethods, claims: CallerClaims | { readonly sub: string }): Promise<void> {
  // auth.uid() believes the claims only next to this transaction's own start time, so claims set for a
  // whole session (plain SET) by any code path never speak for a later request on the same connection.
  await connection.query(sql.unsafe`
    SELECT set_config('request.jwt.claims', ${JSON.stringify(claims)}, true),
           set_config('request.jwt.transaction', extract(epoch FROM transaction_timestamp())::text, true)
  `);
}
