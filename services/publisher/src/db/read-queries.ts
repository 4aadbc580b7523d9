import type { PostStatus } from '@postwire/contracts';
import { type CallerClaims, type CommonQueryMethods, sql } from '@postwire/db';
import { z } from 'zod';

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

/** A post as PostResource, as JSON text (built by the read functions of migration 011). */
const PostJson = z.object({ post: z.string() });
const PagedPostJson = PostJson.extend({ sort_key: z.coerce.number(), id: z.uuid() });
const VersionedPostJson = PostJson.extend({ version: z.string() });

/**
 * The posts read API's reads, each one round trip as publisher_app: the read functions of migration 011 set the
 * caller's claims for the statement's own transaction, then select, so the seed's RLS policies decide beside the
 * explicit organisation filter. They answer the API's JSON as text, sent as it is.
 */
export function createPostPages(pool: CommonQueryMethods) {
  return {
    /**
     * The seed's example query 2 generalised: filters, ordered by the post's time (then id), a keyset page.
     * Deleted posts are listed only when the status filter names them. The answer is PostList as JSON text.
     */
    async list(caller: CallerClaims, filter: PostFilter): Promise<string> {
      const after = filter.cursor ? decodeCursor(filter.cursor) : undefined;
      const rows = await pool.any(sql.type(PagedPostJson)`
        SELECT post, sort_key, id FROM publisher.read_posts(
          ${JSON.stringify(caller)}, ${caller.organisationId},
          ${filter.status ? sql.array(filter.status, 'text') : null}, ${filter.account ?? null}, ${filter.platform ?? null}, ${filter.type ?? null},
          ${filter.from ?? null}, ${filter.to ?? null}, ${after ? after.sortKey : null}, ${after ? after.id : null}, ${filter.limit})`);
      const page = rows.slice(0, filter.limit);
      const last = page.at(-1);
      const nextCursor = rows.length > filter.limit && last ? JSON.stringify(encodeCursor(last.sort_key, last.id)) : 'null';
      return `{"data":[${page.map((row) => row.post).join(',')}],"nextCursor":${nextCursor}}`;
    },

    /**
     * One post as PostResource JSON text with its version (posts-repository's POST_VERSION: what If-Match is checked
     * against), or undefined when the caller may not see it.
     */
    async get(caller: CallerClaims, postId: string): Promise<{ readonly post: string; readonly version: string } | undefined> {
      const row = await pool.maybeOne(sql.type(VersionedPostJson)`
        SELECT post, version FROM publisher.read_post(${JSON.stringify(caller)}, ${caller.organisationId}, ${postId})`);
      return row ?? undefined;
    },
  };
}

/**
 * Reads for the caller's organisation. They run as publisher_app on a connection carrying the caller's claims,
 * so the seed's RLS policies decide, beside the explicit organisation filter.
 */
export function createPostReads(connection: CommonQueryMethods) {
  return {
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
