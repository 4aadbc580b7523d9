import { ContentType, FacebookFormat, type MediaItem, Platform, type PostContent, PostStatus, PostType } from '@postwire/contracts';
import { type CommonQueryMethods, sql } from '@postwire/db';
import { z } from 'zod';

const posts = sql.identifier(['publisher', 'social_media_posts']);
const postMedia = sql.identifier(['publisher', 'post_media']);

// slonik's default type parsers give timestamptz as epoch milliseconds.
const timestamp = z.number();

/**
 * The one row schema of publisher.social_media_posts (the seed's columns and migration 004's), its enums the
 * contracts' own. Queries read named projections of it.
 */
export const SocialMediaPostRow = z.object({
  id: z.uuid(),
  organisation_id: z.uuid(),
  social_account_id: z.uuid(),
  created_by: z.uuid(),
  content_type: ContentType,
  content_id: z.uuid().nullable(),
  content_url: z.string(),
  thumbnail_url: z.string().nullable(),
  caption: z.string().nullable(),
  post_type: PostType,
  hashtags: z.array(z.string()).nullable(),
  location_id: z.string().nullable(),
  share_to_feed: z.boolean().nullable(),
  scheduled_for: timestamp.nullable(),
  published_at: timestamp.nullable(),
  platform: Platform,
  platform_post_id: z.string().nullable(),
  platform_url: z.string().nullable(),
  container_id: z.string().nullable(),
  status: PostStatus,
  error_message: z.string().nullable(),
  retry_count: z.number().nullable(),
  max_retries: z.number().nullable(),
  likes_count: z.number().nullable(),
  comments_count: z.number().nullable(),
  shares_count: z.number().nullable(),
  saves_count: z.number().nullable(),
  reach: z.number().nullable(),
  impressions: z.number().nullable(),
  plays_count: z.number().nullable(),
  engagement_rate: z.coerce.number().nullable(),
  last_analytics_sync: timestamp.nullable(),
  analytics_available: z.boolean().nullable(),
  facebook_format: FacebookFormat.nullable(),
  link_url: z.string().nullable(),
  first_comment: z.string().nullable(),
  collaborators: z.array(z.string()),
  trial_graduation: z.enum(['MANUAL', 'SS_PERFORMANCE']).nullable(),
  request_hash: z.string().nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});
export type SocialMediaPostRow = z.infer<typeof SocialMediaPostRow>;

/** What a request handler needs of a post: everything its content, state and ownership are made of. */
export const PostState = SocialMediaPostRow.pick({
  id: true,
  organisation_id: true,
  social_account_id: true,
  content_id: true,
  caption: true,
  post_type: true,
  hashtags: true,
  location_id: true,
  share_to_feed: true,
  scheduled_for: true,
  platform: true,
  platform_post_id: true,
  status: true,
  retry_count: true,
  link_url: true,
  first_comment: true,
  collaborators: true,
  trial_graduation: true,
  request_hash: true,
}).extend({ version: z.string() });
export type PostState = z.infer<typeof PostState>;

/**
 * A post's version: its updated_at in microseconds since the epoch, as text. Every change to the row (and so to
 * what a read shows of it: its media change only with it) moves updated_at through the seed's trigger, so the
 * version names one state of the post. Reads answer it as the post's ETag; a request carrying it (If-Match) is
 * applied only while the locked row is still at it.
 */
export const POST_VERSION = sql.fragment`(EXTRACT(EPOCH FROM updated_at) * 1000000)::bigint::text`;

const POST_STATE_COLUMNS = sql.fragment`
  id, organisation_id, social_account_id, content_id, caption, post_type, hashtags, location_id, share_to_feed,
  scheduled_for, platform, platform_post_id, status, retry_count, link_url, first_comment, collaborators,
  trial_graduation, request_hash, ${POST_VERSION} AS version`;

/** The one row schema of publisher.post_media. */
export const PostMediaRow = z.object({
  post_id: z.uuid(),
  position: z.number(),
  media_type: ContentType,
  url: z.string(),
  thumbnail_url: z.string().nullable(),
  alt_text: z.string().nullable(),
  user_tags: z.array(z.object({ username: z.string(), x: z.number().optional(), y: z.number().optional() })),
  cover_url: z.string().nullable(),
  thumb_offset_ms: z.number().nullable(),
});
export type PostMediaRow = z.infer<typeof PostMediaRow>;

export const MEDIA_COLUMNS = sql.fragment`post_id, position, media_type, url, thumbnail_url, alt_text, user_tags, cover_url, thumb_offset_ms`;

/** A media row in the contracts' shape (absent fields left out). */
export function toMediaItem(row: Omit<PostMediaRow, 'post_id'>): MediaItem {
  return {
    position: row.position,
    mediaType: row.media_type,
    url: row.url,
    ...(row.thumbnail_url === null ? {} : { thumbnailUrl: row.thumbnail_url }),
    ...(row.alt_text === null ? {} : { altText: row.alt_text }),
    ...(row.user_tags.length === 0 ? {} : { userTags: row.user_tags }),
    ...(row.cover_url === null ? {} : { coverUrl: row.cover_url }),
    ...(row.thumb_offset_ms === null ? {} : { thumbOffsetMs: row.thumb_offset_ms }),
  };
}

/** A stored post's content in the contracts' shape, so a change can be applied to it and the result validated. */
export function toContent(row: PostState, media: readonly PostMediaRow[]): PostContent {
  return {
    platform: row.platform,
    postType: row.post_type,
    media: media.map(toMediaItem),
    ...(row.content_id === null ? {} : { contentId: row.content_id }),
    ...(row.caption === null ? {} : { caption: row.caption }),
    ...(row.hashtags === null || row.hashtags.length === 0 ? {} : { hashtags: row.hashtags }),
    ...(row.location_id === null ? {} : { locationId: row.location_id }),
    ...(row.link_url === null ? {} : { link: row.link_url }),
    ...(row.share_to_feed === true ? { shareToFeed: true } : {}),
    ...(row.trial_graduation === null ? {} : { trialParams: { graduationStrategy: row.trial_graduation } }),
    ...(row.first_comment === null ? {} : { firstComment: row.first_comment }),
    ...(row.collaborators.length === 0 ? {} : { collaborators: row.collaborators }),
  };
}

/**
 * The seed's single-media columns, kept as the first item (by position) of the media list. A Facebook text post
 * has no media: content_url is '' (the seed's column is NOT NULL) and content_type 'image'; a link post stores
 * its link there.
 */
export function seedMediaColumns(content: PostContent): { contentUrl: string; contentType: 'image' | 'video'; thumbnailUrl: string | null } {
  const first = [...content.media].sort((a, b) => a.position - b.position)[0];
  if (first === undefined) return { contentUrl: content.link ?? '', contentType: 'image', thumbnailUrl: null };
  return { contentUrl: first.url, contentType: first.mediaType, thumbnailUrl: first.thumbnailUrl ?? null };
}

export type NewPost = {
  readonly id: string;
  readonly organisationId: string;
  readonly socialAccountId: string;
  readonly createdBy: string;
  readonly content: PostContent;
  readonly facebookFormat: z.infer<typeof FacebookFormat> | null;
  readonly status: 'draft' | 'queued';
  readonly scheduledFor: Date | null;
  readonly requestHash: string | null;
};

const Id = z.object({ id: z.uuid() });
const Removed = SocialMediaPostRow.pick({ id: true, status: true, content_id: true, platform: true, social_account_id: true, retry_count: true });

const nullableTimestamp = (value: Date | null) => (value === null ? null : sql.timestamp(value));

/** The content columns of a post, in the order `INSERT` and `UPDATE` list them. */
function contentValues(content: PostContent, facebookFormat: string | null) {
  const seed = seedMediaColumns(content);
  return {
    content_type: seed.contentType,
    content_id: content.contentId ?? null,
    content_url: seed.contentUrl,
    thumbnail_url: seed.thumbnailUrl,
    caption: content.caption ?? null,
    post_type: content.postType,
    hashtags: content.hashtags === undefined ? null : sql.array(content.hashtags, 'text'),
    location_id: content.locationId ?? null,
    share_to_feed: content.shareToFeed ?? false,
    facebook_format: facebookFormat,
    link_url: content.link ?? null,
    first_comment: content.firstComment ?? null,
    collaborators: sql.array(content.collaborators ?? [], 'text'),
    trial_graduation: content.trialParams?.graduationStrategy ?? null,
  };
}

export type PostsRepository = ReturnType<typeof createPostsRepository>;

/** Writes and locked reads of publisher.social_media_posts and post_media; on the pool or inside a transaction alike. */
export function createPostsRepository(connection: CommonQueryMethods) {
  async function replaceMedia(postId: string, organisationId: string, media: readonly MediaItem[]): Promise<void> {
    await connection.query(sql.type(z.object({}))`DELETE FROM ${postMedia} WHERE post_id = ${postId}`);
    if (media.length === 0) return;
    const ordered = [...media].sort((a, b) => a.position - b.position);
    // Positions are stored 0..n-1 in the given order, so media[i] in a violation is the i-th stored item.
    await connection.query(sql.type(z.object({}))`
      INSERT INTO ${postMedia} (post_id, organisation_id, position, media_type, url, thumbnail_url, alt_text, user_tags, cover_url, thumb_offset_ms)
      SELECT * FROM ${sql.unnest(
        ordered.map((item, index) => [
          postId,
          organisationId,
          index,
          item.mediaType,
          item.url,
          item.thumbnailUrl ?? null,
          item.altText ?? null,
          JSON.stringify(item.userTags ?? []),
          item.coverUrl ?? null,
          item.thumbOffsetMs ?? null,
        ]),
        ['uuid', 'uuid', 'int2', 'text', 'text', 'text', 'text', 'jsonb', 'text', 'int4'],
      )}`);
  }

  return {
    /** The post, locked for this transaction; null when there is none. */
    async lock(postId: string) {
      return connection.maybeOne(sql.type(PostState)`SELECT ${POST_STATE_COLUMNS} FROM ${posts} WHERE id = ${postId} FOR UPDATE`);
    },

    async find(postId: string) {
      return connection.maybeOne(sql.type(PostState)`SELECT ${POST_STATE_COLUMNS} FROM ${posts} WHERE id = ${postId}`);
    },

    async media(postId: string) {
      return connection.any(sql.type(PostMediaRow)`SELECT ${MEDIA_COLUMNS} FROM ${postMedia} WHERE post_id = ${postId} ORDER BY position`);
    },

    async insert(post: NewPost): Promise<void> {
      const values = contentValues(post.content, post.facebookFormat);
      await connection.one(sql.type(Id)`
        INSERT INTO ${posts} (
          id, organisation_id, social_account_id, created_by, platform, status, scheduled_for, request_hash,
          content_type, content_id, content_url, thumbnail_url, caption, post_type, hashtags, location_id, share_to_feed,
          facebook_format, link_url, first_comment, collaborators, trial_graduation
        ) VALUES (
          ${post.id}, ${post.organisationId}, ${post.socialAccountId}, ${post.createdBy}, ${post.content.platform}, ${post.status},
          ${nullableTimestamp(post.scheduledFor)}, ${post.requestHash},
          ${values.content_type}, ${values.content_id}, ${values.content_url}, ${values.thumbnail_url}, ${values.caption}, ${values.post_type},
          ${values.hashtags}, ${values.location_id}, ${values.share_to_feed}, ${values.facebook_format}, ${values.link_url},
          ${values.first_comment}, ${values.collaborators}, ${values.trial_graduation}
        )
        RETURNING id`);
      await replaceMedia(post.id, post.organisationId, post.content.media);
    },

    /** Replaces the content (and media list when `mediaChanged`), the status and the time. */
    async update(
      postId: string,
      organisationId: string,
      change: { readonly content: PostContent; readonly facebookFormat: string | null; readonly status: 'draft' | 'queued'; readonly scheduledFor: Date | null; readonly mediaChanged: boolean },
    ): Promise<void> {
      const values = contentValues(change.content, change.facebookFormat);
      await connection.one(sql.type(Id)`
        UPDATE ${posts} SET
          status = ${change.status}, scheduled_for = ${nullableTimestamp(change.scheduledFor)},
          content_type = ${values.content_type}, content_id = ${values.content_id}, content_url = ${values.content_url},
          thumbnail_url = ${values.thumbnail_url}, caption = ${values.caption}, post_type = ${values.post_type},
          hashtags = ${values.hashtags}, location_id = ${values.location_id}, share_to_feed = ${values.share_to_feed},
          facebook_format = ${values.facebook_format}, link_url = ${values.link_url}, first_comment = ${values.first_comment},
          collaborators = ${values.collaborators}, trial_graduation = ${values.trial_graduation}
        WHERE id = ${postId}
        RETURNING id`);
      if (change.mediaChanged) await replaceMedia(postId, organisationId, change.content.media);
    },

    /** A state change without new content: schedule, publish now, cancel. */
    async setStatus(postId: string, status: 'draft' | 'queued', scheduledFor: Date | null): Promise<void> {
      await connection.one(sql.type(Id)`
        UPDATE ${posts} SET status = ${status}, scheduled_for = ${nullableTimestamp(scheduledFor)} WHERE id = ${postId} RETURNING id`);
    },

    /** Failed -> queued for now, counting retries from zero again. */
    async requeue(postId: string, now: Date): Promise<void> {
      await connection.one(sql.type(Id)`
        UPDATE ${posts} SET status = 'queued', retry_count = 0, error_message = NULL, scheduled_for = ${sql.timestamp(now)}
        WHERE id = ${postId} RETURNING id`);
    },

    /**
     * Soft delete: the row stays with status deleted. The seed's scheduled_or_published check wants a time on every
     * post that is neither draft nor failed, so a draft never scheduled keeps its deletion time there.
     */
    async markDeleted(postId: string): Promise<void> {
      await connection.one(sql.type(Id)`
        UPDATE ${posts}
        SET status = 'deleted', scheduled_for = CASE WHEN scheduled_for IS NULL AND published_at IS NULL THEN NOW() ELSE scheduled_for END
        WHERE id = ${postId}
        RETURNING id`);
    },

    /** The account's failed posts of this organisation, oldest first; locked for the transaction when `lock`. */
    async failedOfAccount(organisationId: string, socialAccountId: string, lock: boolean) {
      return connection.any(sql.type(PostState)`
        SELECT ${POST_STATE_COLUMNS} FROM ${posts}
        WHERE organisation_id = ${organisationId} AND social_account_id = ${socialAccountId} AND status = 'failed'
        ORDER BY created_at, id
        ${lock ? sql.fragment`FOR UPDATE` : sql.fragment``}`);
    },

    /** Fails every queued post of the account (claimed ones fail on their own at Meta); returns what failed. */
    async failQueuedOfAccount(socialAccountId: string, message: string) {
      return connection.any(sql.type(Removed)`
        UPDATE ${posts} SET status = 'failed', error_message = ${message}
        WHERE social_account_id = ${socialAccountId} AND status = 'queued'
        RETURNING id, status, content_id, platform, social_account_id, retry_count`);
    },

    /** The seed's ON DELETE CASCADE from the account: every post of it goes, media with them. Returns what was there. */
    async deleteAllOfAccount(socialAccountId: string) {
      return connection.any(sql.type(Removed)`
        DELETE FROM ${posts} WHERE social_account_id = ${socialAccountId}
        RETURNING id, status, content_id, platform, social_account_id, retry_count`);
    },
  };
}
