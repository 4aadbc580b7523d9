import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../context.ts';
import { DAY, MINUTE, metaTimestamp } from '../domain/clock.ts';
import { GraphError, errors } from '../domain/errors.ts';
import { selectFields, type FieldSpec } from '../domain/fields.ts';
import { facebookPostCounts } from '../domain/insights.ts';
import { checkVideoDuration, bool, list, parseJson, str, type Params } from '../domain/publishing.ts';
import type { FetchedMedia } from '../plugins/media-fetcher.ts';
import { recentTimes, type PagePost, type PagePostKind, type PageVideo } from '../state/store.ts';
import { authenticate, pageAccess, pageOf, publicBase, readParams, requestedFields, timeRange } from './graph-access.ts';

/**
 * Facebook Page publishing: feed posts (text, link, scheduled, multi-photo), photos, videos, reels
 * (start / upload / finish), photo and video stories, deletion, and reading posts back.
 */
const PAGE_TASKS = ['ADVERTISE', 'ANALYZE', 'CREATE_CONTENT', 'MESSAGING', 'MODERATE', 'MANAGE'];
const PHOTO_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_UPLOAD_VERSION = 'v25.0';

export function renderPage(ctx: SandboxContext, pageId: string, fields: readonly FieldSpec[] | undefined, defaults: readonly string[], accessToken?: string) {
  const page = ctx.store.pages.get(pageId);
  if (!page) throw errors.unsupported('get', pageId);
  return selectFields(
    'Page',
    {
      id: () => page.id,
      name: () => page.name,
      category: () => page.category,
      category_list: () => [{ id: '2200', name: page.category }],
      tasks: () => PAGE_TASKS,
      access_token: () => accessToken,
      link: () => `https://www.facebook.com/${page.id}`,
      instagram_business_account: () => (page.instagramAccountId ? { id: page.instagramAccountId } : undefined),
      connected_instagram_account: () => (page.instagramAccountId ? { id: page.instagramAccountId } : undefined),
      fan_count: () => 1_000,
    },
    fields,
    defaults,
  );
}

export function postPermalink(post: PagePost): string {
  const [, number] = post.id.split('_');
  if (post.kind === 'reel' && post.videoId) return `https://www.facebook.com/reel/${post.videoId}`;
  if (post.kind === 'video' && post.videoId) return `https://www.facebook.com/${post.pageId}/videos/${post.videoId}`;
  if (post.kind === 'story') return `https://www.facebook.com/stories/${post.pageId}/${number}`;
  return `https://www.facebook.com/${post.pageId}/posts/${number}`;
}

export function renderPost(ctx: SandboxContext, post: PagePost, fields: readonly FieldSpec[] | undefined) {
  const now = ctx.clock.now();
  const counts = () => facebookPostCounts(post.id, now - post.publishAt, post.kind === 'video' || post.kind === 'reel');
  const summary = (spec: FieldSpec, total: number, extra: Record<string, unknown> = {}) =>
    'summary' in spec.modifiers ? { data: [], summary: { total_count: total, ...extra } } : { data: [] };
  const page = ctx.store.pages.get(post.pageId);
  return selectFields(
    'Post',
    {
      id: () => post.id,
      message: () => post.message,
      link: () => post.link,
      created_time: () => metaTimestamp(post.createdAt),
      updated_time: () => metaTimestamp(post.createdAt),
      permalink_url: () => postPermalink(post),
      is_published: () => post.published && now >= post.publishAt,
      scheduled_publish_time: () => (post.published ? undefined : Math.floor(post.publishAt / 1000)),
      status_type: () => ({ status: 'mobile_status_update', photo: 'added_photos', video: 'added_video', reel: 'added_video', story: 'shared_story' })[post.kind],
      from: () => (page ? { id: page.id, name: page.name } : undefined),
      attachments: () => ({ data: post.photoIds.map((id) => ({ target: { id }, type: 'photo', media_type: 'photo' })) }),
      reactions: (spec) => summary(spec, counts().reactionsTotal, { viewer_reaction: 'NONE' }),
      comments: (spec) => summary(spec, counts().comments, { order: 'ranked', can_comment: true }),
      // Meta leaves `shares` out entirely while a post has no shares.
      shares: () => (counts().shares > 0 ? { count: counts().shares } : undefined),
    },
    fields,
    ['id', 'created_time', 'message'],
  );
}

export function renderPhoto(ctx: SandboxContext, photoId: string, fields: readonly FieldSpec[] | undefined) {
  const photo = ctx.store.photos.get(photoId);
  if (!photo || photo.deletedAt !== undefined) throw errors.unsupported('get', photoId);
  return selectFields(
    'Photo',
    {
      id: () => photo.id,
      name: () => photo.caption,
      created_time: () => metaTimestamp(photo.createdAt),
      link: () => `https://www.facebook.com/photo/?fbid=${photo.id}`,
      page_story_id: () => photo.postId,
      images: () => [{ source: photo.url }],
    },
    fields,
    ['id', 'created_time', 'name'],
  );
}

function videoStatus(ctx: SandboxContext, video: PageVideo) {
  const now = ctx.clock.now();
  const uploaded = video.uploadedAt !== undefined;
  const processed = video.processedAt !== undefined && now >= video.processedAt;
  const post = video.postId ? ctx.store.posts.get(video.postId) : undefined;
  const published = post !== undefined && post.published && processed;
  if (video.uploadFailed) {
    return {
      video_status: 'upload_failed',
      uploading_phase: { status: 'error', errors: [{ code: 6000, message: video.uploadFailed }] },
      processing_phase: { status: 'not_started' },
      publishing_phase: { status: 'not_started' },
    };
  }
  if (video.error) {
    return {
      video_status: 'error',
      uploading_phase: { status: 'complete' },
      processing_phase: { status: 'error', errors: [{ code: 1363008, message: video.error }] },
      publishing_phase: { status: 'not_started' },
    };
  }
  // An upload session that was never finished dies after a day, like a container.
  if (post === undefined && video.purpose !== 'video' && now >= video.createdAt + DAY) {
    return {
      video_status: 'expired',
      uploading_phase: { status: uploaded ? 'complete' : 'not_started' },
      processing_phase: { status: 'not_started' },
      publishing_phase: { status: 'not_started' },
    };
  }
  // Meta's video_status values: uploading, upload_complete, processing, ready, error, expired, upload_failed.
  const status = !uploaded ? 'uploading' : video.processedAt === undefined ? 'upload_complete' : processed ? 'ready' : 'processing';
  return {
    video_status: status,
    uploading_phase: { status: uploaded ? 'complete' : 'not_started', bytes_transferred: video.probe ? 1 : 0 },
    processing_phase: { status: !uploaded || video.processedAt === undefined ? 'not_started' : processed ? 'complete' : 'in_progress' },
    publishing_phase: {
      status: published ? 'complete' : post ? 'in_progress' : 'not_started',
      ...(post ? { publish_status: post.published ? 'published' : 'scheduled' } : {}),
      ...(published && post ? { publish_time: metaTimestamp(Math.max(post.publishAt, video.processedAt ?? 0)) } : {}),
    },
  };
}

export function renderVideo(ctx: SandboxContext, videoId: string, fields: readonly FieldSpec[] | undefined) {
  const video = ctx.store.videos.get(videoId);
  if (!video || video.deletedAt !== undefined) throw errors.unsupported('get', videoId);
  const post = video.postId ? ctx.store.posts.get(video.postId) : undefined;
  return selectFields(
    'Video',
    {
      id: () => video.id,
      title: () => video.title,
      description: () => video.description,
      created_time: () => metaTimestamp(video.createdAt),
      status: () => videoStatus(ctx, video),
      length: () => video.probe?.durationSeconds,
      permalink_url: () => (post ? postPermalink(post) : undefined),
      post_id: () => video.postId,
    },
    fields,
    ['id', 'created_time', 'description'],
  );
}

function photoError(why: string): GraphError {
  return new GraphError({ code: 324, message: `(#324) Missing or invalid image file: ${why}` });
}

async function fetchPhoto(ctx: SandboxContext, url: string): Promise<FetchedMedia> {
  let media: FetchedMedia;
  try {
    media = await ctx.media.fetch(url, { timeoutMs: ctx.settings.mediaFetchTimeoutMs, cache: ctx.settings.mediaCache });
  } catch (error) {
    if (error instanceof GraphError && error.code === 9004) throw photoError(`the URL could not be fetched (${url})`);
    throw error;
  }
  if (!['jpeg', 'png', 'gif'].includes(media.format)) throw photoError(`unsupported format ${media.format}`);
  if (media.bytes > PHOTO_MAX_BYTES) throw photoError('larger than 10 MB');
  return media;
}

async function fetchVideo(ctx: SandboxContext, url: string): Promise<FetchedMedia> {
  const media = await ctx.media.fetch(url, { timeoutMs: ctx.settings.mediaFetchTimeoutMs, cache: ctx.settings.mediaCache });
  if (media.format !== 'mp4' && media.format !== 'mov') {
    throw new GraphError({ code: 352, message: "(#352) The video file you selected is in a format that we don't support." });
  }
  return media;
}

export function createPost(
  ctx: SandboxContext,
  init: { pageId: string; kind: PagePostKind; message?: string | undefined; link?: string | undefined; photoIds?: string[]; videoId?: string; published?: boolean; publishAt?: number },
): PagePost {
  const now = ctx.clock.now();
  const post: PagePost = {
    id: `${init.pageId}_${ctx.store.ids.next('post')}`,
    pageId: init.pageId,
    kind: init.kind,
    message: init.message,
    link: init.link,
    photoIds: init.photoIds ?? [],
    videoId: init.videoId,
    createdAt: now,
    publishAt: init.publishAt ?? now,
    published: init.published ?? true,
    deletedAt: undefined,
  };
  ctx.store.posts.set(post.id, post);
  if (post.published && post.publishAt <= now) notifyFeed(ctx, post, 'add');
  return post;
}

export function notifyFeed(ctx: SandboxContext, post: PagePost, verb: 'add' | 'remove'): void {
  const page = ctx.store.pages.get(post.pageId);
  ctx.webhooks.emit(
    'page',
    post.pageId,
    'feed',
    {
      from: { id: post.pageId, name: page?.name },
      item: post.kind === 'reel' ? 'video' : post.kind,
      post_id: post.id,
      verb,
      published: 1,
      created_time: Math.floor(post.createdAt / 1000),
      ...(post.message === undefined ? {} : { message: post.message }),
    },
    post.pageId,
  );
}

/** Native scheduling: posts 10 minutes to 30 days ahead, reels up to 29 days. */
function scheduledTime(params: Params, now: number, maxDays = 30): number | undefined {
  const raw = str(params, 'scheduled_publish_time');
  if (raw === undefined) return undefined;
  const at = /^\d+$/.test(raw) ? Number(raw) * 1000 : Date.parse(raw);
  if (!Number.isFinite(at) || at < now + 10 * MINUTE || at > now + maxDays * DAY) {
    throw errors.invalidParameter(`The specified scheduled publish time is invalid: it must be between 10 minutes and ${maxDays} days from now.`);
  }
  return at;
}

function attachedMedia(params: Params): string[] {
  const entries: unknown[] = [];
  const direct = params.attached_media;
  if (typeof direct === 'string') {
    const parsed = parseJson(direct, 'attached_media');
    if (Array.isArray(parsed)) entries.push(...parsed);
    else entries.push(parsed);
  } else if (Array.isArray(direct)) {
    entries.push(...direct.map((item) => (typeof item === 'string' ? parseJson(item, 'attached_media') : item)));
  }
  for (const [key, value] of Object.entries(params)) {
    if (/^attached_media\[\d+\]$/.test(key)) entries.push(typeof value === 'string' ? parseJson(value, key) : value);
  }
  return entries.map((entry) => {
    const id = typeof entry === 'object' && entry !== null ? (entry as { media_fbid?: unknown }).media_fbid : undefined;
    if (typeof id !== 'string' && typeof id !== 'number') throw errors.invalidParameter('attached_media entries need media_fbid');
    return String(id);
  });
}

/** Routes served with and without a `/{version}` prefix (graph.facebook.com and graph-video.facebook.com). */
export function pageRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  type WithId = { Params: { id: string } };

  app.post<WithId>('/:id/feed', { config: { operation: 'pages.feed.create' } }, async (request, reply) => {
    const params = readParams(request);
    const token = authenticate(ctx, request, reply, params);
    const page = pageAccess(ctx, reply, token, request.params.id, 'post', { write: true, scopes: ['pages_manage_posts'] });
    const now = ctx.clock.now();
    const message = str(params, 'message');
    const link = str(params, 'link');
    const photoIds = attachedMedia(params);
    const published = bool(params, 'published') ?? true;
    const scheduled = scheduledTime(params, now);
    if (scheduled !== undefined && published) throw errors.invalidParameter('scheduled_publish_time needs published=false.');
    if (!message && !link && photoIds.length === 0) throw errors.invalidParameter('The post is empty: give message, link or attached_media.');
    for (const photoId of photoIds) {
      const photo = ctx.store.photos.get(photoId);
      if (!photo || photo.pageId !== page.id || photo.deletedAt !== undefined) throw errors.invalidParameter(`Unknown media_fbid ${photoId}.`);
      if (photo.published || photo.postId !== undefined) throw errors.invalidParameter(`The photo ${photoId} must be uploaded with published=false and not used yet.`);
    }
    const post = createPost(ctx, {
      pageId: page.id,
      kind: photoIds.length > 0 ? 'photo' : 'status',
      message,
      link,
      photoIds,
      published: published || scheduled !== undefined,
      publishAt: scheduled ?? now,
    });
    if (!published && scheduled === undefined) Object.assign(post, { published: false });
    for (const photoId of photoIds) {
      const photo = ctx.store.photos.get(photoId);
      if (photo) photo.postId = post.id;
    }
    return { id: post.id };
  });

  const listPosts = async (request: FastifyRequest<WithId>, reply: FastifyReply) => {
    const params = readParams(request);
    const token = authenticate(ctx, request, reply, params);
    const page = pageAccess(ctx, reply, token, request.params.id, 'get', { scopes: ['pages_read_engagement'] });
    const now = ctx.clock.now();
    const fields = requestedFields(params);
    const inRange = timeRange(params);
    const posts = [...ctx.store.posts.values()]
      .filter((post) => post.pageId === page.id && post.deletedAt === undefined && post.published && post.publishAt <= now && post.kind !== 'story')
      .filter((post) => inRange(post.publishAt))
      .sort((a, b) => b.publishAt - a.publishAt || b.id.localeCompare(a.id))
      .map((post) => renderPost(ctx, post, fields));
    return pageOf(posts, params, { base: publicBase(ctx, request), url: request.url });
  };
  for (const edge of ['feed', 'posts', 'published_posts']) {
    app.get<WithId>(`/:id/${edge}`, { config: { operation: 'pages.feed.list' } }, listPosts);
  }

  app.post<WithId>('/:id/photos', { config: { operation: 'pages.photos.create' } }, async (request, reply) => {
    const params = readParams(request);
    const token = authenticate(ctx, request, reply, params);
    const page = pageAccess(ctx, reply, token, request.params.id, 'post', { write: true, scopes: ['pages_manage_posts'] });
    const url = str(params, 'url');
    if (!url) throw errors.missingParameter('url');
    await fetchPhoto(ctx, url);
    const published = bool(params, 'published') ?? true;
    const caption = str(params, 'caption') ?? str(params, 'message');
    const photo = {
      id: ctx.store.ids.next('photo'),
      pageId: page.id,
      url,
      caption,
      published,
      createdAt: ctx.clock.now(),
      postId: undefined as string | undefined,
      deletedAt: undefined,
    };
    ctx.store.photos.set(photo.id, photo);
    if (!published) return { id: photo.id };
    const post = createPost(ctx, { pageId: page.id, kind: 'photo', message: caption, photoIds: [photo.id] });
    photo.postId = post.id;
    return { id: photo.id, post_id: post.id };
  });

  app.post<WithId>('/:id/videos', { config: { operation: 'pages.videos.create' } }, async (request, reply) => {
    const params = readParams(request);
    const token = authenticate(ctx, request, reply, params);
    const page = pageAccess(ctx, reply, token, request.params.id, 'post', { write: true, scopes: ['pages_manage_posts'] });
    const fileUrl = str(params, 'file_url');
    if (!fileUrl) throw errors.missingParameter('file_url');
    const media = await fetchVideo(ctx, fileUrl);
    const now = ctx.clock.now();
    const video: PageVideo = {
      id: ctx.store.ids.next('video'),
      pageId: page.id,
      purpose: 'video',
      createdAt: now,
      title: str(params, 'title'),
      description: str(params, 'description'),
      uploadedAt: now,
      probe: media,
      processedAt: now + ctx.settings.videoProcessingMs,
      postId: undefined,
      error: undefined,
      deletedAt: undefined,
    };
    ctx.store.videos.set(video.id, video);
    const published = bool(params, 'published') ?? true;
    video.postId = createPost(ctx, { pageId: page.id, kind: 'video', message: video.description, videoId: video.id, published, publishAt: now }).id;
    return { id: video.id };
  });

  const startVideo = (pageId: string, purpose: 'reel' | 'story', baseUrl: string, version: string) => {
    const video: PageVideo = {
      id: ctx.store.ids.next('video'),
      pageId,
      purpose,
      createdAt: ctx.clock.now(),
      title: undefined,
      description: undefined,
      uploadedAt: undefined,
      probe: undefined,
      processedAt: undefined,
      postId: undefined,
      error: undefined,
      deletedAt: undefined,
    };
    ctx.store.videos.set(video.id, video);
    return { video_id: video.id, upload_url: `${baseUrl}/video-upload/${version}/${video.id}` };
  };

  const finishVideo = (pageId: string, params: Params, purpose: 'reel' | 'story') => {
    const videoId = str(params, 'video_id');
    const video = videoId === undefined ? undefined : ctx.store.videos.get(videoId);
    if (!video || video.pageId !== pageId || video.purpose !== purpose) throw errors.invalidParameter(`Unknown video_id ${videoId ?? ''}.`);
    if (video.uploadedAt === undefined) throw errors.invalidParameter('The video has not been uploaded yet; upload it to the upload_url first.');
    if (video.postId !== undefined) throw errors.invalidParameter('This video has already been finished.');
    const limit = checkVideoDuration(purpose === 'reel' ? 'page-reel' : 'page-story', video.probe?.durationSeconds);
    const now = ctx.clock.now();
    video.description = str(params, 'description') ?? video.description;
    video.title = str(params, 'title') ?? video.title;
    video.processedAt = now + ctx.settings.videoProcessingMs;
    if (limit) {
      video.error = limit;
      return undefined;
    }
    const state = str(params, 'video_state') ?? (purpose === 'story' ? 'PUBLISHED' : undefined);
    if (purpose === 'reel' && state !== 'PUBLISHED' && state !== 'DRAFT' && state !== 'SCHEDULED') {
      throw errors.invalidParameter('video_state must be PUBLISHED, DRAFT or SCHEDULED.');
    }
    const scheduled = state === 'SCHEDULED' ? scheduledTime(params, now, purpose === 'reel' ? 29 : 30) : undefined;
    if (state === 'SCHEDULED' && scheduled === undefined) throw errors.missingParameter('scheduled_publish_time');
    const post = createPost(ctx, {
      pageId,
      kind: purpose,
      message: video.description,
      videoId: video.id,
      published: state !== 'DRAFT',
      publishAt: scheduled ?? video.processedAt,
    });
    video.postId = post.id;
    return post;
  };

  const uploadFlow = (purpose: 'reel' | 'story', operation: string, path: string) =>
    app.post<{ Params: { id: string; version?: string } }>(path, { config: { operation } }, async (request, reply) => {
      const params = readParams(request);
      const token = authenticate(ctx, request, reply, params);
      // The current video and reels guides list no publish_video: pages_manage_posts is what they need.
      const page = pageAccess(ctx, reply, token, request.params.id, 'post', { write: true, scopes: ['pages_manage_posts'] });
      switch (str(params, 'upload_phase')) {
        case 'start':
          if (purpose === 'reel') {
            const started = recentTimes(ctx.store.reelLog, page.id, ctx.clock.now(), DAY);
            if (started.length >= ctx.settings.pageReelsPerDay) throw errors.pageReelCap(ctx.settings.pageReelsPerDay);
            started.push(ctx.clock.now());
          }
          return startVideo(page.id, purpose, publicBase(ctx, request), request.params.version ?? DEFAULT_UPLOAD_VERSION);
        case 'finish': {
          const post = finishVideo(page.id, params, purpose);
          return purpose === 'story' ? { success: post !== undefined, ...(post ? { post_id: post.id } : {}) } : { success: true };
        }
        default:
          throw errors.invalidParameter('upload_phase must be start or finish');
      }
    });
  uploadFlow('reel', 'pages.video-reels', '/:id/video_reels');
  uploadFlow('story', 'pages.video-stories', '/:id/video_stories');

  app.post<WithId>('/:id/photo_stories', { config: { operation: 'pages.photo-stories' } }, async (request, reply) => {
    const params = readParams(request);
    const token = authenticate(ctx, request, reply, params);
    const page = pageAccess(ctx, reply, token, request.params.id, 'post', { write: true, scopes: ['pages_manage_posts'] });
    const photoId = str(params, 'photo_id');
    const photo = photoId === undefined ? undefined : ctx.store.photos.get(photoId);
    if (!photo || photo.pageId !== page.id || photo.deletedAt !== undefined) throw errors.invalidParameter(`Unknown photo_id ${photoId ?? ''}.`);
    if (photo.published || photo.postId !== undefined) throw errors.invalidParameter('A story photo must be uploaded with published=false and not used yet.');
    const post = createPost(ctx, { pageId: page.id, kind: 'story', photoIds: [photo.id] });
    photo.postId = post.id;
    return { success: true, post_id: post.id };
  });

  app.post<WithId>('/:id/subscribed_apps', { config: { operation: 'pages.subscribed-apps' } }, async (request, reply) => {
    const params = readParams(request);
    const token = authenticate(ctx, request, reply, params);
    const page = pageAccess(ctx, reply, token, request.params.id, 'post', { write: true });
    const fields = list(params, 'subscribed_fields');
    if (fields.length === 0) throw errors.missingParameter('subscribed_fields');
    page.subscribedApps.set(token.appId, fields);
    return { success: true };
  });

  app.get<WithId>('/:id/subscribed_apps', { config: { operation: 'pages.subscribed-apps' } }, async (request, reply) => {
    const params = readParams(request);
    const token = authenticate(ctx, request, reply, params);
    const page = pageAccess(ctx, reply, token, request.params.id, 'get');
    return {
      data: [...page.subscribedApps].map(([appId, fields]) => ({ id: appId, name: ctx.store.apps.get(appId)?.name, subscribed_fields: fields })),
    };
  });
}

/** Marks a post (and its media) deleted; answers Meta's `{success:true}`. */
export function deletePagePost(ctx: SandboxContext, post: PagePost): { success: true } {
  post.deletedAt = ctx.clock.now();
  for (const photoId of post.photoIds) {
    const photo = ctx.store.photos.get(photoId);
    if (photo) photo.deletedAt = post.deletedAt;
  }
  const video = post.videoId ? ctx.store.videos.get(post.videoId) : undefined;
  if (video) video.deletedAt = post.deletedAt;
  notifyFeed(ctx, post, 'remove');
  return { success: true };
}
