import { z } from 'zod';
import type { MediaItem } from '@postwire/contracts';
import { type AccountMedia, GraphApiError, type MediaContainerParams, classifyGraphError, errorCategory } from '@postwire/graph';
import { PublishRefusedError } from './engine-errors.ts';
import type { PlatformFlow, PostToPublish, PublishProgress, StepContext, StepOutcome } from './flow.ts';

/**
 * What the Instagram flow has done, in the post's publish_state. Every id is saved as soon as Meta answers it,
 * and `publishSentAt` before `media_publish` is sent: a flow resumed with it and no `mediaId` reconciles first.
 */
const InstagramProgress = z.object({
  /** Carousel children, in the post's order, as far as they were created. */
  children: z.array(z.string()).default([]),
  /** The container media_publish takes: the single container, or the carousel parent. */
  container: z.string().optional(),
  /** How often the container was found still processing (sets the next poll's delay). */
  polls: z.int().nonnegative().default(0),
  publishSentAt: z.iso.datetime().optional(),
  /** Reconciliations that found the container PUBLISHED but not (yet) its media in the account's list. */
  reconcileMisses: z.int().nonnegative().default(0),
  mediaId: z.string().optional(),
  permalink: z.string().nullable().optional(),
  commentSentAt: z.iso.datetime().optional(),
  commentId: z.string().optional(),
  /** The last content_publishing_limit read, for the account projection. */
  publishingLimit: z
    .object({ quotaTotal: z.int().nonnegative(), quotaUsage: z.int().nonnegative(), windowSeconds: z.int().positive(), checkedAt: z.iso.datetime() })
    .optional(),
});
type InstagramProgress = z.output<typeof InstagramProgress>;

export type InstagramFlowSettings = {
  /** The first re-check of a processing container; each later one waits twice as long, up to the max. */
  readonly pollFirstDelayMs: number;
  readonly pollMaxDelayMs: number;
  /** How long a post over its account's publishing quota waits before the quota is read again. */
  readonly quotaRecheckMs: number;
  /** How long after a PUBLISHED container the account's media list is read again when the media is not in it yet. */
  readonly reconcileDelayMs: number;
};

/** Meta's documented quota ("currently 50"), used only when content_publishing_limit answers without a config. */
const DOCUMENTED_QUOTA = { total: 50, windowSeconds: 86_400 } as const;
/** How many times a PUBLISHED container's media may be missing from the account's list before the post fails. */
const MAX_RECONCILE_MISSES = 5;
/** Meta's media timestamps have second precision and its clock is not ours: how far before the send a match may be. */
const RECONCILE_SKEW_MS = 60_000;

/** The user tags Meta takes: without x/y only on stories. */
function tagsOf(item: MediaItem) {
  return item.userTags?.map((tag) => ({ username: tag.username, ...(tag.x === undefined ? {} : { x: tag.x }), ...(tag.y === undefined ? {} : { y: tag.y }) }));
}

const withoutAt = (names: readonly string[]) => names.map((name) => name.replace(/^@+/, ''));

function optional<K extends string, V>(key: K, value: V | null | undefined): Partial<Record<K, V>> {
  return value === null || value === undefined || (Array.isArray(value) && value.length === 0) ? {} : ({ [key]: value } as Record<K, V>);
}

/** The container parameters of a single-media post (reference §2): a single video is a REEL, stories are STORIES. */
export function singleContainer(post: PostToPublish, item: MediaItem): MediaContainerParams {
  if (post.postType === 'story') {
    return { kind: 'story', ...(item.mediaType === 'video' ? { videoUrl: item.url } : { imageUrl: item.url }), ...optional('userTags', tagsOf(item)) };
  }
  if (item.mediaType === 'video') {
    return {
      kind: 'reel',
      videoUrl: item.url,
      ...optional('caption', post.text),
      // A feed video is published as a reel shown in the feed (media_type=VIDEO for feed posts is gone).
      shareToFeed: post.postType === 'feed' ? true : post.shareToFeed,
      // cover_url wins over thumb_offset at Meta: send only the one that applies.
      ...(item.coverUrl === undefined ? optional('thumbOffsetMs', item.thumbOffsetMs) : { coverUrl: item.coverUrl }),
      ...optional('locationId', post.locationId),
      ...optional('userTags', tagsOf(item)),
      ...optional('collaborators', withoutAt(post.collaborators)),
      ...(post.trialGraduation === null ? {} : { trialParams: { graduationStrategy: post.trialGraduation } }),
    };
  }
  return {
    kind: 'image',
    imageUrl: item.url,
    ...optional('caption', post.text),
    ...optional('altText', item.altText),
    ...optional('locationId', post.locationId),
    ...optional('userTags', tagsOf(item)),
    ...optional('collaborators', withoutAt(post.collaborators)),
  };
}

/** A carousel child: no caption, location or collaborators (those go on the parent); alt text on images only. */
export function carouselChild(item: MediaItem): MediaContainerParams {
  return item.mediaType === 'video'
    ? { kind: 'carousel-item', videoUrl: item.url, ...optional('userTags', tagsOf(item)) }
    : { kind: 'carousel-item', imageUrl: item.url, ...optional('altText', item.altText), ...optional('userTags', tagsOf(item)) };
}

export function carouselParent(post: PostToPublish, children: readonly string[]): MediaContainerParams {
  return {
    kind: 'carousel',
    children,
    ...optional('caption', post.text),
    ...optional('locationId', post.locationId),
    ...optional('collaborators', withoutAt(post.collaborators)),
  };
}

/** The product type a published post reports, to tell our media from others with the same caption. */
function productTypeOf(post: PostToPublish): string {
  if (post.postType === 'story') return 'STORY';
  if (post.postType === 'carousel') return 'FEED';
  return post.media[0]?.mediaType === 'video' ? 'REELS' : 'FEED';
}

/**
 * The media an unclear media_publish produced, if any: same product type, same caption, published no earlier
 * than the send (less clock skew); the closest in time wins.
 */
export function matchPublished(post: PostToPublish, sentAt: Date, candidates: readonly AccountMedia[]): AccountMedia | undefined {
  const caption = post.postType === 'story' ? undefined : (post.text ?? '').trim();
  const productType = productTypeOf(post);
  const matching = candidates.filter(
    (media) =>
      media.timestamp !== undefined &&
      media.timestamp.getTime() >= sentAt.getTime() - RECONCILE_SKEW_MS &&
      (media.mediaProductType === undefined || media.mediaProductType === productType) &&
      (caption === undefined || (media.caption ?? '').trim() === caption),
  );
  const distance = (media: AccountMedia) => Math.abs((media.timestamp?.getTime() ?? 0) - sentAt.getTime());
  return matching.sort((a, b) => distance(a) - distance(b))[0];
}

/** The subcode Meta puts in a failed container's status text ("... error code 2207026"). */
export function statusSubcode(status: string | undefined): number | undefined {
  const match = /\b(2207\d{3})\b/.exec(status ?? '');
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * A final refusal. With a subcode, the message is the classification's sentence (what to change) followed by
 * Meta's status text; without one, Meta's text is all there is to say.
 */
function refusal(text: string, subcode?: number): PublishRefusedError {
  if (subcode === undefined) return new PublishRefusedError({ category: 'bad-media', message: text, retryable: false });
  const classification = classifyGraphError(
    new GraphApiError({ httpStatus: 400, code: -1, subcode, type: undefined, message: text, userTitle: undefined, userMessage: undefined, isTransient: false, fbtraceId: undefined, source: 'graph' }),
  );
  const category = errorCategory(classification.class);
  return new PublishRefusedError({ category, message: `${classification.userMessage} (Instagram: ${text})`, retryable: false, code: -1, subcode });
}

export function createInstagramFlow(settings: InstagramFlowSettings): PlatformFlow {
  const pollDelay = (polls: number) => Math.min(settings.pollMaxDelayMs, settings.pollFirstDelayMs * 2 ** polls);

  /** Forgets the containers (expired, failed): the next step creates new ones. */
  const withoutContainers = (progress: InstagramProgress): InstagramProgress => ({ ...progress, children: [], container: undefined, polls: 0, publishSentAt: undefined, reconcileMisses: 0 });

  async function createContainers(post: PostToPublish, progress: InstagramProgress, context: StepContext): Promise<StepOutcome> {
    const { graph, token, account } = context;
    const igId = account.platformAccountId;
    let current = progress;
    if (post.postType === 'carousel') {
      // Children first, in order; each id is saved the moment Meta answers it, so a resumed flow creates only the rest.
      for (const item of post.media.slice(current.children.length)) {
        const child = await graph.createMediaContainer(igId, token, carouselChild(item));
        current = { ...current, children: [...current.children, child.id] };
        await context.save(current);
      }
      const parent = await graph.createMediaContainer(igId, token, carouselParent(post, current.children));
      current = { ...current, container: parent.id, polls: 0 };
    } else {
      const item = post.media[0];
      if (item === undefined) throw refusal('An Instagram post needs one media item.');
      const container = await graph.createMediaContainer(igId, token, singleContainer(post, item));
      current = { ...current, container: container.id, polls: 0 };
    }
    await context.save(current);
    // Looked at right away: a container that is ready (images usually are) goes on in this step, without a
    // wait; one still processing is looked at again later (publishing before FINISHED fails, images included).
    return checkContainer(post, current, context, false);
  }

  async function checkContainer(post: PostToPublish, progress: InstagramProgress, context: StepContext, mayRecreate: boolean): Promise<StepOutcome> {
    const container = progress.container;
    if (container === undefined) return createContainers(post, progress, context);
    /** New containers now, or (right after creating some) at the next step, so a broken Meta cannot loop us. */
    const recreate = async () => {
      const cleared = withoutContainers(progress);
      await context.save(cleared);
      return mayRecreate ? createContainers(post, cleared, context) : ({ kind: 'wait', progress: cleared, checkAfterMs: pollDelay(0), reason: 'processing' } as const);
    };
    const status = await context.graph.containerStatus(container, context.token);
    switch (status.statusCode) {
      case 'IN_PROGRESS': {
        const polled = { ...progress, polls: progress.polls + 1 };
        return { kind: 'wait', progress: polled, checkAfterMs: pollDelay(progress.polls), reason: 'processing' };
      }
      case 'FINISHED':
        return publishOrWait(post, progress, context);
      case 'PUBLISHED':
        // Published without our mark (an older instance's send whose mark was lost): find the media.
        return reconcile(post, { ...progress, publishSentAt: post.publishingSince.toISOString() }, context);
      case 'EXPIRED':
        return recreate();
      case 'ERROR': {
        const subcode = statusSubcode(status.status);
        // An upload that failed for no stated reason: only a new container helps.
        if (subcode === 2207053) return recreate();
        await context.save(withoutContainers(progress));
        throw refusal(status.status ?? 'Instagram could not process the media.', subcode);
      }
      case undefined:
        // An error text with an empty status code: Meta will not process this container; fail with its words.
        await context.save(withoutContainers(progress));
        throw refusal(status.status ?? 'Instagram could not process the media.');
    }
  }

  async function readQuota(post: PostToPublish, progress: InstagramProgress, context: StepContext): Promise<{ over: boolean; progress: InstagramProgress }> {
    const now = context.now();
    const limit = await context.graph.contentPublishingLimit(context.account.platformAccountId, context.token, new Date(now.getTime() - DOCUMENTED_QUOTA.windowSeconds * 1000));
    const quotaTotal = limit.quotaTotal ?? DOCUMENTED_QUOTA.total;
    const windowSeconds = limit.quotaDurationSeconds ?? DOCUMENTED_QUOTA.windowSeconds;
    const publishingLimit = { quotaTotal, quotaUsage: limit.quotaUsage, windowSeconds: Math.max(1, windowSeconds), checkedAt: now.toISOString() };
    context.logger.debug({ postId: post.id, quotaUsage: limit.quotaUsage, quotaTotal }, 'instagram publishing limit read');
    return { over: limit.quotaUsage >= quotaTotal, progress: { ...progress, publishingLimit } };
  }

  async function reconcile(post: PostToPublish, progress: InstagramProgress, context: StepContext): Promise<StepOutcome> {
    const sentAt = new Date(progress.publishSentAt ?? context.now().toISOString());
    const container = progress.container;
    const status = container === undefined ? undefined : await context.graph.containerStatus(container, context.token).catch((error: unknown) => {
      // A container Meta no longer knows tells nothing; the account's media list decides below.
      if (classifyGraphError(error).class === 'invalid-parameter') return undefined;
      throw error;
    });
    if (status?.statusCode === 'FINISHED' || status?.statusCode === 'IN_PROGRESS') {
      // Not published: the send never took effect. Forget the mark and publish (after the quota check) again.
      const cleared = { ...progress, publishSentAt: undefined, reconcileMisses: 0 };
      await context.save(cleared);
      context.logger.info({ postId: post.id, containerId: container }, 'unclear media_publish did not publish: publishing again');
      return publishOrWait(post, cleared, context);
    }
    if (status?.statusCode === 'EXPIRED' || status?.statusCode === 'ERROR') {
      const cleared = withoutContainers(progress);
      await context.save(cleared);
      return createContainers(post, cleared, context);
    }
    const candidates = await context.graph.listAccountMedia(context.account.platformAccountId, context.token, {
      since: new Date(Math.min(sentAt.getTime(), post.publishingSince.getTime()) - RECONCILE_SKEW_MS),
      stories: post.postType === 'story',
    });
    const found = matchPublished(post, sentAt, candidates);
    if (found !== undefined) {
      const resolved = { ...progress, mediaId: found.id, permalink: found.permalink ?? null, reconcileMisses: 0 };
      await context.save(resolved);
      context.logger.info({ postId: post.id, containerId: container, mediaId: found.id }, 'unclear media_publish had published: reconciled');
      return afterPublish(post, resolved, context);
    }
    if (status?.statusCode === 'PUBLISHED') {
      // Meta says it is live but the media is not listed yet: look again rather than publish twice.
      if (progress.reconcileMisses + 1 >= MAX_RECONCILE_MISSES) {
        throw refusal('Instagram reports the post as published, but its media could not be found on the account. Check the account before publishing it again.');
      }
      const missed = { ...progress, reconcileMisses: progress.reconcileMisses + 1 };
      return { kind: 'wait', progress: missed, checkAfterMs: settings.reconcileDelayMs, reason: 'processing' };
    }
    // Neither the container nor the account shows it: the send did not publish.
    const cleared = { ...progress, publishSentAt: undefined, reconcileMisses: 0 };
    await context.save(cleared);
    return container === undefined ? createContainers(post, cleared, context) : publishOrWait(post, cleared, context);
  }

  async function publishOrWait(post: PostToPublish, progress: InstagramProgress, context: StepContext): Promise<StepOutcome> {
    const quota = await readQuota(post, progress, context);
    if (quota.over) return { kind: 'wait', progress: quota.progress, checkAfterMs: settings.quotaRecheckMs, reason: 'quota' };
    const container = quota.progress.container;
    if (container === undefined) return createContainers(post, quota.progress, context);
    const sent = { ...quota.progress, publishSentAt: context.now().toISOString() };
    await context.save(sent);
    let mediaId: string;
    try {
      mediaId = (await context.graph.publishMedia(context.account.platformAccountId, context.token, container)).id;
    } catch (error) {
      const kind = classifyGraphError(error).class;
      if (kind === 'ambiguous') throw error; // the mark stays: the next step reconciles before anything else
      // A clear refusal: nothing was published. Forget the mark, then decide.
      const cleared = kind === 'container-expired' ? withoutContainers(sent) : { ...sent, publishSentAt: undefined };
      await context.save(cleared);
      if (kind === 'media-not-ready') return { kind: 'wait', progress: cleared, checkAfterMs: pollDelay(cleared.polls), reason: 'processing' };
      if (kind === 'container-expired') return createContainers(post, cleared, context);
      throw error;
    }
    // Not saved here: a publisher that dies before recording the outcome finds the mark and reconciles, and the
    // first comment's mark (below) saves the id when there is one.
    return afterPublish(post, { ...sent, mediaId }, context);
  }

  async function afterPublish(post: PostToPublish, progress: InstagramProgress, context: StepContext): Promise<StepOutcome> {
    const mediaId = progress.mediaId;
    if (mediaId === undefined) throw new Error('afterPublish without a media id');
    let current = progress;
    if (current.permalink === undefined) {
      try {
        current = { ...current, permalink: (await context.graph.mediaInfo(mediaId, context.token)).permalink ?? null };
      } catch (error) {
        // The post is live: a permalink Meta will not give now never turns it into a retry or a failure.
        context.logger.warn({ postId: post.id, mediaId, error: classifyGraphError(error).class }, 'permalink could not be read; the post is published without it');
        current = { ...current, permalink: null };
      }
    }
    if (post.firstComment !== null && current.commentId === undefined) {
      if (current.commentSentAt === undefined) {
        current = { ...current, commentSentAt: context.now().toISOString() };
        await context.save(current);
        try {
          current = { ...current, commentId: (await context.graph.createComment(mediaId, context.token, post.firstComment)).id };
          await context.save(current);
        } catch (error) {
          // The post is live: a failed first comment does not undo it, and an unclear one is never sent twice.
          context.logger.warn({ postId: post.id, mediaId, error: classifyGraphError(error).class }, 'first comment failed; the post stays published');
        }
      } else {
        context.logger.warn({ postId: post.id, mediaId }, 'first comment was sent before without a confirmed id; not sending it again');
      }
    }
    return { kind: 'published', progress: current, platformPostId: mediaId, platformUrl: current.permalink ?? null, mediaCount: post.media.length };
  }

  return {
    async step(post, saved, context) {
      const progress = InstagramProgress.parse(saved);
      if (progress.mediaId !== undefined) return afterPublish(post, progress, context);
      if (progress.publishSentAt !== undefined) return reconcile(post, progress, context);
      return checkContainer(post, progress, context, true);
    },
    remove: () => Promise.resolve(false),
  };
}

export type { PublishProgress };
