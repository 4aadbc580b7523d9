import { type CommonQueryMethods, sql } from '@postwire/db';
import { z } from 'zod';
import { LockedAccount, TokenCandidate } from './account-row.ts';

const accounts = sql.identifier(['accounts', 'social_media_accounts']);
const notices = sql.identifier(['accounts', 'token_expiry_notices']);

const Expiring = TokenCandidate.extend({ token_expires_at: z.number(), threshold_days: z.number() });
const Candidate = TokenCandidate.extend({ last_refresh_at: z.number() });
const Checked = Candidate.extend({ checked_at: z.number() });
const Locked = LockedAccount;
const AccountId = z.object({ account_id: z.string() });
const Id = z.object({ id: z.string() });

export type ExpiringRow = z.infer<typeof Expiring>;
export type LifecycleCandidate = z.infer<typeof Candidate>;
export type LockedAccount = z.infer<typeof Locked>;

/** Queries of the token lifecycle workers (expiry scan, refresh, health check); pool or transaction alike. */
export function createLifecycleQueries(connection: CommonQueryMethods) {
  return {
    /**
     * The seed's example query 4 (active accounts whose token expires within the widest threshold), narrowed to
     * those whose crossed threshold was not announced yet for this very expiry. Rows are claimed with
     * FOR UPDATE SKIP LOCKED: a concurrent scanner skips them instead of waiting, and takes the next ones.
     */
    async claimExpiring(now: Date, thresholdsDays: readonly number[], limit: number) {
      const at = sql.timestamp(now);
      const widest = Math.max(...thresholdsDays);
      return connection.any(sql.type(Expiring)`
        SELECT a.id, a.organisation_id, a.platform, a.access_token, a.token_expires_at, t.threshold_days
          FROM ${accounts} a
          CROSS JOIN LATERAL (
            SELECT min(d) AS threshold_days
              FROM unnest(${sql.array([...thresholdsDays], 'int4')}::int4[]) AS d
             WHERE a.token_expires_at < ${at} + make_interval(days => d)
          ) t
         WHERE a.status = 'active'
           AND a.token_expires_at IS NOT NULL
           AND a.token_expires_at < ${at} + make_interval(days => ${widest})
           AND NOT EXISTS (
             SELECT 1 FROM ${notices} n
              WHERE n.account_id = a.id AND n.threshold_days = t.threshold_days AND n.token_expires_at = a.token_expires_at
           )
         ORDER BY a.token_expires_at ASC
         LIMIT ${limit}
         FOR UPDATE OF a SKIP LOCKED
      `);
    },

    /** True when this call recorded the notice; false when it had been recorded already (announce nothing). */
    async recordNotice(accountId: string, thresholdDays: number, expiresAt: Date, now: Date) {
      const row = await connection.maybeOne(sql.type(AccountId)`
        INSERT INTO ${notices} (account_id, threshold_days, token_expires_at, announced_at)
        VALUES (${accountId}, ${thresholdDays}, ${sql.timestamp(expiresAt)}, ${sql.timestamp(now)})
        ON CONFLICT (account_id, threshold_days, token_expires_at) DO NOTHING
        RETURNING account_id
      `);
      return row !== null;
    },

    /** Instagram accounts with an expiring token refreshed (or connected) long enough ago, after `afterId`. */
    async refreshCandidates(now: Date, refreshedBefore: Date, afterId: string, limit: number) {
      return connection.any(sql.type(Candidate)`
        SELECT id, organisation_id, platform, access_token, token_expires_at, COALESCE(last_token_refresh, connected_at) AS last_refresh_at
          FROM ${accounts}
         WHERE platform = 'instagram'
           AND status IN ('active', 'error')
           AND token_expires_at IS NOT NULL
           AND token_expires_at > ${sql.timestamp(now)}
           AND COALESCE(last_token_refresh, connected_at) <= ${sql.timestamp(refreshedBefore)}
           AND id > ${afterId}
         ORDER BY id
         LIMIT ${limit}
      `);
    },

    /** Accounts to check, least recently synced first (never synced before all), after the keyset (checkedAt, id). */
    async healthCandidates(after: { readonly checkedAt: number; readonly id: string }, passStartedAt: Date, limit: number) {
      return connection.any(sql.type(Checked)`
        SELECT id, organisation_id, platform, access_token, token_expires_at,
               COALESCE(last_token_refresh, connected_at) AS last_refresh_at,
               COALESCE(last_synced_at, to_timestamp(0)) AS checked_at
          FROM ${accounts}
         WHERE status IN ('active', 'error')
           AND access_token <> ''
           AND COALESCE(last_synced_at, to_timestamp(0)) < ${sql.timestamp(passStartedAt)}
           AND (COALESCE(last_synced_at, to_timestamp(0)), id) > (${sql.timestamp(new Date(after.checkedAt))}, ${after.id})
         ORDER BY COALESCE(last_synced_at, to_timestamp(0)), id
         LIMIT ${limit}
      `);
    },

    /** One account as the health check reads it, when it is still worth asking Meta about. */
    async healthCandidate(id: string) {
      return connection.maybeOne(sql.type(Checked)`
        SELECT id, organisation_id, platform, access_token, token_expires_at,
               COALESCE(last_token_refresh, connected_at) AS last_refresh_at,
               COALESCE(last_synced_at, to_timestamp(0)) AS checked_at
          FROM ${accounts}
         WHERE id = ${id}
           AND status IN ('active', 'error')
           AND access_token <> ''
      `);
    },

    async lock(id: string) {
      return connection.maybeOne(sql.type(Locked)`
        SELECT id, organisation_id, platform, account_type, platform_account_id, username, profile_picture_url, page_id, page_name,
               access_token, status, COALESCE(connection_error_count, 0) AS connection_error_count,
               COALESCE(can_publish_feed, true) AS can_publish_feed, COALESCE(can_publish_stories, false) AS can_publish_stories,
               COALESCE(can_publish_reels, false) AS can_publish_reels
          FROM ${accounts}
         WHERE id = ${id}
         FOR UPDATE
      `);
    },

    async storeRefreshed(id: string, accessToken: string, expiresAt: Date | null, now: Date) {
      await connection.one(sql.type(Id)`
        UPDATE ${accounts}
           SET access_token = ${accessToken}, token_expires_at = ${expiresAt === null ? null : sql.timestamp(expiresAt)},
               last_token_refresh = ${sql.timestamp(now)}, status = 'active', error_message = NULL, connection_error_count = 0
         WHERE id = ${id}
         RETURNING id
      `);
    },

    async markHealthy(id: string, now: Date) {
      await connection.one(sql.type(Id)`
        UPDATE ${accounts}
           SET last_synced_at = ${sql.timestamp(now)}, status = 'active', error_message = NULL, connection_error_count = 0
         WHERE id = ${id}
         RETURNING id
      `);
    },

    async markExpired(id: string, message: string) {
      await connection.one(sql.type(Id)`
        UPDATE ${accounts}
           SET status = 'expired', error_message = ${message}, connection_error_count = COALESCE(connection_error_count, 0) + 1
         WHERE id = ${id}
         RETURNING id
      `);
    },

    /** Counts a failure; the account turns `error` (with the message) once `failures` reaches `limit`. */
    async recordFailure(id: string, failures: number, limit: number, message: string) {
      await connection.one(sql.type(Id)`
        UPDATE ${accounts}
           SET connection_error_count = ${failures},
               status = CASE WHEN ${failures} >= ${limit} THEN 'error' ELSE status END,
               error_message = CASE WHEN ${failures} >= ${limit} THEN ${message} ELSE error_message END
         WHERE id = ${id}
         RETURNING id
      `);
    },
  };
}
