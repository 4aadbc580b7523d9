import { type CommonQueryMethods, sql } from '@postwire/db';
import type { PostType } from '@postwire/contracts';
import { z } from 'zod';
import { TrackedPostRow } from './rows.ts';

const posts = sql.identifier(['analytics', 'tracked_posts']);
const snapshots = sql.identifier(['analytics', 'social_media_analytics_snapshots']);
const columns = sql.fragment`id, organisation_id, social_account_id, platform, post_type, platform_post_id, published_at,
  last_refresh_requested_at, syncs_stopped_reason, facebook_post_id`;
const Id = z.object({ id: z.string() });
const Count = z.object({ count: z.coerce.number() });

export type PublishedPost = {
  readonly id: string;
  readonly organisationId: string;
  readonly socialAccountId: string;
  readonly platform: 'instagram' | 'facebook';
  readonly postType: PostType;
  readonly platformPostId: string;
  readonly publishedAt: Date;
};

/** The projection of published posts (what the snapshots' RLS reads); pool or transaction alike. */
export function createTrackedPostsRepository(connection: CommonQueryMethods) {
  return {
    /** True when the post is new here (a redelivered or repeated post.published changes nothing). */
    async insertPublished(post: PublishedPost): Promise<boolean> {
      const row = await connection.maybeOne(sql.type(Id)`
        INSERT INTO ${posts} (id, organisation_id, social_account_id, platform, post_type, platform_post_id, published_at)
        VALUES (${post.id}, ${post.organisationId}, ${post.socialAccountId}, ${post.platform}, ${post.postType}, ${post.platformPostId},
                ${sql.timestamp(post.publishedAt)})
        ON CONFLICT (id) DO NOTHING
        RETURNING id
      `);
      return row !== null;
    },

    async get(postId: string) {
      return connection.maybeOne(sql.type(TrackedPostRow)`SELECT ${columns} FROM ${posts} WHERE id = ${postId}`);
    },

    async lock(postId: string) {
      return connection.maybeOne(sql.type(TrackedPostRow)`SELECT ${columns} FROM ${posts} WHERE id = ${postId} FOR UPDATE`);
    },

    /** The seed's ON DELETE CASCADE, kept by post.deleted: the snapshots go, the syncs go with the row. Answers snapshots removed. */
    async delete(postId: string): Promise<number> {
      const removed = await connection.one(sql.type(Count)`
        WITH gone AS (DELETE FROM ${snapshots} WHERE post_id = ${postId} RETURNING 1)
        SELECT count(*) AS count FROM gone
      `);
      await connection.query(sql.type(Id)`DELETE FROM ${posts} WHERE id = ${postId} RETURNING id`);
      return removed.count;
    },

    async markRefreshRequested(postId: string, at: Date): Promise<void> {
      await connection.query(sql.type(Id)`UPDATE ${posts} SET last_refresh_requested_at = ${sql.timestamp(at)} WHERE id = ${postId} RETURNING id`);
    },

    async stopSyncs(postId: string, reason: string): Promise<void> {
      await connection.query(sql.type(Id)`UPDATE ${posts} SET syncs_stopped_reason = ${reason} WHERE id = ${postId} RETURNING id`);
    },

    async rememberFacebookPost(postId: string, facebookPostId: string): Promise<void> {
      await connection.query(sql.type(Id)`UPDATE ${posts} SET facebook_post_id = ${facebookPostId} WHERE id = ${postId} RETURNING id`);
    },
  };
}
