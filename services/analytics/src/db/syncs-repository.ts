import { type CommonQueryMethods, sql } from '@postwire/db';
import { z } from 'zod';
import type { ScheduledSync } from '../domain/schedule.ts';
import { AccountRow, SyncRow, TrackedPostRow } from './rows.ts';

const syncs = sql.identifier(['analytics', 'insight_syncs']);
const posts = sql.identifier(['analytics', 'tracked_posts']);
const accounts = sql.identifier(['analytics', 'accounts']);
const Id = z.object({ id: z.string() });

/** A claimed sync with what running it needs: the post and the account (its token still encrypted). */
export const ClaimedSync = SyncRow.extend({
  post: TrackedPostRow,
  account: AccountRow,
  /** When the post's next scheduled sync is due (a "not yet" recheck never runs past it). */
  next_due_at: z.number().nullable(),
});
export type ClaimedSync = z.infer<typeof ClaimedSync>;

/** The sync schedule; pool or transaction alike. */
export function createSyncsRepository(connection: CommonQueryMethods) {
  return {
    /** Each offset once per post: a repeated schedule (redelivered post.published) adds nothing. */
    async schedule(postId: string, socialAccountId: string, schedule: readonly ScheduledSync[]): Promise<number> {
      if (schedule.length === 0) return 0;
      const rows = await connection.any(sql.type(Id)`
        INSERT INTO ${syncs} (post_id, social_account_id, kind, offset_ms, due_at, next_attempt_at)
        SELECT ${postId}, ${socialAccountId}, 'scheduled', input.offset_ms, input.due_at, input.due_at
          FROM ${sql.unnest(
            schedule.map((sync) => [sync.offsetMs, sync.dueAt.toISOString()]),
            ['int8', 'timestamptz'],
          )} AS input(offset_ms, due_at)
        ON CONFLICT (post_id, offset_ms) DO NOTHING
        RETURNING id
      `);
      return rows.length;
    },

    async addOnDemand(postId: string, socialAccountId: string, at: Date): Promise<string> {
      return connection.oneFirst(sql.type(Id)`
        INSERT INTO ${syncs} (post_id, social_account_id, kind, due_at, next_attempt_at)
        VALUES (${postId}, ${socialAccountId}, 'on-demand', ${sql.timestamp(at)}, ${sql.timestamp(at)})
        RETURNING id
      `);
    },

    /**
     * Takes up to `limit` due syncs for `owner` until `now + leaseMs`: rows another instance is claiming right now
     * are skipped (SKIP LOCKED), rows under a live lease are not due, and so a sync runs on one instance at a time.
     * Only syncs whose account can be called now: active, with a token Meta has not refused, not paused.
     */
    async claim(owner: string, now: Date, leaseMs: number, limit: number): Promise<readonly ClaimedSync[]> {
      const at = sql.timestamp(now);
      return connection.any(sql.type(ClaimedSync)`
        WITH candidates AS (
          SELECT s.id
            FROM ${syncs} s
            JOIN ${accounts} a ON a.id = s.social_account_id
            JOIN ${posts} p ON p.id = s.post_id
           WHERE s.status = 'due'
             AND s.next_attempt_at <= ${at}
             AND (s.lease_until IS NULL OR s.lease_until < ${at})
             AND a.status = 'active' AND a.access_token IS NOT NULL AND a.token_refused_at IS NULL
             AND (a.paused_until IS NULL OR a.paused_until <= ${at})
             AND p.syncs_stopped_reason IS NULL
           ORDER BY s.next_attempt_at
           LIMIT ${limit}
           FOR UPDATE OF s SKIP LOCKED
        ), claimed AS (
          UPDATE ${syncs} s
             SET lease_owner = ${owner}, lease_until = ${at} + make_interval(secs => ${leaseMs / 1000})
            FROM candidates c
           WHERE s.id = c.id
          RETURNING s.id, s.post_id, s.social_account_id, s.kind, s.offset_ms, s.due_at, s.next_attempt_at, s.status, s.attempts
        )
        SELECT c.id, c.post_id, c.social_account_id, c.kind, c.offset_ms, c.due_at, c.next_attempt_at, c.status, c.attempts,
               json_build_object(
                 'id', p.id, 'organisation_id', p.organisation_id, 'social_account_id', p.social_account_id, 'platform', p.platform,
                 'post_type', p.post_type, 'platform_post_id', p.platform_post_id,
                 'published_at', (extract(epoch FROM p.published_at) * 1000)::float8,
                 'last_refresh_requested_at', (extract(epoch FROM p.last_refresh_requested_at) * 1000)::float8,
                 'syncs_stopped_reason', p.syncs_stopped_reason, 'facebook_post_id', p.facebook_post_id
               ) AS post,
               json_build_object(
                 'id', a.id, 'organisation_id', a.organisation_id, 'platform', a.platform, 'account_type', a.account_type,
                 'platform_account_id', a.platform_account_id, 'page_id', a.page_id, 'access_token', a.access_token, 'status', a.status,
                 'token_refused_at', (extract(epoch FROM a.token_refused_at) * 1000)::float8,
                 'paused_until', (extract(epoch FROM a.paused_until) * 1000)::float8
               ) AS account,
               (SELECT min(n.due_at) FROM ${syncs} n
                 WHERE n.post_id = c.post_id AND n.kind = 'scheduled' AND n.status = 'due' AND n.id <> c.id AND n.due_at > c.due_at) AS next_due_at
          FROM claimed c
          JOIN ${posts} p ON p.id = c.post_id
          JOIN ${accounts} a ON a.id = c.social_account_id
         ORDER BY c.next_attempt_at
      `);
    },

    /**
     * Ends a sync this owner still holds (done, unavailable, failed, stopped). False when the lease was lost
     * (another instance took it over, or the post was deleted meanwhile): then nothing may be written for it.
     */
    async finish(id: string, owner: string, outcome: { status: Exclude<SyncRow['status'], 'due'>; reason: string | null; snapshotId: string | null; at: Date }): Promise<boolean> {
      const row = await connection.maybeOne(sql.type(Id)`
        UPDATE ${syncs}
           SET status = ${outcome.status}, outcome_reason = ${outcome.reason}, snapshot_id = ${outcome.snapshotId},
               completed_at = ${sql.timestamp(outcome.at)}, lease_owner = NULL, lease_until = NULL
         WHERE id = ${id} AND lease_owner = ${owner} AND status = 'due'
        RETURNING id
      `);
      return row !== null;
    },

    /** Back to due at `at`; `countAttempt` false for waits that are not the sync's fault (rate limits, data lag). */
    async retryAt(id: string, owner: string, at: Date, reason: string, countAttempt: boolean): Promise<boolean> {
      const row = await connection.maybeOne(sql.type(Id)`
        UPDATE ${syncs}
           SET next_attempt_at = ${sql.timestamp(at)}, outcome_reason = ${reason}, lease_owner = NULL, lease_until = NULL,
               attempts = attempts + ${countAttempt ? 1 : 0}
         WHERE id = ${id} AND lease_owner = ${owner} AND status = 'due'
        RETURNING id
      `);
      return row !== null;
    },

    /** Gives a claim back untouched (the account turned out to be paused): due again at once. */
    async release(id: string, owner: string): Promise<void> {
      await connection.query(sql.type(Id)`
        UPDATE ${syncs} SET lease_owner = NULL, lease_until = NULL WHERE id = ${id} AND lease_owner = ${owner} AND status = 'due' RETURNING id
      `);
    },

    /** Every due sync of the post stops (Meta refused its insights for good). */
    async stopPost(postId: string, reason: string, at: Date): Promise<number> {
      const rows = await connection.any(sql.type(Id)`
        UPDATE ${syncs} SET status = 'stopped', outcome_reason = ${reason}, completed_at = ${sql.timestamp(at)}, lease_owner = NULL, lease_until = NULL
         WHERE post_id = ${postId} AND status = 'due'
        RETURNING id
      `);
      return rows.length;
    },

    /** Syncs whose time has come (for the "due" gauge), whether or not their account can be called now. */
    async countDue(now: Date): Promise<number> {
      return connection.oneFirst(sql.type(z.object({ count: z.coerce.number() }))`
        SELECT count(*) AS count FROM ${syncs} WHERE status = 'due' AND next_attempt_at <= ${sql.timestamp(now)}
      `);
    },
  };
}
