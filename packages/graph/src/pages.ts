import { z } from 'zod';
import type { GraphSettings } from './config.ts';
import type { Params, Transport } from './http.ts';
import { graphId, pagingSchema, successAnswer } from './schemas.ts';

/**
 * Facebook Page publishing (reference §3): feed, photo, video, reel and story writes with the Page token,
 * and the reads a flow needs to finish or reconcile them (video status, recent posts, permalinks).
 * Writes are never retried by the transport: a lost answer may still have created a post, so callers mark
 * the write as sent first and read back before sending it again.
 */

const photoAnswer = z.object({ id: graphId, post_id: graphId.optional() });
const uploadSessionAnswer = z.object({ video_id: graphId, upload_url: z.string().optional() });
const storyAnswer = z.object({ success: z.boolean(), post_id: graphId.optional() });

const phase = z
  .object({
    status: z.string().optional(),
    errors: z.array(z.object({ code: z.number().int().optional(), message: z.string().optional() })).optional(),
    publish_status: z.string().optional(),
    publish_time: z.string().optional(),
  })
  .optional();

const videoStatusAnswer = z.object({
  id: graphId,
  status: z
    .object({
      // A string, not an enum: Meta adds states, and an unknown one must read as "not ready yet", not break the call.
      video_status: z.string(),
      uploading_phase: phase,
      processing_phase: phase,
      publishing_phase: phase,
    })
    .optional(),
});

const videoNodeAnswer = z.object({ id: graphId, post_id: graphId.optional(), permalink_url: z.string().optional() });

const postNode = z.object({
  id: graphId,
  message: z.string().optional(),
  created_time: z.string().optional(),
  permalink_url: z.string().optional(),
  status_type: z.string().optional(),
  attachments: z.unknown().optional(),
});
const postListAnswer = z.object({ data: z.array(postNode), paging: pagingSchema });
const photoStoryAnswer = z.object({ id: graphId, page_story_id: graphId.optional() });

export type VideoStatusValue = 'uploading' | 'upload_complete' | 'processing' | 'ready' | 'error' | 'expired' | 'upload_failed';

export type VideoPhase = { readonly status: string | undefined; readonly errorMessage: string | undefined };

export type PageVideoStatus = {
  readonly id: string;
  /** One of VideoStatusValue, or a state Meta added since; undefined when Meta sent no status. */
  readonly videoStatus: VideoStatusValue | (string & {}) | undefined;
  readonly uploading: VideoPhase;
  readonly processing: VideoPhase;
  readonly publishing: VideoPhase & { readonly publishStatus: string | undefined };
};

export type PagePostSummary = {
  readonly id: string;
  readonly message: string | undefined;
  readonly createdTime: Date | undefined;
  readonly permalinkUrl: string | undefined;
  readonly statusType: string | undefined;
  /** Photo and video ids the post carries (its attachments' targets, album sub-attachments included). */
  readonly mediaIds: readonly string[];
};

export type FeedPostInput = { readonly message?: string | undefined; readonly link?: string | undefined; readonly attachedMedia?: readonly string[] };
export type PhotoInput = { readonly url: string; readonly caption?: string | undefined; readonly published?: boolean };
export type VideoInput = { readonly fileUrl: string; readonly title?: string | undefined; readonly description?: string | undefined };
export type UploadSession = { readonly videoId: string };

/** Meta answers some permalinks (videos, reels) as a path on facebook.com. */
export function absolutePermalink(permalink: string | undefined): string | undefined {
  if (permalink === undefined || permalink === '') return undefined;
  return permalink.startsWith('/') ? `https://www.facebook.com${permalink}` : permalink;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function dataOf(value: unknown): unknown[] {
  const data = record(value)?.data;
  return Array.isArray(data) ? data : [];
}

/**
 * The media ids in a post's `attachments`: each attachment's `target.id`, and for albums (several photos) the
 * sub-attachments' targets, which is where Meta puts the photos of a multi-photo post.
 */
export function attachmentMediaIds(attachments: unknown): string[] {
  const ids: string[] = [];
  const visit = (entry: unknown) => {
    const target = record(record(entry)?.target)?.id;
    if (typeof target === 'string' || typeof target === 'number') ids.push(String(target));
    for (const child of dataOf(record(entry)?.subattachments)) visit(child);
  };
  for (const entry of dataOf(attachments)) visit(entry);
  return [...new Set(ids)];
}

function parseMetaTime(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  // Meta writes `2026-12-02T05:30:00+0000`; Date.parse wants the offset with a colon.
  const time = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(time) ? undefined : new Date(time);
}

function phaseOf(value: z.output<typeof phase>): VideoPhase {
  return { status: value?.status, errorMessage: value?.errors?.find((error) => error.message !== undefined)?.message };
}

const MAX_LIST_PAGES = 20;
const unix = (date: Date) => Math.floor(date.getTime() / 1000);

export type PageMethods = ReturnType<typeof createPageMethods>;

export function createPageMethods(transport: Transport, settings: GraphSettings) {
  const segment = (id: string) => encodeURIComponent(id);
  const post = <S extends z.ZodType>(path: string, token: string, params: Params, schema: S, host: 'graph' | 'graphVideo' = 'graph') =>
    transport.request('POST', path, { token, params, schema, host });
  const get = <S extends z.ZodType>(path: string, token: string, params: Params, schema: S) => transport.request('GET', path, { token, params, schema, host: 'graph' });

  /** Sends a hosted file to an upload session: Meta fetches `file_url` itself (no bytes pass through us). */
  async function uploadFromUrl(videoId: string, token: string, fileUrl: string): Promise<void> {
    await transport.request('POST', `/video-upload/${settings.version}/${segment(videoId)}`, {
      host: 'rupload',
      versioned: false,
      token,
      authorization: 'oauth',
      headers: { file_url: fileUrl },
      schema: successAnswer,
    });
  }

  async function videoStatus(videoId: string, token: string): Promise<PageVideoStatus> {
    const answer = await get(`/${segment(videoId)}`, token, { fields: 'id,status' }, videoStatusAnswer);
    const status = answer.status;
    return {
      id: answer.id,
      videoStatus: status?.video_status,
      uploading: phaseOf(status?.uploading_phase),
      processing: phaseOf(status?.processing_phase),
      publishing: { ...phaseOf(status?.publishing_phase), publishStatus: status?.publishing_phase?.publish_status },
    };
  }

  return {
    /** Text, link or multi-photo post (`attached_media` of photos uploaded with published=false). Answers the post id. */
    async createFeedPost(pageId: string, token: string, input: FeedPostInput): Promise<{ readonly id: string }> {
      const attached = input.attachedMedia === undefined || input.attachedMedia.length === 0 ? undefined : input.attachedMedia.map((id) => ({ media_fbid: id }));
      const answer = await post(`/${segment(pageId)}/feed`, token, { message: input.message, link: input.link, attached_media: attached }, z.object({ id: graphId }));
      return { id: answer.id };
    },

    /** A photo; published (the default) it is a post of its own and Meta answers its `post_id` too. */
    async createPhoto(pageId: string, token: string, input: PhotoInput): Promise<{ readonly id: string; readonly postId: string | undefined }> {
      const answer = await post(`/${segment(pageId)}/photos`, token, { url: input.url, caption: input.caption, published: input.published }, photoAnswer);
      return { id: answer.id, postId: answer.post_id };
    },

    /** A photo kept off the Page's feed, for a multi-photo post or a story to use. Answers the photo id. */
    async uploadUnpublishedPhoto(pageId: string, token: string, url: string): Promise<{ readonly id: string }> {
      const answer = await post(`/${segment(pageId)}/photos`, token, { url, published: false }, photoAnswer);
      return { id: answer.id };
    },

    /** A Page video through graph-video.facebook.com; Meta fetches `file_url`. Answers the video id. */
    async createVideo(pageId: string, token: string, input: VideoInput): Promise<{ readonly id: string }> {
      const answer = await post(`/${segment(pageId)}/videos`, token, { file_url: input.fileUrl, title: input.title, description: input.description }, z.object({ id: graphId }), 'graphVideo');
      return { id: answer.id };
    },

    async startReel(pageId: string, token: string): Promise<UploadSession> {
      const answer = await post(`/${segment(pageId)}/video_reels`, token, { upload_phase: 'start' }, uploadSessionAnswer);
      return { videoId: answer.video_id };
    },

    /** The upload phase of a reel or video story: Meta fetches `file_url` into the session. */
    uploadVideoFromUrl: uploadFromUrl,

    /** Publishes the uploaded reel; Meta then processes it (watch `videoStatus`). */
    async finishReel(pageId: string, token: string, input: { readonly videoId: string; readonly description?: string | undefined }): Promise<{ readonly success: boolean }> {
      const answer = await post(
        `/${segment(pageId)}/video_reels`,
        token,
        { upload_phase: 'finish', video_id: input.videoId, video_state: 'PUBLISHED', description: input.description },
        successAnswer,
      );
      return { success: answer.success };
    },

    videoStatus,

    /** The post a video (reel, video story, Page video) became, and its permalink, once Meta has made one. */
    async videoPost(videoId: string, token: string): Promise<{ readonly id: string; readonly postId: string | undefined; readonly permalinkUrl: string | undefined }> {
      const answer = await get(`/${segment(videoId)}`, token, { fields: 'id,post_id,permalink_url' }, videoNodeAnswer);
      return { id: answer.id, postId: answer.post_id, permalinkUrl: absolutePermalink(answer.permalink_url) };
    },

    async startVideoStory(pageId: string, token: string): Promise<UploadSession> {
      const answer = await post(`/${segment(pageId)}/video_stories`, token, { upload_phase: 'start' }, uploadSessionAnswer);
      return { videoId: answer.video_id };
    },

    async finishVideoStory(pageId: string, token: string, videoId: string): Promise<{ readonly success: boolean; readonly postId: string | undefined }> {
      const answer = await post(`/${segment(pageId)}/video_stories`, token, { upload_phase: 'finish', video_id: videoId }, storyAnswer);
      return { success: answer.success, postId: answer.post_id };
    },

    /** A story from a photo uploaded with published=false. */
    async createPhotoStory(pageId: string, token: string, photoId: string): Promise<{ readonly success: boolean; readonly postId: string | undefined }> {
      const answer = await post(`/${segment(pageId)}/photo_stories`, token, { photo_id: photoId }, storyAnswer);
      return { success: answer.success, postId: answer.post_id };
    },

    /** The story (post) an unpublished photo went into, once it did: how a photo story is found after a lost answer. */
    async photoStoryPost(photoId: string, token: string): Promise<string | undefined> {
      const answer = await get(`/${segment(photoId)}`, token, { fields: 'id,page_story_id' }, photoStoryAnswer);
      return answer.page_story_id;
    },

    /**
     * The Page's own posts published between `since` and `until` (inclusive, whole seconds), newest first,
     * following the cursor: what a flow reads to learn whether a write with a lost answer happened.
     * Stories are not posts of the feed and never appear here.
     */
    async recentPosts(pageId: string, token: string, window: { readonly since: Date; readonly until: Date; readonly pageSize?: number }): Promise<PagePostSummary[]> {
      const posts: PagePostSummary[] = [];
      let params: Params = {
        fields: 'id,message,created_time,permalink_url,status_type,attachments',
        since: unix(window.since),
        until: Math.ceil(window.until.getTime() / 1000),
        limit: window.pageSize ?? 100,
      };
      for (let round = 0; round < MAX_LIST_PAGES; round += 1) {
        const answer = await get(`/${segment(pageId)}/posts`, token, params, postListAnswer);
        for (const entry of answer.data) {
          posts.push({
            id: entry.id,
            message: entry.message,
            createdTime: parseMetaTime(entry.created_time),
            permalinkUrl: absolutePermalink(entry.permalink_url),
            statusType: entry.status_type,
            mediaIds: attachmentMediaIds(entry.attachments),
          });
        }
        const next = answer.paging?.next;
        if (next === undefined || answer.data.length === 0) break;
        // Only the cursor is taken from `next`: the request stays on our host, with our token and proof.
        const after = new URL(next).searchParams.get('after');
        if (after === null) break;
        params = { ...params, after };
      }
      return posts;
    },

    async permalink(postId: string, token: string): Promise<string | undefined> {
      const answer = await get(`/${segment(postId)}`, token, { fields: 'id,permalink_url' }, z.object({ id: graphId, permalink_url: z.string().optional() }));
      return absolutePermalink(answer.permalink_url);
    },

    /** Deletes a Page post (or a Page video or reel, with its post). */
    async deletePost(postId: string, token: string): Promise<boolean> {
      const answer = await transport.request('DELETE', `/${segment(postId)}`, { token, schema: successAnswer });
      return answer.success;
    },
  };
}
