import { type DatabasePool, sql } from 'slonik';
import { z } from 'zod';
import { setCallerClaims } from './claims.ts';

/**
 * The organisation of `userId` from the host's `users` table, or null when no such user exists. The
 * lookup carries the user as its claims, so it also works where the host guards `users` with RLS.
 */
export function createOrganisationLookup(pool: DatabasePool): (userId: string) => Promise<string | null> {
  return (userId) =>
    pool.transaction(async (connection) => {
      await setCallerClaims(connection, { sub: userId });
      return connection.maybeOneFirst(sql.type(z.object({ organisation_id: z.uuid() }))`
        SELECT organisation_id FROM public.users WHERE id = ${userId}`);
    });
}
