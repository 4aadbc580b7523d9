import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../context.ts';
import { DAY, metaTimestamp } from '../domain/clock.ts';
import { GraphError, errors } from '../domain/errors.ts';
import { selectFields, type FieldSpec } from '../domain/fields.ts';
import { shortcodeFor } from '../domain/ids.ts';
import { instagramMetricValue } from '../domain/insights.ts';
import {
  checkFeedAspectRatio,
  checkVideoDuration,
  containerStatus,
  parseContainerRequest,
  str,
  type ContainerRequest,
  type ContainerTimeline,
} from '../domain/publishing.ts';
import type { TokenRecord } from '../domain/tokens.ts';
import type { FetchedMedia } from '../plugins/media-fetcher.ts';
import { recentTimes, type Container, type InstagramAccount, type InstagramMedia } from '../state/store.ts';
import {
  authenticate,
  instagramAccess,
  loginOf,
  meId,
  pageOf,
  publicBase,
  readParams,
  requestedFields,
  timeRange,
} from './graph-access.ts';
import { DEFAULT_UPLOAD_VERSION } from './pages.ts';

/**
 * Instagram content publishing: containers (image, reel, story, carousel), status, media_publish with the
 * rolling quota, read-back, children, comments and deletion. Served for Facebook Login tokens
 * (graph.facebook.com) and Instagram Login tokens (graph.instagram.com) on the same paths.
 */
const IMAGE_MAX_BYTES = 8 * 1024 * 1024;

function mediaUrlOf(request: ContainerRequest): string | undefined {
  switch (request.kind) {
    case 'image':
      return request.imageUrl;
    case 'reel':
      return request.videoUrl;
    case 'story':
    case 'carousel-item':
      return request.imageUrl ?? request.videoUrl;
    case 'carousel':
      return undefined;
  }
}

function isVideoRequest(request: ContainerRequest): boolean {
  return request.kind === 'reel' || ((request.kind === 'story' || request.kind === 'carousel-item') && request.imageUrl === undefined);
}

/** Image checks happen at creation (synchronous errors); video problems surface as container status ERROR. */
function checkImage(media: FetchedMedia, feedAspect: boolean): void {
  if (media.format !== 'jpeg') throw errors.imageFormat(media.format === 'unknown' ? media.contentType || 'unknown' : media.format);
  if (media.bytes > IMAGE_MAX_BYTES) throw errors.imageTooLarge(media.bytes);
  const ratio = feedAspect ? checkFeedAspectRatio(media.width, media.height) : undefined;
  if (ratio !== undefined) throw errors.aspectRatio(ratio);
}

export function videoProblem(media: FetchedMedia, kind: 'reel' | 'story' | 'carousel-item'): string | undefined {
  if (media.format !== 'mp4' && media.format !== 'mov') return `The video format (${media.format}) is not supported; use MP4 or MOV.`;
  return checkVideoDuration(kind, media.durationSeconds);
}

export function fetchMedia(ctx: SandboxContext, url: string): Promise<FetchedMedia> {
  return ctx.media.fetch(url, { timeoutMs: ctx.settings.mediaFetchTimeoutMs, cache: ctx.settings.mediaCache });
}

/** A carousel's status follows its children: ready when all are, failed when one failed. */
export function timelineOf(ctx: SandboxContext, container: Container): ContainerTimeline {
  if (container.request.kind !== 'carousel') return container;
  let readyAt: number | undefined = container.createdAt;
  let errorSubcode = container.errorSubcode;
  for (const childId of container.request.children) {
    const child = ctx.store.containers.get(childId);
    if (!child) continue;
    errorSubcode ??= child.errorSubcode;
    readyAt = readyAt === undefined || child.readyAt === undefined ? undefined : Math.max(readyAt, child.readyAt);
  }
  return { createdAt: container.createdAt, readyAt, errorSubcode, emptyStatusCode: container.emptyStatusCode, publishedAt: container.publishedAt };
}

export function renderContainer(ctx: SandboxContext, container: Container, fields: readonly FieldSpec[] | undefined) {
  const status = containerStatus(timelineOf(ctx, container), ctx.clock.now());
  return selectFields(
    'ShadowIGMediaBuilder',
    { id: () => container.id, status_code: () => status.statusCode, status: () => status.status },
    fields,
    ['id'],
  );
}

export function permalinkOf(ctx: SandboxContext, media: InstagramMedia): string | undefined {
  if (media.parentId !== undefined) return undefined;
  if (media.productType === 'STORY') {
    return `https://www.instagram.com/stories/${ctx.store.instagramAccounts.get(media.igUserId)?.username ?? 'unknown'}/${media.id}/`;
  }
  return `https://www.instagram.com/${media.productType === 'REELS' ? 'reel' : 'p'}/${media.shortcode}/`;
}

function elapsedFor(ctx: SandboxContext, media: InstagramMedia): number {
  const elapsed = ctx.clock.now() - media.publishedAt;
  return media.productType === 'STORY' ? Math.min(elapsed, DAY) : elapsed;
}

export function renderMedia(ctx: SandboxContext, media: InstagramMedia, fields: readonly FieldSpec[] | undefined): Record<string, unknown> {
  const account = ctx.store.instagramAccounts.get(media.igUserId);
  const child = media.parentId !== undefined;
  return selectFields(
    'IGMedia',
    {
      id: () => media.id,
      caption: () => media.caption,
      media_type: () => media.mediaType,
      media_product_type: () => media.productType,
      media_url: () => media.mediaUrl,
      thumbnail_url: () => (media.mediaType === 'VIDEO' ? media.mediaUrl : undefined),
      permalink: () => permalinkOf(ctx, media),
      shortcode: () => media.shortcode,
      timestamp: () => metaTimestamp(media.publishedAt),
      username: () => account?.username,
      owner: () => ({ id: media.igUserId }),
      is_comment_enabled: () => !child,
      like_count: () => (child ? undefined : instagramMetricValue('likes', media.id, elapsedFor(ctx, media))),
      comments_count: () => (child ? undefined : instagramMetricValue('comments', media.id, elapsedFor(ctx, media), media.commentIds.length)),
      collaborators: () => ({ data: media.collaborators.map((username) => ({ username })) }),
      children: (spec) => ({
        data: media.childIds
          .map((id) => ctx.store.media.get(id))
          .filter((item) => item !== undefined)
          .map((item) => renderMedia(ctx, item, spec.subfields)),
      }),
    },
    fields,
    ['id'],
  );
}

export function renderInstagramUser(ctx: SandboxContext, account: InstagramAccount, token: TokenRecord, fields: readonly FieldSpec[] | undefined) {
  const published = [...ctx.store.media.values()].filter((media) => media.igUserId === account.id && media.parentId === undefined && media.deletedAt === undefined);
  return selectFields(
    'IGUser',
    {
      id: () => account.id,
      user_id: () => (loginOf(token) === 'instagram' ? account.id : undefined),
      ig_id: () => Number(account.id.slice(-10)),
      username: () => account.username,
      name: () => account.name,
      account_type: () => account.accountType,
      profile_picture_url: () => `https://scontent.sandbox.invalid/profile/${account.id}.jpg`,
      followers_count: () => account.followersCount,
      follows_count: () => 180,
      media_count: () => published.filter((media) => media.productType !== 'STORY').length,
      biography: () => `${account.name} (Meta sandbox)`,
      website: () => 'https://example.test',
    },
    fields,
    loginOf(token) === 'instagram' ? ['id', 'user_id', 'username'] : ['id'],
  );
}

function publishesSince(ctx: SandboxContext, igUserId: string, since: number): number {
  const log = ctx.store.publishLog.get(igUserId) ?? [];
  const windowStart = Math.max(since, ctx.clock.now() - DAY);
  return log.filter((at) => at > windowStart).length;
}

function createMediaFromContainer(ctx: SandboxContext, container: Container, account: InstagramAccount, now: number): InstagramMedia {
  const request = container.request;
  const base = (id: string, init: Pick<InstagramMedia, 'mediaType' | 'productType' | 'caption' | 'mediaUrl' | 'childIds' | 'parentId' | 'collaborators'>) => {
    const media: InstagramMedia = { id, igUserId: account.id, containerId: container.id, shortcode: shortcodeFor(id), publishedAt: now, commentIds: [], deletedAt: undefined, ...init };
    ctx.store.media.set(id, media);
    return media;
  };
  const id = ctx.store.ids.next('instagramMedia');
  switch (request.kind) {
    case 'image':
      return base(id, { mediaType: 'IMAGE', productType: 'FEED', caption: request.caption, mediaUrl: request.imageUrl, childIds: [], parentId: undefined, collaborators: request.collaborators });
    case 'reel':
      return base(id, { mediaType: 'VIDEO', productType: 'REELS', caption: request.caption, mediaUrl: request.videoUrl, childIds: [], parentId: undefined, collaborators: request.collaborators });
    case 'story':
      return base(id, { mediaType: request.imageUrl ? 'IMAGE' : 'VIDEO', productType: 'STORY', caption: undefined, mediaUrl: mediaUrlOf(request), childIds: [], parentId: undefined, collaborators: [] });
    case 'carousel-item':
      throw errors.invalidParameter('A carousel item cannot be published on its own; publish the carousel container.');
    case 'carousel': {
      const childIds = request.children.map(() => ctx.store.ids.next('instagramMedia'));
      const parent = base(id, { mediaType: 'CAROUSEL_ALBUM', productType: 'FEED', caption: request.caption, mediaUrl: undefined, childIds, parentId: undefined, collaborators: request.collaborators });
      request.children.forEach((childContainerId, index) => {
        const childContainer = ctx.store.containers.get(childContainerId);
        const childRequest = childContainer?.request;
        const isImage = childRequest?.kind === 'carousel-item' && childRequest.imageUrl !== undefined;
        base(childIds[index] ?? '', {
          mediaType: isImage ? 'IMAGE' : 'VIDEO',
          productType: 'FEED',
          caption: undefined,
          mediaUrl: childRequest ? mediaUrlOf(childRequest) : undefined,
          childIds: [],
          parentId: parent.id,
          collaborators: [],
        });
        if (childContainer) {
          childContainer.publishedAt = now;
          childContainer.mediaId = childIds[index];
        }
      });
      return parent;
    }
  }
}

type WithId = { Params: { id: string; version?: string } };

export function instagramRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  app.post<WithId>('/:id/media', { config: { operation: 'instagram.media.create' } }, async (request, reply) => {
    const params = readParams(request);
    const token = authenticate(ctx, request, reply, params);
    const igUserId = meId(token, request.params.id);
    const { account, login } = instagramAccess(ctx, reply, token, igUserId, 'post', 'publish');
    const containerRequest = parseContainerRequest(params, { accountType: account.accountType, login });
    const now = ctx.clock.now();
    const locationId = 'locationId' in containerRequest ? containerRequest.locationId : undefined;
    if (locationId !== undefined && ctx.store.pages.get(locationId)?.location === undefined) {
      throw errors.invalidParameter(`location_id ${locationId} is not a Page with location data.`);
    }
    const created = recentTimes(ctx.store.containerLog, account.id, now, DAY);
    if (created.length >= ctx.settings.containersPerDay) throw errors.containerCap(ctx.settings.containersPerDay);

    if (containerRequest.kind === 'carousel') {
      for (const childId of containerRequest.children) {
        const child = ctx.store.containers.get(childId);
        if (!child || child.igUserId !== account.id) throw errors.invalidParameter(`The carousel child ${childId} does not exist for this account.`, 2207008);
        if (child.request.kind !== 'carousel-item') throw errors.invalidParameter(`The container ${childId} was not created with is_carousel_item=true.`);
        if (containerStatus(child, now).statusCode === 'EXPIRED') throw errors.containerExpired();
      }
    }

    const url = mediaUrlOf(containerRequest);
    const video = isVideoRequest(containerRequest);
    const resumable = 'resumable' in containerRequest && containerRequest.resumable;
    let probe: FetchedMedia | undefined;
    let errorSubcode: number | undefined;
    if (url !== undefined && !resumable) {
      probe = await fetchMedia(ctx, url);
      if (video) {
        const kind = containerRequest.kind === 'reel' ? 'reel' : containerRequest.kind === 'story' ? 'story' : 'carousel-item';
        if (videoProblem(probe, kind) !== undefined) errorSubcode = 2207026;
      } else {
        checkImage(probe, containerRequest.kind === 'image' || containerRequest.kind === 'carousel-item');
      }
    }
    if (containerRequest.kind === 'reel' && containerRequest.coverUrl !== undefined) {
      checkImage(await fetchMedia(ctx, containerRequest.coverUrl), false);
    }

    const container: Container = {
      id: ctx.store.ids.next('container'),
      igUserId: account.id,
      appId: token.appId,
      login,
      request: containerRequest,
      createdAt: now,
      isVideo: video,
      readyAt: resumable ? undefined : now + (video ? ctx.settings.videoProcessingMs : ctx.settings.imageProcessingMs),
      errorSubcode,
      probe,
      publishedAt: undefined,
      mediaId: undefined,
      usedByCarousel: undefined,
    };
    ctx.store.containers.set(container.id, container);
    created.push(now);
    if (resumable) {
      return { id: container.id, uri: `${publicBase(ctx, request)}/ig-api-upload/${request.params.version ?? DEFAULT_UPLOAD_VERSION}/${container.id}` };
    }
    return { id: container.id };
  });

  app.post<WithId>('/:id/media_publish', { config: { operation: 'instagram.media-publish' } }, async (request, reply) => {
    const params = readParams(request);
    const token = authenticate(ctx, request, reply, params);
    const igUserId = meId(token, request.params.id);
    const { account } = instagramAccess(ctx, reply, token, igUserId, 'post', 'publish');
    const creationId = str(params, 'creation_id');
    if (creationId === undefined) throw errors.missingParameter('creation_id');
    const container = ctx.store.containers.get(creationId);
    if (!container || container.igUserId !== account.id) throw errors.containerMissing(creationId);
    if (container.request.kind === 'carousel-item') {
      throw errors.invalidParameter('A carousel item cannot be published on its own; publish the carousel container.');
    }
    const now = ctx.clock.now();
    const status = containerStatus(timelineOf(ctx, container), now);
    switch (status.statusCode) {
      case 'PUBLISHED':
        throw errors.alreadyPublished(container.id);
      case 'EXPIRED':
        throw errors.containerExpired();
      case 'ERROR':
      case '':
        throw new GraphError({ code: -1, subcode: timelineOf(ctx, container).errorSubcode, isTransient: false, message: status.status });
      case 'IN_PROGRESS':
        throw errors.notReady();
      case 'FINISHED':
        break;
    }
    if (publishesSince(ctx, account.id, 0) >= ctx.settings.publishQuota) throw errors.quotaReached();
    const media = createMediaFromContainer(ctx, container, account, now);
    container.publishedAt = now;
    container.mediaId = media.id;
    const log = ctx.store.publishLog.get(account.id) ?? [];
    log.push(now);
    ctx.store.publishLog.set(account.id, log.filter((at) => at > now - DAY));
    return { id: media.id };
  });

  app.get<WithId>('/:id/content_publishing_limit', { config: { operation: 'instagram.publishing-limit' } }, async (request, reply) => {
    const params = readParams(request);
    const token = authenticate(ctx, request, reply, params);
    const { account } = instagramAccess(ctx, reply, token, meId(token, request.params.id), 'get', 'publish');
    const since = str(params, 'since');
    const usage = publishesSince(ctx, account.id, since === undefined ? 0 : Number(since) * 1000);
    const entry = selectFields(
      'ContentPublishingLimit',
      { quota_usage: () => usage, config: () => ({ quota_total: ctx.settings.publishQuota, quota_duration: 86_400 }) },
      requestedFields(params),
      ['quota_usage'],
    );
    return { data: [entry] };
  });

  const listMedia = (which: 'media' | 'stories') => async (request: FastifyRequest<WithId>, reply: Parameters<typeof authenticate>[2]) => {
    const params = readParams(request);
    const token = authenticate(ctx, request, reply, params);
    const { account } = instagramAccess(ctx, reply, token, meId(token, request.params.id), 'get', 'basic');
    const now = ctx.clock.now();
    const fields = requestedFields(params);
    const inRange = timeRange(params);
    const items = [...ctx.store.media.values()]
      .filter((media) => media.igUserId === account.id && media.parentId === undefined && media.deletedAt === undefined)
      .filter((media) => (which === 'stories' ? media.productType === 'STORY' && now - media.publishedAt < DAY : media.productType !== 'STORY'))
      .filter((media) => inRange(media.publishedAt))
      .sort((a, b) => b.publishedAt - a.publishedAt || b.id.localeCompare(a.id))
      .map((media) => renderMedia(ctx, media, fields));
    return pageOf(items, params, { base: publicBase(ctx, request), url: request.url });
  };
  app.get<WithId>('/:id/media', { config: { operation: 'instagram.media.list' } }, listMedia('media'));
  app.get<WithId>('/:id/stories', { config: { operation: 'instagram.media.list' } }, listMedia('stories'));

  app.get<WithId>('/:id/children', { config: { operation: 'instagram.media.children' } }, async (request, reply) => {
    const params = readParams(request);
    const token = authenticate(ctx, request, reply, params);
    const media = visibleMedia(ctx, request.params.id, 'get');
    instagramAccess(ctx, reply, token, media.igUserId, 'get', 'basic');
    return renderMedia(ctx, media, [{ name: 'children', modifiers: {}, subfields: requestedFields(params) }]).children;
  });

  app.post<WithId>('/:id/comments', { config: { operation: 'instagram.comments.create' } }, async (request, reply) => {
    const params = readParams(request);
    const token = authenticate(ctx, request, reply, params);
    const media = visibleMedia(ctx, request.params.id, 'post');
    const { account } = instagramAccess(ctx, reply, token, media.igUserId, 'post', 'comments');
    if (media.parentId !== undefined) throw errors.invalidParameter('Carousel children cannot be commented on.');
    const message = str(params, 'message');
    if (message === undefined) throw errors.missingParameter('message');
    if (message.length > 2200) throw errors.invalidParameter('The comment is longer than 2200 characters.');
    const now = ctx.clock.now();
    const comment = { id: ctx.store.ids.next('instagramComment'), mediaId: media.id, text: message, fromId: account.id, fromUsername: account.username, createdAt: now };
    ctx.store.comments.set(comment.id, comment);
    media.commentIds.push(comment.id);
    ctx.webhooks.emit('instagram', account.id, 'comments', {
      from: { id: account.id, username: account.username },
      media: { id: media.id, media_product_type: media.productType },
      id: comment.id,
      text: message,
    });
    return { id: comment.id };
  });

  app.get<WithId>('/:id/comments', { config: { operation: 'instagram.comments.list' } }, async (request, reply) => {
    const params = readParams(request);
    const token = authenticate(ctx, request, reply, params);
    const media = visibleMedia(ctx, request.params.id, 'get');
    instagramAccess(ctx, reply, token, media.igUserId, 'get', 'comments');
    const fields = requestedFields(params);
    const comments = media.commentIds
      .map((id) => ctx.store.comments.get(id))
      .filter((comment) => comment !== undefined)
      .map((comment) => renderComment(comment, fields));
    return pageOf(comments, params);
  });
}

export function renderComment(comment: { id: string; text: string; fromId: string; fromUsername: string; createdAt: number; mediaId: string }, fields: readonly FieldSpec[] | undefined) {
  return selectFields(
    'IGComment',
    {
      id: () => comment.id,
      text: () => comment.text,
      timestamp: () => metaTimestamp(comment.createdAt),
      username: () => comment.fromUsername,
      from: () => ({ id: comment.fromId, username: comment.fromUsername }),
      media: () => ({ id: comment.mediaId }),
      like_count: () => 0,
    },
    fields,
    ['id', 'text', 'timestamp'],
  );
}

export function visibleMedia(ctx: SandboxContext, id: string, method: string): InstagramMedia {
  const media = ctx.store.media.get(id);
  if (!media || media.deletedAt !== undefined) throw errors.unsupported(method, id);
  return media;
}

/** DELETE /{ig-media-id}: Facebook Login with instagram_manage_contents only (since 2025-12-03). */
export function deleteInstagramMedia(ctx: SandboxContext, token: TokenRecord, media: InstagramMedia) {
  if (token.kind === 'instagram-user') {
    throw errors.deleteUnsupported('Instagram Login tokens cannot delete media; use Facebook Login with instagram_manage_contents.');
  }
  if (!token.scopes.includes('instagram_manage_contents')) throw errors.permission(10, 'instagram_manage_contents');
  if (media.parentId !== undefined) throw errors.deleteUnsupported('carousel children cannot be deleted on their own.');
  const now = ctx.clock.now();
  media.deletedAt = now;
  for (const childId of media.childIds) {
    const child = ctx.store.media.get(childId);
    if (child) child.deletedAt = now;
  }
  return { success: true, deleted_id: media.id };
}
