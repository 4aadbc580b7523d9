import { type TokenCipher, columnContext, keyIdOf } from '@postwire/crypto';
import { type DatabasePool, sql } from '@postwire/db';
import { z } from 'zod';
import { ERASED_TOKEN } from './accounts-repository.ts';

export type ReencryptReport = {
  /** Rows whose tokens were re-encrypted with the active key. */
  readonly reencrypted: number;
  /** Rows that could not be decrypted (a key no longer in the ring, a tampered value); left unchanged. */
  readonly failed: number;
  readonly failedIds: readonly string[];
  readonly batches: number;
};

const Candidate = z.object({ id: z.string(), access_token: z.string(), refresh_token: z.string().nullable() });
const Id = z.object({ id: z.string() });

const TABLE = 'social_media_accounts';

/**
 * Re-encrypts every stored token not made with the active key, in batches of short transactions. Rows are
 * claimed with FOR UPDATE SKIP LOCKED, so a connect or refresh writing a row at the same time is not blocked
 * (it writes with the active key anyway) and several runs can share the work. Erased tokens stay erased.
 */
export async function reencryptTokens(pool: DatabasePool, cipher: TokenCipher, options: { readonly batchSize?: number } = {}): Promise<ReencryptReport> {
  const batchSize = options.batchSize ?? 200;
  const active = cipher.activeKeyId;
  const failedIds: string[] = [];
  let reencrypted = 0;
  let batches = 0;
  for (;;) {
    const done = await pool.transaction(async (connection) => {
      const rows = await connection.any(sql.type(Candidate)`
        SELECT id, access_token, refresh_token FROM accounts.social_media_accounts
         WHERE ((access_token <> ${ERASED_TOKEN} AND split_part(access_token, ':', 3) <> ${active})
             OR (refresh_token IS NOT NULL AND refresh_token <> ${ERASED_TOKEN} AND split_part(refresh_token, ':', 3) <> ${active}))
           AND NOT (id = ANY(${sql.array(failedIds, 'uuid')}))
         ORDER BY id
         LIMIT ${batchSize}
         FOR UPDATE SKIP LOCKED
      `);
      if (rows.length === 0) return true;
      batches += 1;
      for (const row of rows) {
        const renew = (value: string | null, column: string) =>
          value === null || value === ERASED_TOKEN || keyIdOf(value) === active ? value : cipher.reencrypt(value, columnContext(TABLE, row.id, column));
        let accessToken: string | null;
        let refreshToken: string | null;
        try {
          accessToken = renew(row.access_token, 'access_token');
          refreshToken = renew(row.refresh_token, 'refresh_token');
        } catch {
          failedIds.push(row.id);
          continue;
        }
        await connection.one(sql.type(Id)`
          UPDATE accounts.social_media_accounts
             SET access_token = ${accessToken ?? ERASED_TOKEN}, refresh_token = ${refreshToken}
           WHERE id = ${row.id}
           RETURNING id
        `);
        reencrypted += 1;
      }
      return false;
    });
    if (done) break;
  }
  return { reencrypted, failed: failedIds.length, failedIds, batches };
}
