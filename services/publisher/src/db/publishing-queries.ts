import { z } from 'zod';
import { AccountStatus, AccountType, FacebookFormat, type MediaItem, MediaItem as MediaItemSchema, Platform, PostStatus, PostType } from '@postwire/contracts';
import { type CommonQueryMethods, sql } from '@postwire/db';
import type { GraphErrorInfo } from '@postwire/graph';
import { PostMediaRow, toMediaItem } from './posts-repository.ts';

const posts = sql.identifier(['publisher', 'social_media_posts']);
const media = sql.identifier(['publisher', 'post_media']);
const accounts = sql.identifier(['publisher', 'accounts']);

const Candidate = z.object({ id: z.uuid(), social_account_id: z.uuid() });
const AccountId = z.object({ social_account_id: z.uuid() });
const Id = z.object({ id: z.uuid() });
const Count = z.object({ count: z.number() });

// The media rows as the claim aggregates them (json_agg over post_media), without their post's id.
const StoredMedia = PostMediaRow.omit({ post_id: true });

/** A claimed post with everything its flow needs, its account's projection included. */
export const ClaimedPost = z.object({
  id: z.uuid(),
  organisation_id: z.uuid(),
  social_account_id: z.uuid(),
  content_id: z.uuid().nullable(),
  content_type: z.enum(['video', 'image']),
  content_url: z.string(),
  thumbnail_url: z.string().nullable(),
  caption: z.string().nullable(),
  hashtags: z.array(z.string()).nullable(),
  post_type: PostType,
  platform: Platform,
  facebook_format: FacebookFormat.nullable(),
  location_id: z.string().nullable(),
  share_to_feed: z.boolean().nullable(),
  link_url: z.string().nullable(),
  first_comment: z.string().nullable(),
  collaborators: z.array(z.string()),
  trial_graduation: z.enum(['MANUAL', 'SS_PERFORMANCE']).nullable(),
  scheduled_for: z.number().nullable(),
  retry_count: z.number().nullable(),
  max_retries: z.number().nullable(),
  publish_state: z.record(z.string(), z.unknown()),
  publishing_started_at: z.number(),
  previous_status: PostStatus,
  new_attempt: z.boolean(),
  claimed_at: z.number(),
  media: z.array(StoredMedia),
  account_type: AccountType,
  platform_account_id: z.string(),
  page_id: z.string().nullable(),
  username: z.string().nullable(),
  account_status: AccountStatus,
  access_token: z.string(),
});
export type ClaimedPost = z.infer<typeof ClaimedPost>;

/**
 * The ordered media list; a post stored with only the seed's content_url (no media rows) has that one item,
 * except a Facebook text or link post, which has none.
 */
export function mediaOf(row: ClaimedPost): MediaItem[] {
  if (row.media.length === 0) {
    if (row.facebook_format === 'text' || row.facebook_format === 'link') return [];
    return [MediaItemSchema.parse({ position: 0, mediaType: row.content_type, url: row.content_url, ...(row.thumbnail_url === null ? {} : { thumbnailUrl: row.thumbnail_url }) })];
  }
  return row.media.map(toMediaItem);
}

const Published = z.object({ id: z.uuid(), content_id: z.uuid().nullable(), published_at: z.number(), retry_count: z.number().nullable() });
const Ended = z.object({ id: z.uuid(), retry_count: z.number().nullable() });

export type PublishingLimitRecord = { readonly quotaTotal: number; readonly quotaUsage: number; readonly windowSeconds: number; readonly checkedAt: string };

/** Queries of the publishing engine; the claim runs in a transaction, the rest on the pool or in one. */
export function createPublishingQueries(connection: CommonQueryMethods) {
  const lease = (ms: number) => sql.fragment`now() + make_interval(secs => ${ms / 1000})`;
  const releaseAccount = (socialAccountId: string, instanceId: string, extra = sql.fragment``) => sql.fragment`
    UPDATE ${accounts}
       SET claimed_by = NULL, claimed_until = NULL ${extra}
     WHERE social_account_id = ${socialAccountId} AND claimed_by = ${instanceId}
  `;

  return {
    /**
     * Up to `limit` due posts, one per account and in turns across organisations (each organisation's oldest
     * first, then each one's second..., counting the posts each already has in hand): queued posts whose time came, and processing posts whose next look is
     * due and whose lease ran out. Only posts of accounts that are neither claimed nor paused; the candidates are
     * read from the due index (`scan` rows at most) without locks.
     */
    async dueCandidates(limit: number, scan: number, instanceId: string) {
      return connection.any(sql.type(Candidate)`
        WITH due AS (
          SELECT p.id, p.social_account_id, p.organisation_id, COALESCE(p.next_attempt_at, p.scheduled_for) AS due_at
            FROM ${posts} p
           WHERE p.status IN ('queued', 'processing')
             AND COALESCE(p.next_attempt_at, p.scheduled_for) <= now()
             AND (p.claimed_until IS NULL OR p.claimed_until < now())
           ORDER BY COALESCE(p.next_attempt_at, p.scheduled_for), p.id
           LIMIT ${scan}
        ), per_account AS (
          SELECT d.id, d.social_account_id, d.organisation_id, d.due_at,
                 row_number() OVER (PARTITION BY d.social_account_id ORDER BY d.due_at, d.id) AS account_rank
            FROM due d
            JOIN ${accounts} a ON a.social_account_id = d.social_account_id
           WHERE (a.claimed_until IS NULL OR a.claimed_until < now())
             AND (a.paused_until IS NULL OR a.paused_until <= now())
        ), in_hand AS (
          SELECT p.organisation_id, count(*) AS posts
            FROM ${posts} p
           WHERE p.claimed_by IS NOT NULL AND p.claimed_until >= now()
           GROUP BY p.organisation_id
        ), per_organisation AS (
          -- An organisation with k posts in hand (on any instance) takes its turn as if its next post ranked k + 1.
          SELECT pa.id, pa.social_account_id, pa.due_at,
                 COALESCE(h.posts, 0) + row_number() OVER (PARTITION BY pa.organisation_id ORDER BY pa.due_at, hashtext(pa.id::text || ${instanceId})) AS organisation_rank,
                 hashtext(pa.id::text || ${instanceId}) AS spread
            FROM per_account pa
            LEFT JOIN in_hand h ON h.organisation_id = pa.organisation_id
           WHERE pa.account_rank = 1
        )
        -- Posts due at the same instant are taken in an order of this instance's own (\`spread\`), so instances
        -- claiming at the same moment mostly reach for different accounts instead of skipping each other's.
        SELECT id, social_account_id FROM per_organisation ORDER BY organisation_rank, due_at, spread LIMIT ${limit}
      `);
    },

    /**
     * Locks the accounts still free (FOR UPDATE SKIP LOCKED): an account another instance is claiming right now is
     * skipped, and one it claimed a moment ago fails the re-check of its lease on the locked row.
     */
    async lockFreeAccounts(socialAccountIds: readonly string[]) {
      if (socialAccountIds.length === 0) return [];
      const rows = await connection.any(sql.type(AccountId)`
        SELECT a.social_account_id
          FROM ${accounts} a
         WHERE a.social_account_id = ANY(${sql.array([...socialAccountIds], 'uuid')})
           AND (a.claimed_until IS NULL OR a.claimed_until < now())
           AND (a.paused_until IS NULL OR a.paused_until <= now())
         ORDER BY a.social_account_id
           FOR UPDATE SKIP LOCKED
      `);
      return rows.map((row) => row.social_account_id);
    },

    /** Claims the picked posts of the locked accounts (still due, still unclaimed) and their accounts, with one lease. */
    async claim(postIds: readonly string[], lockedAccountIds: readonly string[], instanceId: string, leaseMs: number) {
      if (postIds.length === 0 || lockedAccountIds.length === 0) return [];
      return connection.any(sql.type(ClaimedPost)`
        WITH picked AS (
          SELECT p.id, p.status AS previous_status, p.announced_attempt AS previous_announced
            FROM ${posts} p
           WHERE p.id = ANY(${sql.array([...postIds], 'uuid')})
             AND p.social_account_id = ANY(${sql.array([...lockedAccountIds], 'uuid')})
             AND p.status IN ('queued', 'processing')
             AND COALESCE(p.next_attempt_at, p.scheduled_for) <= now()
             AND (p.claimed_until IS NULL OR p.claimed_until < now())
             FOR UPDATE SKIP LOCKED
        ), claimed AS (
          UPDATE ${posts} p
             SET status = 'processing',
                 claimed_by = ${instanceId},
                 claimed_until = ${lease(leaseMs)},
                 publishing_started_at = COALESCE(p.publishing_started_at, now()),
                 announced_attempt = COALESCE(p.retry_count, 0) + 1
            FROM picked
           WHERE p.id = picked.id
          RETURNING p.id, p.organisation_id, p.social_account_id, p.content_id, p.content_type, p.content_url, p.thumbnail_url,
                    p.caption, p.hashtags, p.post_type, p.platform, p.facebook_format, p.location_id, p.share_to_feed, p.link_url,
                    p.first_comment, p.collaborators, p.trial_graduation, p.scheduled_for, p.retry_count, p.max_retries,
                    p.publish_state, p.publishing_started_at, picked.previous_status,
                    (picked.previous_status = 'queued' OR picked.previous_announced < COALESCE(p.retry_count, 0) + 1) AS new_attempt
        ), held AS (
          UPDATE ${accounts} a
             SET claimed_by = ${instanceId}, claimed_until = ${lease(leaseMs)}
            FROM claimed c
           WHERE a.social_account_id = c.social_account_id
          RETURNING a.social_account_id, a.account_type, a.platform_account_id, a.page_id, a.username, a.status, a.access_token
        )
        SELECT c.*, now() AS claimed_at,
               h.account_type, h.platform_account_id, h.page_id, h.username, h.status AS account_status, h.access_token,
               COALESCE((
                 SELECT json_agg(json_build_object(
                          'position', m.position, 'media_type', m.media_type, 'url', m.url, 'thumbnail_url', m.thumbnail_url,
                          'alt_text', m.alt_text, 'user_tags', m.user_tags, 'cover_url', m.cover_url, 'thumb_offset_ms', m.thumb_offset_ms
                        ) ORDER BY m.position)
                   FROM ${media} m WHERE m.post_id = c.id
               ), '[]'::json) AS media
          FROM claimed c
          JOIN held h ON h.social_account_id = c.social_account_id
      `);
    },

    /**
     * Saves a flow's progress and renews the post's lease; false when this instance no longer holds the post.
     * (The account's lease is renewed with the others by the engine's lease timer: one row written per save.)
     */
    async saveProgress(postId: string, instanceId: string, progress: Record<string, unknown>, leaseMs: number) {
      const row = await connection.maybeOne(sql.type(Id)`
        UPDATE ${posts}
           SET publish_state = ${sql.jsonb(progress as never)}, claimed_until = ${lease(leaseMs)}
         WHERE id = ${postId} AND claimed_by = ${instanceId} AND status = 'processing'
        RETURNING id
      `);
      return row !== null;
    },

    /** Renews the leases of every post (and account) this instance has in hand. */
    async renewLeases(postIds: readonly string[], instanceId: string, leaseMs: number) {
      if (postIds.length === 0) return;
      await connection.query(sql.type(z.object({}))`
        WITH renewed AS (
          UPDATE ${posts} SET claimed_until = ${lease(leaseMs)}
           WHERE id = ANY(${sql.array([...postIds], 'uuid')}) AND claimed_by = ${instanceId}
          RETURNING social_account_id
        )
        UPDATE ${accounts} a SET claimed_until = ${lease(leaseMs)}
          FROM renewed r
         WHERE a.social_account_id = r.social_account_id AND a.claimed_by = ${instanceId}
      `);
    },

    /**
     * The post waits (container processing, quota, rate limit): next look at `nextAttemptAt`, both claims released
     * so no worker is held meanwhile. `pause` holds the whole account back (rate limit, quota).
     */
    async wait(
      post: { readonly id: string; readonly socialAccountId: string },
      instanceId: string,
      /** Undefined keeps the saved progress (a failed step saved what it had done). */
      progress: Record<string, unknown> | undefined,
      nextAttemptAt: Date,
      options: { readonly pause?: { readonly until: Date; readonly reason: 'rate-limit' | 'quota' }; readonly publishingLimit?: PublishingLimitRecord | undefined } = {},
    ) {
      const row = await connection.maybeOne(sql.type(Id)`
        WITH waiting AS (
          UPDATE ${posts}
             SET publish_state = COALESCE(${progress === undefined ? null : sql.jsonb(progress as never)}::jsonb, publish_state),
                 next_attempt_at = ${sql.timestamp(nextAttemptAt)},
                 claimed_by = NULL, claimed_until = NULL
           WHERE id = ${post.id} AND claimed_by = ${instanceId} AND status = 'processing'
          RETURNING id
        ), released AS (
          ${releaseAccount(
            post.socialAccountId,
            instanceId,
            sql.fragment`
              , paused_until = ${options.pause === undefined ? null : sql.timestamp(options.pause.until)}
              , paused_reason = ${options.pause?.reason ?? null}
              , publishing_limit = COALESCE(${options.publishingLimit === undefined ? null : sql.jsonb(options.publishingLimit)}::jsonb, publishing_limit)`,
          )}
          RETURNING social_account_id
        )
        SELECT w.id FROM waiting w LEFT JOIN released r ON true
      `);
      return row !== null;
    },

    /** Marks the post published (the flow's ids and permalink) and releases the account; false when the claim was lost. */
    async markPublished(
      post: { readonly id: string; readonly socialAccountId: string },
      instanceId: string,
      result: { readonly progress: Record<string, unknown>; readonly platformPostId: string; readonly platformUrl: string | null },
      publishingLimit: PublishingLimitRecord | undefined,
    ) {
      const container = typeof result.progress.container === 'string' ? result.progress.container : null;
      const commentId = typeof result.progress.commentId === 'string' ? result.progress.commentId : null;
      // One statement: the post and the release of its account (with the last quota read).
      return connection.maybeOne(sql.type(Published)`
        WITH published AS (
          UPDATE ${posts}
             SET status = 'published', published_at = now(), platform_post_id = ${result.platformPostId},
                 platform_url = ${result.platformUrl}, container_id = COALESCE(${container}, container_id),
                 first_comment_id = COALESCE(${commentId}, first_comment_id), publish_state = ${sql.jsonb(result.progress as never)},
                 next_attempt_at = NULL, claimed_by = NULL, claimed_until = NULL, error_message = NULL, last_error = NULL
           WHERE id = ${post.id} AND claimed_by = ${instanceId} AND status = 'processing'
          RETURNING id, content_id, published_at, retry_count
        ), released AS (
          ${releaseAccount(
            post.socialAccountId,
            instanceId,
            sql.fragment`, publishing_limit = COALESCE(${publishingLimit === undefined ? null : sql.jsonb(publishingLimit)}::jsonb, publishing_limit)`,
          )}
             AND EXISTS (SELECT 1 FROM published)
          RETURNING social_account_id
        )
        SELECT p.id, p.content_id, p.published_at, p.retry_count FROM published p LEFT JOIN released r ON true
      `);
    },

    /** Another attempt after `nextAttemptAt`, counted in retry_count; the claims are released meanwhile. */
    async scheduleRetry(post: { readonly id: string; readonly socialAccountId: string }, instanceId: string, retryCount: number, nextAttemptAt: Date, error: GraphErrorInfo) {
      const row = await connection.maybeOne(sql.type(Ended)`
        UPDATE ${posts}
           SET retry_count = ${retryCount}, next_attempt_at = ${sql.timestamp(nextAttemptAt)}, error_message = ${error.message},
               last_error = ${sql.jsonb(error)}, claimed_by = NULL, claimed_until = NULL
         WHERE id = ${post.id} AND claimed_by = ${instanceId} AND status = 'processing'
        RETURNING id, retry_count
      `);
      if (row !== null) await connection.query(sql.type(z.object({}))`${releaseAccount(post.socialAccountId, instanceId)}`);
      return row;
    },

    /**
     * Fails the post for good. publish_state stays: a container or an unconfirmed send it names is what a retry
     * must look at first. `accountStatus` marks the projection's account too (an invalid token: expired).
     */
    async markFailed(
      post: { readonly id: string; readonly socialAccountId: string },
      instanceId: string,
      error: GraphErrorInfo,
      accountStatus: 'expired' | null,
    ) {
      const row = await connection.maybeOne(sql.type(Ended)`
        UPDATE ${posts}
           SET status = 'failed', error_message = ${error.message}, last_error = ${sql.jsonb(error)},
               next_attempt_at = NULL, claimed_by = NULL, claimed_until = NULL
         WHERE id = ${post.id} AND claimed_by = ${instanceId} AND status = 'processing'
        RETURNING id, retry_count
      `);
      if (row === null) return null;
      await connection.query(sql.type(z.object({}))`
        ${releaseAccount(
          post.socialAccountId,
          instanceId,
          accountStatus === null
            ? sql.fragment``
            : sql.fragment`, status = CASE WHEN status = 'active' THEN ${accountStatus} ELSE status END, status_reason = ${error.message}`,
        )}
      `);
      return row;
    },

    /** Gives back the claims of posts this instance holds but will not step (shutdown): another instance may take them at once. */
    async releaseAll(instanceId: string) {
      await connection.query(sql.type(z.object({}))`
        WITH posts_released AS (
          UPDATE ${posts} SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ${instanceId} RETURNING id
        )
        UPDATE ${accounts} SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ${instanceId}
      `);
    },

    /** In how many ms the next post falls due, if one does within `withinMs` (so the dispatcher wakes right then). */
    async nextDueInMs(withinMs: number) {
      return connection.oneFirst(sql.type(z.object({ in_ms: z.number().nullable() }))`
        SELECT ceil(extract(epoch FROM min(COALESCE(p.next_attempt_at, p.scheduled_for)) - now()) * 1000)::int AS in_ms
          FROM ${posts} p
         WHERE p.status IN ('queued', 'processing')
           AND COALESCE(p.next_attempt_at, p.scheduled_for) > now()
           AND COALESCE(p.next_attempt_at, p.scheduled_for) <= now() + make_interval(secs => ${withinMs / 1000})
      `);
    },

    /** Posts due now that no instance holds (the due-but-unclaimed gauge). */
    async dueUnclaimed() {
      return connection.oneFirst(sql.type(Count)`
        SELECT count(*)::int AS count
          FROM ${posts} p
         WHERE p.status IN ('queued', 'processing')
           AND COALESCE(p.next_attempt_at, p.scheduled_for) <= now()
           AND (p.claimed_until IS NULL OR p.claimed_until < now())
      `);
    },
  };
}

export type PublishingQueries = ReturnType<typeof createPublishingQueries>;
