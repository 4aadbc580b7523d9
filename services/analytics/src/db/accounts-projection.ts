import { type CommonQueryMethods, sql } from '@postwire/db';
import { z } from 'zod';
import { AccountRow } from './rows.ts';

const accounts = sql.identifier(['analytics', 'accounts']);
const pauses = sql.identifier(['analytics', 'rate_limit_pauses']);
const columns = sql.fragment`id, organisation_id, platform, account_type, platform_account_id, page_id, access_token, status, token_refused_at, paused_until`;
const Id = z.object({ id: z.string() });
const Pause = z.object({ paused_until: z.number() });

export type AccountProfile = {
  readonly id: string;
  readonly organisationId: string;
  readonly platform: 'instagram' | 'facebook';
  readonly accountType: 'business' | 'creator' | 'page' | null;
  readonly platformAccountId: string;
  readonly pageId: string | null;
};

/** The projection of account events the syncs read tokens and status from; pool or transaction alike. */
export function createAccountsProjection(connection: CommonQueryMethods) {
  return {
    /** account.connected: a (re)connected account, active with its new token (encrypted for this column). */
    async connect(profile: AccountProfile, encryptedToken: string): Promise<void> {
      await connection.query(sql.type(Id)`
        INSERT INTO ${accounts} (id, organisation_id, platform, account_type, platform_account_id, page_id, access_token, status)
        VALUES (${profile.id}, ${profile.organisationId}, ${profile.platform}, ${profile.accountType}, ${profile.platformAccountId},
                ${profile.pageId}, ${encryptedToken}, 'active')
        ON CONFLICT (id) DO UPDATE SET
          account_type = EXCLUDED.account_type, platform_account_id = EXCLUDED.platform_account_id, page_id = EXCLUDED.page_id,
          access_token = EXCLUDED.access_token, status = 'active', token_refused_at = NULL
        RETURNING id
      `);
    },

    /** account.updated: profile and status; the token is kept. Unknown accounts are not created (no token to use). */
    async update(profile: AccountProfile, status: AccountRow['status']): Promise<void> {
      await connection.query(sql.type(Id)`
        UPDATE ${accounts}
           SET account_type = ${profile.accountType}, platform_account_id = ${profile.platformAccountId}, page_id = ${profile.pageId}, status = ${status}
         WHERE id = ${profile.id}
        RETURNING id
      `);
    },

    async replaceToken(id: string, encryptedToken: string): Promise<void> {
      await connection.query(sql.type(Id)`
        UPDATE ${accounts} SET access_token = ${encryptedToken}, token_refused_at = NULL WHERE id = ${id} RETURNING id
      `);
    },

    async setStatus(id: string, status: AccountRow['status']): Promise<void> {
      await connection.query(sql.type(Id)`UPDATE ${accounts} SET status = ${status} WHERE id = ${id} RETURNING id`);
    },

    /** Disconnected: the token is erased (a disconnected account is never called again with it). */
    async disconnect(id: string): Promise<void> {
      await connection.query(sql.type(Id)`UPDATE ${accounts} SET status = 'disconnected', access_token = NULL WHERE id = ${id} RETURNING id`);
    },

    async delete(id: string): Promise<void> {
      await connection.query(sql.type(Id)`DELETE FROM ${accounts} WHERE id = ${id} RETURNING id`);
    },

    async get(id: string) {
      return connection.maybeOne(sql.type(AccountRow)`SELECT ${columns} FROM ${accounts} WHERE id = ${id}`);
    },

    /**
     * Meta refused the token a sync used. Only that token is marked: a sync still in flight when the account was
     * reconnected must not mark the new token refused.
     */
    async markTokenRefused(id: string, usedToken: string, at: Date): Promise<void> {
      await connection.query(sql.type(Id)`
        UPDATE ${accounts} SET token_refused_at = ${sql.timestamp(at)} WHERE id = ${id} AND access_token = ${usedToken} RETURNING id
      `);
    },

    /** A business use case limit: no call for this account before `until` (a later pause never shortens one in force). */
    async pause(id: string, until: Date): Promise<void> {
      await connection.query(sql.type(Id)`
        UPDATE ${accounts} SET paused_until = GREATEST(COALESCE(paused_until, ${sql.timestamp(until)}), ${sql.timestamp(until)}) WHERE id = ${id} RETURNING id
      `);
    },

    /** An app-wide limit (error 4): every instance stops calling until `until`. */
    async pauseApp(until: Date, reason: string): Promise<void> {
      await connection.query(sql.type(z.object({ scope: z.string() }))`
        INSERT INTO ${pauses} (scope, paused_until, reason) VALUES ('app', ${sql.timestamp(until)}, ${reason})
        ON CONFLICT (scope) DO UPDATE SET paused_until = GREATEST(${pauses}.paused_until, EXCLUDED.paused_until), reason = EXCLUDED.reason, updated_at = NOW()
        RETURNING scope
      `);
    },

    /** Until when the whole app is paused (undefined: it is not). */
    async appPausedUntil(now: Date): Promise<Date | undefined> {
      const row = await connection.maybeOne(sql.type(Pause)`
        SELECT paused_until FROM ${pauses} WHERE scope = 'app' AND paused_until > ${sql.timestamp(now)}
      `);
      return row === null ? undefined : new Date(row.paused_until);
    },
  };
}
