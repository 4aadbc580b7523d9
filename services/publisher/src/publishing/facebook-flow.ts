import { GraphApiError, type PagePostSummary } from '@postwire/graph';
import type { FacebookFormat, MediaItem } from '@postwire/contracts';
import { z } from 'zod';
import { findSentPost, pollDelayMs, processingTooLong, reconcileWindow, settleRemainingMs, videoReadiness, VIDEO_SETTLE_MS, type SentPost } from '../domain/facebook-publishing.ts';
import type { PlatformFlow, PostToPublish, PublishProgress, StepContext, StepOutcome } from './flow.ts';

/**
 * Facebook Page publishing (shared/reference/meta-graph-api.md §3) for every FacebookFormat.
 *
 * Every id Meta hands back (unpublished photos, the upload session's video id, the post id) is saved before the
 * call that builds on it. Before a write that creates something visible, progress records it as `sent`; a step
 * that finds such a mark reads the Page back first (recent posts with since/until, or the photo or video the
 * write used) and only writes again when nothing matches. Uploads of unpublished photos and upload sessions
 * are not marked: one lost with its answer is invisible to readers, and a new one costs nothing but an orphan.
 */

/** Meta's video processing ended in a final failure state: bad media, the engine fails the post without retrying. */
export class MediaProcessingError extends Error {
  override readonly name = 'MediaProcessingError';
  readonly platform = 'facebook';
  /** Meta's `video_status` (`error`, `expired`, `upload_failed`), or `stuck` when processing never ended. */
  readonly videoStatus: string;
  /** Meta's reason when it gave one; safe to show the person whose post failed. */
  readonly reason: string;

  constructor(videoStatus: string, reason: string) {
    super(`Facebook could not publish the video (${videoStatus}): ${reason}`);
    this.videoStatus = videoStatus;
    this.reason = reason;
  }
}

const SentWrite = z.enum(['feed', 'photo', 'video', 'upload', 'finish', 'photo-story']);
type SentWrite = z.infer<typeof SentWrite>;

/** What publish_state holds for a Facebook post. Loose: the engine may keep its own keys beside these. */
const FacebookProgress = z.looseObject({
  /** Unpublished photos already uploaded, in media order (multi-photo, photo story). */
  photoIds: z.array(z.string()).optional(),
  /** The video (Page video) or upload session (reel, video story). */
  videoId: z.string().optional(),
  uploaded: z.boolean().optional(),
  /** When the video went to Meta for processing (creation or finish): the stuck-processing clock starts here. */
  processingSince: z.iso.datetime().optional(),
  polls: z.number().int().nonnegative().optional(),
  postId: z.string().optional(),
  sent: z.object({ write: SentWrite, at: z.iso.datetime() }).optional(),
});
type FacebookProgress = z.infer<typeof FacebookProgress>;

/** The engine decides what a Graph error means; a flow error never fits one of Meta's classes. */
class FlowInvariantError extends Error {
  override readonly name = 'FlowInvariantError';
}

function sortedMedia(post: PostToPublish): MediaItem[] {
  return [...post.media].sort((a, b) => a.position - b.position);
}

function firstMedia(post: PostToPublish, type?: 'image' | 'video'): MediaItem {
  const item = sortedMedia(post)[0];
  if (item === undefined || (type !== undefined && item.mediaType !== type)) {
    throw new FlowInvariantError(`a Facebook ${post.facebookFormat ?? 'post'} needs ${type === undefined ? 'a media item' : `a ${type}`}`);
  }
  return item;
}

function mediaCountOf(format: FacebookFormat, post: PostToPublish): number {
  if (format === 'text' || format === 'link') return 0;
  return format === 'multi-photo' ? post.media.length : 1;
}

type Run = {
  readonly post: PostToPublish;
  readonly context: StepContext;
  readonly pageId: string;
  progress: FacebookProgress;
};

async function save(run: Run, changes: Partial<FacebookProgress>): Promise<void> {
  // A change to undefined removes the key, so publish_state never carries a stale `sent` mark.
  run.progress = Object.fromEntries(Object.entries({ ...run.progress, ...changes }).filter(([, value]) => value !== undefined)) as FacebookProgress;
  await run.context.save(run.progress);
}

/** Marks the write as sent (and when), persisted before the request leaves. */
async function markSent(run: Run, write: SentWrite): Promise<void> {
  await save(run, { sent: { write, at: run.context.now().toISOString() } });
}

/** The mark left by an earlier attempt for this write, if any: that attempt's outcome is unknown. */
function sentMark(run: Run, write: SentWrite): Date | undefined {
  return run.progress.sent?.write === write ? new Date(run.progress.sent.at) : undefined;
}

async function findOnPage(run: Run, sentAt: Date, sent: SentPost): Promise<PagePostSummary | undefined> {
  const window = reconcileWindow(sentAt, run.context.now());
  const candidates = await run.context.graph.pages.recentPosts(run.pageId, run.context.token, window);
  const id = findSentPost(candidates, sent, window);
  const found = candidates.find((candidate) => candidate.id === id);
  run.context.logger.info({ postId: run.post.id, write: run.progress.sent?.write, candidates: candidates.length, found: found?.id }, 'facebook: reconciled a write whose answer was lost');
  return found;
}

/**
 * A feed-visible write (feed post, published photo, Page video), sent once: with a mark from an earlier attempt the
 * Page is read back first. Answers a wait when nothing was found but the write is too recent for that to prove
 * anything; otherwise undefined, with the result saved.
 */
async function createOnce(
  run: Run,
  write: SentWrite,
  sent: SentPost,
  send: () => Promise<Partial<FacebookProgress>>,
  fromFound: (found: PagePostSummary) => Partial<FacebookProgress>,
): Promise<StepOutcome | undefined> {
  const sentAt = sentMark(run, write);
  if (sentAt !== undefined) {
    const found = await findOnPage(run, sentAt, sent);
    if (found !== undefined) {
      await save(run, { ...fromFound(found), sent: undefined });
      return undefined;
    }
    const settle = settleRemainingMs(sentAt, run.context.now(), write === 'video' ? VIDEO_SETTLE_MS : undefined);
    if (settle > 0) return { kind: 'wait', progress: run.progress, checkAfterMs: settle, reason: 'processing' };
  }
  await markSent(run, write);
  const result = await send();
  await save(run, { ...result, sent: undefined });
  return undefined;
}

/** Unpublished photos for every image not uploaded yet; saved one by one so a resume reuses them. */
async function uploadPhotos(run: Run, items: readonly MediaItem[]): Promise<string[]> {
  const { graph, token } = run.context;
  const photoIds = [...(run.progress.photoIds ?? [])];
  for (const item of items.slice(photoIds.length)) {
    const photo = await graph.pages.uploadUnpublishedPhoto(run.pageId, token, item.url);
    photoIds.push(photo.id);
    await save(run, { photoIds });
  }
  return photoIds;
}

function published(run: Run, platformPostId: string, platformUrl: string | undefined, format: FacebookFormat): StepOutcome {
  return { kind: 'published', progress: run.progress, platformPostId, platformUrl: platformUrl ?? null, mediaCount: mediaCountOf(format, run.post) };
}

async function finishFeedPost(run: Run, format: FacebookFormat): Promise<StepOutcome> {
  const postId = run.progress.postId;
  if (postId === undefined) throw new FlowInvariantError('no post id after the write');
  const permalink = await run.context.graph.pages.permalink(postId, run.context.token);
  return published(run, postId, permalink, format);
}

async function feedPost(run: Run, format: 'text' | 'link'): Promise<StepOutcome> {
  const { graph, token } = run.context;
  const message = run.post.text;
  const link = format === 'link' ? (run.post.linkUrl ?? undefined) : undefined;
  if (run.progress.postId === undefined) {
    const waiting = await createOnce(
      run,
      'feed',
      { message, mediaIds: [], statusType: undefined },
      async () => ({ postId: (await graph.pages.createFeedPost(run.pageId, token, { message, link })).id }),
      (found) => ({ postId: found.id }),
    );
    if (waiting !== undefined) return waiting;
  }
  return finishFeedPost(run, format);
}

async function photoPost(run: Run): Promise<StepOutcome> {
  const { graph, token } = run.context;
  const item = firstMedia(run.post, 'image');
  if (run.progress.postId === undefined) {
    const waiting = await createOnce(
      run,
      'photo',
      { message: run.post.text, mediaIds: [], statusType: 'added_photos' },
      async () => {
        const photo = await graph.pages.createPhoto(run.pageId, token, { url: item.url, caption: run.post.text });
        // Meta answers post_id for a published photo; the photo id stands in if it ever does not.
        return { postId: photo.postId ?? photo.id, photoIds: [photo.id] };
      },
      (found) => ({ postId: found.id }),
    );
    if (waiting !== undefined) return waiting;
  }
  return finishFeedPost(run, 'photo');
}

async function multiPhotoPost(run: Run): Promise<StepOutcome> {
  const { graph, token } = run.context;
  const items = sortedMedia(run.post);
  if (items.length < 2 || items.some((item) => item.mediaType !== 'image')) throw new FlowInvariantError('a Facebook multi-photo post needs 2 to 10 images');
  if (run.progress.postId === undefined) {
    const photoIds = await uploadPhotos(run, items);
    const waiting = await createOnce(
      run,
      'feed',
      // Meta links the uploaded photos to the post: finding one of them in a post is proof enough.
      { message: run.post.text, mediaIds: photoIds, statusType: undefined },
      async () => ({ postId: (await graph.pages.createFeedPost(run.pageId, token, { message: run.post.text, attachedMedia: photoIds })).id }),
      (found) => ({ postId: found.id }),
    );
    if (waiting !== undefined) return waiting;
  }
  return finishFeedPost(run, 'multi-photo');
}

/** Status check of a video handed to Meta: published when ready, a wait while processing, MediaProcessingError on failure. */
async function awaitVideo(run: Run, format: FacebookFormat): Promise<StepOutcome> {
  const { graph, token } = run.context;
  const videoId = run.progress.videoId;
  if (videoId === undefined) throw new FlowInvariantError('no video id to check');
  const readiness = videoReadiness(await graph.pages.videoStatus(videoId, token));
  if (readiness.state === 'failed') throw new MediaProcessingError(readiness.videoStatus, readiness.reason);
  if (readiness.state === 'processing') {
    const since = run.progress.processingSince === undefined ? run.context.now() : new Date(run.progress.processingSince);
    if (processingTooLong(since, run.context.now())) throw new MediaProcessingError('stuck', 'Facebook did not finish processing the video in time.');
    const polls = run.progress.polls ?? 0;
    run.progress = { ...run.progress, polls: polls + 1 };
    return { kind: 'wait', progress: run.progress, checkAfterMs: pollDelayMs(polls), reason: 'processing' };
  }
  const node = await graph.pages.videoPost(videoId, token);
  const postId = run.progress.postId ?? node.postId ?? videoId;
  return published(run, postId, node.permalinkUrl, format);
}

async function videoPost(run: Run): Promise<StepOutcome> {
  const { graph, token } = run.context;
  const item = firstMedia(run.post, 'video');
  if (run.progress.videoId === undefined && run.progress.postId === undefined) {
    const waiting = await createOnce(
      run,
      'video',
      { message: run.post.text, mediaIds: [], statusType: 'added_video' },
      async () => ({
        videoId: (await graph.pages.createVideo(run.pageId, token, { fileUrl: item.url, description: run.post.text })).id,
        processingSince: run.context.now().toISOString(),
      }),
      // Meta names the video as the post's attachment target; without it the post is all we can show.
      (found) => ({ postId: found.id, ...(found.mediaIds[0] === undefined ? {} : { videoId: found.mediaIds[0], processingSince: run.context.now().toISOString() }) }),
    );
    if (waiting !== undefined) return waiting;
  }
  if (run.progress.videoId === undefined) {
    const postId = run.progress.postId;
    if (postId === undefined) throw new FlowInvariantError('no video or post after the write');
    return finishFeedPost(run, 'video');
  }
  return awaitVideo(run, 'video');
}

/** Sends the video file to the upload session from its URL; a lost answer is settled by the session's status. */
async function uploadVideo(run: Run, videoId: string, url: string): Promise<void> {
  const { graph, token } = run.context;
  if (sentMark(run, 'upload') !== undefined) {
    const status = await graph.pages.videoStatus(videoId, token);
    const readiness = videoReadiness(status);
    if (readiness.state === 'failed') throw new MediaProcessingError(readiness.videoStatus, readiness.reason);
    if (status.videoStatus !== 'uploading') {
      await save(run, { uploaded: true, sent: undefined });
      return;
    }
  }
  await markSent(run, 'upload');
  try {
    await graph.pages.uploadVideoFromUrl(videoId, token, url);
  } catch (error) {
    // rupload answers a refused file in its own shape; the session's status says whether the file was the problem.
    if (error instanceof GraphApiError && error.source === 'rupload' && !error.isTransient) {
      const readiness = videoReadiness(await graph.pages.videoStatus(videoId, token));
      if (readiness.state === 'failed') throw new MediaProcessingError(readiness.videoStatus, readiness.reason);
    }
    throw error;
  }
  await save(run, { uploaded: true, sent: undefined });
}

/** Whether a finish whose answer was lost took effect: the video then has a post, or its publishing started. */
async function finishApplied(run: Run, videoId: string): Promise<{ readonly applied: boolean; readonly postId?: string }> {
  const { graph, token } = run.context;
  const status = await graph.pages.videoStatus(videoId, token);
  const readiness = videoReadiness(status);
  if (readiness.state === 'failed') throw new MediaProcessingError(readiness.videoStatus, readiness.reason);
  const node = await graph.pages.videoPost(videoId, token);
  if (node.postId !== undefined) return { applied: true, postId: node.postId };
  return { applied: status.publishing.status !== undefined && status.publishing.status !== 'not_started' };
}

async function uploadedVideoPost(run: Run, format: 'reel' | 'story'): Promise<StepOutcome> {
  const { graph, token, now } = run.context;
  const item = firstMedia(run.post, 'video');
  let videoId = run.progress.videoId;
  if (videoId === undefined) {
    // Not marked: a session lost with its answer is an invisible orphan, never a post.
    const session = format === 'reel' ? await graph.pages.startReel(run.pageId, token) : await graph.pages.startVideoStory(run.pageId, token);
    videoId = session.videoId;
    await save(run, { videoId });
  }
  if (run.progress.uploaded !== true) await uploadVideo(run, videoId, item.url);
  if (run.progress.processingSince === undefined) {
    const earlier = sentMark(run, 'finish') === undefined ? { applied: false } : await finishApplied(run, videoId);
    if (!earlier.applied) {
      await markSent(run, 'finish');
      if (format === 'reel') {
        await graph.pages.finishReel(run.pageId, token, { videoId, description: run.post.text });
        await save(run, { processingSince: now().toISOString(), sent: undefined });
      } else {
        const story = await graph.pages.finishVideoStory(run.pageId, token, videoId);
        if (!story.success) {
          const readiness = videoReadiness(await graph.pages.videoStatus(videoId, token));
          if (readiness.state === 'failed') throw new MediaProcessingError(readiness.videoStatus, readiness.reason);
          throw new MediaProcessingError('error', 'Facebook did not accept the video story.');
        }
        await save(run, { processingSince: now().toISOString(), sent: undefined, ...(story.postId === undefined ? {} : { postId: story.postId }) });
      }
    } else {
      await save(run, { processingSince: now().toISOString(), sent: undefined, ...(earlier.postId === undefined ? {} : { postId: earlier.postId }) });
    }
  }
  return awaitVideo(run, format);
}

async function photoStory(run: Run): Promise<StepOutcome> {
  const { graph, token } = run.context;
  const item = firstMedia(run.post, 'image');
  if (run.progress.postId === undefined) {
    const [photoId] = await uploadPhotos(run, [item]);
    if (photoId === undefined) throw new FlowInvariantError('no story photo after the upload');
    const existing = sentMark(run, 'photo-story') === undefined ? undefined : await graph.pages.photoStoryPost(photoId, token);
    if (existing !== undefined) {
      await save(run, { postId: existing, sent: undefined });
    } else {
      await markSent(run, 'photo-story');
      const story = await graph.pages.createPhotoStory(run.pageId, token, photoId);
      // Meta answers the story's post id; the photo's page_story_id is the fallback for an answer without it.
      const postId = story.postId ?? (await graph.pages.photoStoryPost(photoId, token));
      if (!story.success || postId === undefined) throw new MediaProcessingError('error', 'Facebook did not accept the photo story.');
      await save(run, { postId, sent: undefined });
    }
  }
  return finishFeedPost(run, 'story');
}

async function story(run: Run): Promise<StepOutcome> {
  return firstMedia(run.post).mediaType === 'video' ? uploadedVideoPost(run, 'story') : photoStory(run);
}

/** The Facebook Page flow: one `step` per engine pass, resumable from publish_state at any point. */
export function createFacebookFlow(): PlatformFlow {
  return {
    async step(post: PostToPublish, progress: PublishProgress, context: StepContext): Promise<StepOutcome> {
      const format = post.facebookFormat;
      if (format === null) throw new FlowInvariantError(`post ${post.id} has no Facebook format`);
      const pageId = context.account.pageId ?? context.account.platformAccountId;
      const run: Run = { post, context, pageId, progress: FacebookProgress.parse(progress) };
      switch (format) {
        case 'text':
        case 'link':
          return feedPost(run, format);
        case 'photo':
          return photoPost(run);
        case 'multi-photo':
          return multiPhotoPost(run);
        case 'video':
          return videoPost(run);
        case 'reel':
          return uploadedVideoPost(run, 'reel');
        case 'story':
          return story(run);
      }
    },

    async remove(platformPostId: string, context: StepContext): Promise<boolean> {
      try {
        return await context.graph.pages.deletePost(platformPostId, context.token);
      } catch (error) {
        // 100/33 is Meta's "does not exist": deleted already (an earlier delete whose answer was lost, or by hand).
        if (error instanceof GraphApiError && error.code === 100 && error.subcode === 33) return true;
        throw error;
      }
    },
  };
}
