import type { PostResource } from '@postwire/api';
import type { PostStatus } from '@postwire/contracts';
import { type CommonQueryMethods, sql } from '@postwire/db';
import { z } from 'zod';
import { MEDIA_COLUMNS, POST_VERSION, PostMediaRow, SocialMediaPostRow, toMediaItem } from './posts-repository.ts';

// A post's time in the list: when it is (or was) due, or when it went out for a published post.
const POST_TIME = sql.fragment`CASE WHEN status = 'published' THEN published_at ELSE scheduled_for END`;
// The list's order, total and stable: drafts without a time sort by creation. Migration 005 indexes it.
const SORT_TIME = sql.fragment`COALESCE(CASE WHEN status = 'published' THEN published_at ELSE scheduled_for END, created_at)`;

const ReadablePost = SocialMediaPostRow.omit({ container_id: true, request_hash: true, content_type: true, content_url: true, thumbnail_url: true }).extend({
  // Microseconds since the epoch: the cursor must carry the exact value, finer than a JavaScript date.
  sort_key: z.coerce.number(),
});
type ReadablePost = z.infer<typeof ReadablePost>;

const POST_COLUMNS = sql.fragment`
  id, organisation_id, social_account_id, created_by, content_id, caption, post_type, hashtags, location_id,
  share_to_feed, scheduled_for, published_at, platform, platform_post_id, platform_url, status, error_message,
  retry_count, max_retries, likes_count, comments_count, shares_count, saves_count, reach, impressions, plays_count,
  engagement_rate, last_analytics_sync, analytics_available, facebook_format, link_url, first_comment, collaborators,
  trial_graduation, created_at, updated_at`;

const UnpostedRow = z.object({
  id: z.uuid(),
  prompt: z.string().nullable(),
  video_url: z.string(),
  thumbnail_url: z.string().nullable(),
  mode: z.string().nullable(),
  status: z.string(),
  created_at: z.number(),
  sort_key: z.coerce.number(),
});

const iso = (value: number) => new Date(value).toISOString();
const isoOrNull = (value: number | null) => (value === null ? null : iso(value));

/** Thrown for a cursor this API did not hand out; the route answers 400. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

/** `<microseconds>.<uuid>` in base64url: opaque to callers, exact for the keyset comparison. */
export function encodeCursor(sortKey: number, id: string): string {
  return Buffer.from(`${sortKey}.${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { readonly sortKey: number; readonly id: string } {
  const match = /^(-?\d{1,17})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match?.[1] || !match[2]) throw new InvalidCursorError('the cursor is not one this API handed out');
  return { sortKey: Number(match[1]), id: match[2] };
}

const fromMicros = (micros: number) => sql.fragment`(TIMESTAMPTZ 'epoch' + ${micros}::bigint * INTERVAL '1 microsecond')`;
const micros = (column: ReturnType<typeof sql.fragment>) => sql.fragment`(EXTRACT(EPOCH FROM ${column}) * 1000000)::bigint`;

function toResource(row: ReadablePost, media: readonly PostMediaRow[]): PostResource {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    socialAccountId: row.social_account_id,
    createdBy: row.created_by,
    platform: row.platform,
    postType: row.post_type,
    facebookFormat: row.facebook_format,
    status: row.status,
    content: {
      caption: row.caption,
      hashtags: row.hashtags ?? [],
      media: media.map(toMediaItem),
      contentId: row.content_id,
      locationId: row.location_id,
      link: row.link_url,
      shareToFeed: row.share_to_feed ?? false,
      trialParams: row.trial_graduation === null ? null : { graduationStrategy: row.trial_graduation },
      firstComment: row.first_comment,
      collaborators: row.collaborators,
    },
    scheduledFor: isoOrNull(row.scheduled_for),
    publishedAt: isoOrNull(row.published_at),
    platformPostId: row.platform_post_id,
    platformUrl: row.platform_url,
    errorMessage: row.error_message,
    retryCount: row.retry_count ?? 0,
    maxRetries: row.max_retries ?? 0,
    metrics: {
      likes: row.likes_count ?? 0,
      comments: row.comments_count ?? 0,
      shares: row.shares_count ?? 0,
      saves: row.saves_count ?? 0,
      reach: row.reach ?? 0,
      impressions: row.impressions ?? 0,
      plays: row.plays_count ?? 0,
      engagementRate: row.engagement_rate,
      available: row.analytics_available ?? false,
      lastSyncedAt: isoOrNull(row.last_analytics_sync),
    },
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export type PostFilter = {
  readonly status?: readonly PostStatus[] | undefined;
  readonly account?: string | undefined;
  readonly platform?: string | undefined;
  readonly type?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
};

/**
 * Reads for the caller's organisation. They run as publisher_app on a connection carrying the caller's claims,
 * so the seed's RLS policies decide, beside the explicit organisation filter.
 */
export function createPostReads(connection: CommonQueryMethods) {
  async function mediaOf(ids: readonly string[]): Promise<Map<string, PostMediaRow[]>> {
    const byPost = new Map<string, PostMediaRow[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return byPost;
    const rows = await connection.any(sql.type(PostMediaRow)`
      SELECT ${MEDIA_COLUMNS} FROM publisher.post_media WHERE post_id = ANY(${sql.array(ids, 'uuid')}) ORDER BY post_id, position`);
    for (const row of rows) byPost.get(row.post_id)?.push(row);
    return byPost;
  }

  return {
    /**
     * The seed's example query 2 generalised: filters, ordered by the post's time (then id), a keyset page.
     * Deleted posts are listed only when the status filter names them.
     */
    async list(organisationId: string, filter: PostFilter) {
      const conditions = [sql.fragment`organisation_id = ${organisationId}`];
      conditions.push(filter.status ? sql.fragment`status = ANY(${sql.array(filter.status, 'text')})` : sql.fragment`status <> 'deleted'`);
      if (filter.account) conditions.push(sql.fragment`social_account_id = ${filter.account}`);
      if (filter.platform) conditions.push(sql.fragment`platform = ${filter.platform}`);
      if (filter.type) conditions.push(sql.fragment`post_type = ${filter.type}`);
      if (filter.from) conditions.push(sql.fragment`${POST_TIME} >= ${filter.from}::timestamptz`);
      if (filter.to) conditions.push(sql.fragment`${POST_TIME} < ${filter.to}::timestamptz`);
      if (filter.cursor) {
        const after = decodeCursor(filter.cursor);
        conditions.push(sql.fragment`(${SORT_TIME}, id) > (${fromMicros(after.sortKey)}, ${after.id}::uuid)`);
      }
      const rows = await connection.any(sql.type(ReadablePost)`
        SELECT ${POST_COLUMNS}, ${micros(SORT_TIME)} AS sort_key
        FROM publisher.social_media_posts
        WHERE ${sql.join(conditions, sql.fragment` AND `)}
        ORDER BY ${SORT_TIME}, id
        LIMIT ${filter.limit + 1}`);
      const page = rows.slice(0, filter.limit);
      const media = await mediaOf(page.map((row) => row.id));
      const last = page.at(-1);
      return {
        data: page.map((row) => toResource(row, media.get(row.id) ?? [])),
        nextCursor: rows.length > filter.limit && last ? encodeCursor(last.sort_key, last.id) : null,
      };
    },

    /** One post, with its version (posts-repository's POST_VERSION: what If-Match is checked against). */
    async get(organisationId: string, postId: string): Promise<{ readonly post: PostResource; readonly version: string } | undefined> {
      const row = await connection.maybeOne(sql.type(ReadablePost.extend({ version: z.string() }))`
        SELECT ${POST_COLUMNS}, ${micros(SORT_TIME)} AS sort_key, ${POST_VERSION} AS version
        FROM publisher.social_media_posts
        WHERE organisation_id = ${organisationId} AND id = ${postId}`);
      if (row === null) return undefined;
      return { post: toResource(row, (await mediaOf([row.id])).get(row.id) ?? []), version: row.version };
    },

    /** The seed's example query 5: the organisation's finished videos not posted anywhere yet, newest first. */
    async unposted(organisationId: string, page: { readonly limit: number; readonly cursor?: string | undefined }) {
      const conditions = [
        sql.fragment`organisation_id = ${organisationId}`,
        sql.fragment`status = 'completed'`,
        sql.fragment`posted_to_social = false`,
        sql.fragment`video_url IS NOT NULL`,
      ];
      if (page.cursor) {
        const after = decodeCursor(page.cursor);
        conditions.push(sql.fragment`(created_at, id) < (${fromMicros(after.sortKey)}, ${after.id}::uuid)`);
      }
      const rows = await connection.any(sql.type(UnpostedRow)`
        SELECT id, prompt, video_url, thumbnail_url, mode, status, created_at, ${micros(sql.fragment`created_at`)} AS sort_key
        FROM public.social_media_videos
        WHERE ${sql.join(conditions, sql.fragment` AND `)}
        ORDER BY created_at DESC, id DESC
        LIMIT ${page.limit + 1}`);
      const shown = rows.slice(0, page.limit);
      const last = shown.at(-1);
      return {
        data: shown.map((row) => ({
          id: row.id,
          prompt: row.prompt,
          videoUrl: row.video_url,
          thumbnailUrl: row.thumbnail_url,
          mode: row.mode,
          status: row.status,
          createdAt: iso(row.created_at),
        })),
        nextCursor: rows.length > page.limit && last ? encodeCursor(last.sort_key, last.id) : null,
      };
    },
  };
}
