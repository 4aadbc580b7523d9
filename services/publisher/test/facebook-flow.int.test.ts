import { randomUUID } from 'node:crypto';
import { loadConfig } from '@postwire/config';
import type { FacebookFormat, MediaItem, PostType } from '@postwire/contracts';
import { GraphApiError, classifyGraphError, createGraphClient, graphEnvironment, type GraphClient } from '@postwire/graph';
import { createLogCapture, sandboxControl, startMetaSandbox } from '@postwire/testing';
import fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MediaProcessingError, createFacebookFlow } from '../src/publishing/facebook-flow.ts';
import type { PostToPublish, PublishProgress, StepContext, StepOutcome } from '../src/publishing/flow.ts';

// The sandbox's boot seed (infra/meta-sandbox README): Alice manages the Bakery Page.
const ALICE = '1000900000000101';
const BAKERY_PAGE = '1001000000000201';
const PROCESSING_MS = 3_000;

type SandboxPost = { id: string; kind: string; message?: string; link?: string; photoIds: string[]; videoId?: string; published: boolean; deleted: boolean };

let sandbox: Awaited<ReturnType<typeof startMetaSandbox>>;
let graph: GraphClient;
let token: string;
let logs: ReturnType<typeof createLogCapture>;
let logHost: FastifyInstance;
const flow = createFacebookFlow();

beforeAll(async () => {
  sandbox = await startMetaSandbox();
  graph = createGraphClient(loadConfig(graphEnvironment, { META_SANDBOX_URL: sandbox.baseUrl, GRAPH_RETRY_BASE_DELAY_MS: '1', GRAPH_TIMEOUT_MS: '5000' }));
  logs = createLogCapture();
  logHost = fastify({ logger: { level: 'debug', stream: logs.stream } });
});
afterAll(async () => {
  await logHost.close();
  await sandbox.close();
});
beforeEach(async () => {
  await sandboxControl(sandbox.baseUrl, 'POST', '/reset', {});
  await sandboxControl(sandbox.baseUrl, 'PATCH', '/settings', { videoProcessingMs: PROCESSING_MS });
  const minted = await sandboxControl<{ access_token: string }>(sandbox.baseUrl, 'POST', '/tokens', {
    kind: 'facebook-page',
    subjectId: ALICE,
    pageId: BAKERY_PAGE,
    scopes: ['pages_show_list', 'pages_read_engagement', 'pages_manage_posts'],
  });
  token = minted.access_token;
});

const image = (size = 'w=1080&h=1080') => `${sandbox.baseUrl}/_sandbox/media/sample.jpg?${size}`;
const video = (seconds = 10) => `${sandbox.baseUrl}/_sandbox/media/sample.mp4?seconds=${seconds}`;
const media = (urls: readonly string[], type: 'image' | 'video'): MediaItem[] => urls.map((url, position) => ({ position, mediaType: type, url }));
const pagePosts = async () => (await sandboxControl<{ posts: SandboxPost[] }>(sandbox.baseUrl, 'GET', `/pages/${BAKERY_PAGE}/posts`)).posts;
const advanceSandbox = (ms: number) => sandboxControl(sandbox.baseUrl, 'POST', '/clock', { advanceMs: ms });
const addFault = (fault: Record<string, unknown>) => sandboxControl<{ id: number }>(sandbox.baseUrl, 'POST', '/faults', fault);
/** A fault that only counts: how many requests of an operation reached the sandbox. */
async function countCalls(operation: string): Promise<() => Promise<number>> {
  const { id } = await addFault({ operation, kind: 'latency', latencyMs: 0 });
  return async () => (await sandboxControl<{ faults: { id: number; hits: number }[] }>(sandbox.baseUrl, 'GET', '/faults')).faults.find((fault) => fault.id === id)?.hits ?? -1;
}

const POST_TYPES: Record<FacebookFormat, PostType> = { text: 'feed', link: 'feed', photo: 'feed', 'multi-photo': 'carousel', video: 'feed', reel: 'reel', story: 'story' };

function facebookPost(format: FacebookFormat, overrides: Partial<PostToPublish> = {}): PostToPublish {
  return {
    id: randomUUID(),
    organisationId: randomUUID(),
    socialAccountId: randomUUID(),
    platform: 'facebook',
    postType: POST_TYPES[format],
    facebookFormat: format,
    text: `${format} from Postwire ${randomUUID().slice(0, 8)} #bakery`,
    media: [],
    locationId: null,
    shareToFeed: true,
    linkUrl: null,
    firstComment: null,
    collaborators: [],
    trialGraduation: null,
    scheduledFor: null,
    publishingSince: new Date(),
    ...overrides,
  };
}

/**
 * One publisher's view of a post: progress persisted through `save` (what publish_state would hold), steps run
 * like the engine runs them. `beforeSave` can fail a save to stand for a publisher killed at that point.
 */
function publisher(options: { beforeSave?: (progress: PublishProgress) => Promise<void>; clockOffsetMs?: number } = {}) {
  let stored: PublishProgress = {};
  const saves: PublishProgress[] = [];
  const context: StepContext = {
    graph,
    token,
    account: { socialAccountId: randomUUID(), platform: 'facebook', accountType: 'page', platformAccountId: BAKERY_PAGE, pageId: BAKERY_PAGE, username: null },
    now: () => new Date(Date.now() + (options.clockOffsetMs ?? 0)),
    logger: logHost.log,
    async save(progress) {
      await options.beforeSave?.(progress);
      stored = structuredClone(progress);
      saves.push(stored);
    },
  };
  return {
    context,
    saves,
    get stored() {
      return stored;
    },
    /** One engine pass; the engine persists the outcome's progress. */
    async step(post: PostToPublish): Promise<StepOutcome> {
      const outcome = await flow.step(post, stored, context);
      stored = structuredClone(outcome.progress);
      return outcome;
    },
    /** Passes until published, letting the sandbox clock run through each processing wait. */
    async publish(post: PostToPublish): Promise<Extract<StepOutcome, { kind: 'published' }>> {
      for (let pass = 0; pass < 20; pass += 1) {
        const outcome = await this.step(post);
        if (outcome.kind === 'published') return outcome;
        await advanceSandbox(outcome.checkAfterMs);
      }
      throw new Error('not published after 20 passes');
    },
  };
}

describe('Facebook Page flow: every format ends as one post on the Page', () => {
  it('publishes a text post with its message and permalink', async () => {
    const post = facebookPost('text');
    const outcome = await publisher().publish(post);
    expect(outcome).toMatchObject({ kind: 'published', mediaCount: 0, platformUrl: expect.stringMatching(/^https:\/\/www\.facebook\.com\/1001000000000201\/posts\/\d+$/) });
    expect(await pagePosts()).toEqual([expect.objectContaining({ id: outcome.platformPostId, kind: 'status', message: post.text, published: true })]);
  });

  it('publishes a link post with the link', async () => {
    const post = facebookPost('link', { linkUrl: 'https://example.com/menu' });
    const outcome = await publisher().publish(post);
    expect(await pagePosts()).toEqual([expect.objectContaining({ id: outcome.platformPostId, message: post.text, link: 'https://example.com/menu' })]);
  });

  it('publishes a photo with its caption', async () => {
    const post = facebookPost('photo', { media: media([image()], 'image') });
    const outcome = await publisher().publish(post);
    expect(outcome.mediaCount).toBe(1);
    expect(await pagePosts()).toEqual([expect.objectContaining({ id: outcome.platformPostId, kind: 'photo', message: post.text, photoIds: [expect.any(String)] })]);
  });

  it('publishes a multi-photo post from unpublished photos, in media order, their ids saved first', async () => {
    const post = facebookPost('multi-photo', { media: media([image(), image('w=1080&h=1350'), image('w=1200&h=1200')], 'image') });
    const run = publisher();
    const outcome = await run.publish(post);
    const photoIds = run.stored.photoIds as string[];
    expect(photoIds).toHaveLength(3);
    // Each photo id was saved before the next call, and all of them before the feed post was sent.
    expect(run.saves.map((progress) => (progress.photoIds as string[] | undefined)?.length ?? 0).slice(0, 3)).toEqual([1, 2, 3]);
    expect(run.saves[3]).toMatchObject({ photoIds, sent: { write: 'feed' } });
    expect(outcome).toMatchObject({ mediaCount: 3, platformUrl: expect.stringContaining('/posts/') });
    expect(await pagePosts()).toEqual([expect.objectContaining({ id: outcome.platformPostId, kind: 'photo', message: post.text, photoIds })]);
  });

  it('publishes a video through graph-video and waits for processing before calling it published', async () => {
    const post = facebookPost('video', { media: media([video()], 'video') });
    const run = publisher();
    const first = await run.step(post);
    expect(first).toMatchObject({ kind: 'wait', reason: 'processing', checkAfterMs: 2_000 });
    await advanceSandbox(PROCESSING_MS);
    const outcome = await run.step(post);
    const videoId = run.stored.videoId as string;
    expect(outcome).toMatchObject({ kind: 'published', mediaCount: 1, platformUrl: `https://www.facebook.com/${BAKERY_PAGE}/videos/${videoId}` });
    expect(await pagePosts()).toEqual([expect.objectContaining({ id: outcome.kind === 'published' ? outcome.platformPostId : '', kind: 'video', message: post.text, videoId })]);
  });

  it('publishes a reel in upload phases, waits while it processes (no worker held), then finishes', async () => {
    const post = facebookPost('reel', { media: media([video(20)], 'video') });
    const run = publisher();
    const first = await run.step(post);
    expect(first).toMatchObject({ kind: 'wait', reason: 'processing', checkAfterMs: 2_000 });
    expect(run.stored).toMatchObject({ videoId: expect.any(String), uploaded: true, processingSince: expect.any(String) });
    expect(run.stored.sent).toBeUndefined();
    // Still processing: a second look waits longer, and the reel is not live yet.
    await advanceSandbox(1_000);
    expect(await run.step(post)).toMatchObject({ kind: 'wait', checkAfterMs: 4_000 });
    expect((await graph.pages.recentPosts(BAKERY_PAGE, token, { since: new Date(Date.now() - 60_000), until: new Date(Date.now() + 60_000) })).map((item) => item.id)).toEqual([]);
    await advanceSandbox(PROCESSING_MS);
    const outcome = await run.step(post);
    const videoId = run.stored.videoId as string;
    expect(outcome).toMatchObject({ kind: 'published', mediaCount: 1, platformUrl: `https://www.facebook.com/reel/${videoId}` });
    expect(await pagePosts()).toEqual([expect.objectContaining({ kind: 'reel', message: post.text, videoId, published: true })]);
  });

  it('publishes a photo story', async () => {
    const post = facebookPost('story', { text: undefined, media: media([image('w=1080&h=1920')], 'image') });
    const outcome = await publisher().publish(post);
    expect(outcome).toMatchObject({ mediaCount: 1, platformUrl: expect.stringContaining('/stories/') });
    expect(await pagePosts()).toEqual([expect.objectContaining({ id: outcome.platformPostId, kind: 'story', photoIds: [expect.any(String)] })]);
  });

  it('publishes a video story after it processes', async () => {
    const post = facebookPost('story', { text: undefined, media: media([video(15)], 'video') });
    const run = publisher();
    expect(await run.step(post)).toMatchObject({ kind: 'wait', reason: 'processing' });
    await advanceSandbox(PROCESSING_MS);
    const outcome = await run.step(post);
    expect(outcome).toMatchObject({ kind: 'published', platformPostId: run.stored.postId, platformUrl: expect.stringContaining('/stories/') });
    expect(await pagePosts()).toEqual([expect.objectContaining({ id: run.stored.postId, kind: 'story', videoId: run.stored.videoId })]);
  });

  it('deletes a published post, and counts one already gone as deleted', async () => {
    const run = publisher();
    const outcome = await run.publish(facebookPost('text'));
    expect(await flow.remove(outcome.platformPostId, run.context)).toBe(true);
    expect(await pagePosts()).toEqual([expect.objectContaining({ id: outcome.platformPostId, deleted: true })]);
    expect(await flow.remove(outcome.platformPostId, run.context)).toBe(true);
  });

  it('never logs the Page token', () => {
    expect(logs.lines.join('')).not.toContain(token);
  });
});

describe('Facebook Page flow: ambiguous outcomes end as exactly one post', () => {
  const cases: { format: FacebookFormat; operation: string; build: () => PostToPublish }[] = [
    { format: 'text', operation: 'pages.feed.create', build: () => facebookPost('text') },
    { format: 'photo', operation: 'pages.photos.create', build: () => facebookPost('photo', { media: media([image()], 'image') }) },
    { format: 'multi-photo', operation: 'pages.feed.create', build: () => facebookPost('multi-photo', { media: media([image(), image('w=1080&h=1350')], 'image') }) },
    { format: 'video', operation: 'pages.videos.create', build: () => facebookPost('video', { media: media([video()], 'video') }) },
  ];

  for (const { format, operation, build } of cases) {
    it(`${format}: Meta's code 2 (HTTP 500) on a created post, then a resumed step publishes nothing more`, async () => {
      await addFault({ operation, kind: 'error-after-apply', error: { preset: 'service-error' }, times: 1 });
      const post = build();
      const run = publisher();
      const failed = await run.publish(post).catch((caught: unknown) => caught);
      expect(failed).toBeInstanceOf(GraphApiError);
      expect(classifyGraphError(failed)).toMatchObject({ class: 'ambiguous', action: 'reconcile-then-retry' });
      expect(run.stored).toMatchObject({ sent: { write: expect.any(String) } });

      const outcome = await run.publish(post);
      const posts = await pagePosts();
      expect(posts).toHaveLength(1);
      expect(posts[0]).toMatchObject({ message: post.text, deleted: false });
      expect(outcome.platformPostId).toBe(posts[0]?.id);
    });

    it(`${format}: the connection reset after the write (drop-after-apply), then a resumed step publishes nothing more`, async () => {
      await addFault({ operation, kind: 'drop-after-apply', times: 1 });
      const post = build();
      const run = publisher();
      const failed = await run.publish(post).catch((caught: unknown) => caught);
      expect(classifyGraphError(failed).class).toBe('ambiguous');

      const outcome = await run.publish(post);
      const posts = await pagePosts();
      expect(posts).toHaveLength(1);
      expect(outcome.platformPostId).toBe(posts[0]?.id);
    });
  }

  it('reel: a finish answered with code 2 after it took effect is not sent again', async () => {
    const run = publisher({
      // The fault goes in once the finish is marked as sent: the start before it must go through untouched.
      beforeSave: async (progress) => {
        if ((progress.sent as { write?: string } | undefined)?.write === 'finish') await addFault({ operation: 'pages.video-reels', kind: 'error-after-apply', error: { preset: 'service-error' }, times: 1 });
      },
    });
    const post = facebookPost('reel', { media: media([video(20)], 'video') });
    expect(classifyGraphError(await run.step(post).catch((caught: unknown) => caught)).class).toBe('ambiguous');
    const resumed = publisher();
    await resumed.context.save(run.stored);
    // A second finish of the same video would be refused (100): publishing proves it was not sent.
    const outcome = await resumed.publish(post);
    const posts = await pagePosts();
    expect(posts).toEqual([expect.objectContaining({ kind: 'reel', message: post.text, videoId: run.stored.videoId })]);
    expect(outcome.platformUrl).toBe(`https://www.facebook.com/reel/${String(run.stored.videoId)}`);
  });

  const uploadPhases: { name: string; format: 'reel' | 'story'; operation: string; write: string; kind: string; seconds: number }[] = [
    { name: 'reel upload reset after Meta took the file', format: 'reel', operation: 'pages.video-upload', write: 'upload', kind: 'drop-after-apply', seconds: 20 },
    { name: 'video story finish answered with code 2 after it took effect', format: 'story', operation: 'pages.video-stories', write: 'finish', kind: 'error-after-apply', seconds: 15 },
    { name: 'video story finish reset after it took effect', format: 'story', operation: 'pages.video-stories', write: 'finish', kind: 'drop-after-apply', seconds: 15 },
  ];
  for (const { name, format, operation, write, kind, seconds } of uploadPhases) {
    it(`${name}: the resumed step reads the video's state and does not send it again`, async () => {
      const run = publisher({
        beforeSave: async (progress) => {
          if ((progress.sent as { write?: string } | undefined)?.write === write) {
            await addFault({ operation, kind, ...(kind === 'error-after-apply' ? { error: { preset: 'service-error' } } : {}), times: 1 });
          }
        },
      });
      const post = facebookPost(format, { media: media([video(seconds)], 'video'), ...(format === 'story' ? { text: undefined } : {}) });
      expect(classifyGraphError(await run.step(post).catch((caught: unknown) => caught)).class).toBe('ambiguous');
      expect(run.stored).toMatchObject({ sent: { write } });
      const resumed = publisher();
      await resumed.context.save(run.stored);
      // A second upload or finish of the same video would be refused: publishing proves it was not sent.
      const outcome = await resumed.publish(post);
      const posts = await pagePosts();
      expect(posts).toEqual([expect.objectContaining({ kind: format, videoId: run.stored.videoId, published: true })]);
      expect(outcome.platformPostId).toBe(posts[0]?.id);
    });
  }

  it('photo story: a story answered with code 2 after it was created is found from its photo', async () => {
    await addFault({ operation: 'pages.photo-stories', kind: 'error-after-apply', error: { preset: 'service-error' }, times: 1 });
    const post = facebookPost('story', { text: undefined, media: media([image('w=1080&h=1920')], 'image') });
    const run = publisher();
    expect(classifyGraphError(await run.publish(post).catch((caught: unknown) => caught)).class).toBe('ambiguous');
    const outcome = await run.publish(post);
    const posts = await pagePosts();
    expect(posts).toEqual([expect.objectContaining({ id: outcome.platformPostId, kind: 'story' })]);
  });

  const neverApplied: { format: FacebookFormat; operation: string; settleMs: number; build: () => PostToPublish }[] = [
    { format: 'text', operation: 'pages.feed.create', settleMs: 10_000, build: () => facebookPost('text') },
    // A Page video may be listed only after processing: its read-back is trusted only after longer.
    { format: 'video', operation: 'pages.videos.create', settleMs: 300_000, build: () => facebookPost('video', { media: media([video()], 'video') }) },
  ];
  for (const { format, operation, settleMs, build } of neverApplied) {
    it(`${format}: a write that never took effect (reset before applying) is sent again once the read-back settles`, async () => {
      await addFault({ operation, kind: 'drop', times: 1 });
      const post = build();
      const run = publisher();
      expect(classifyGraphError(await run.step(post).catch((caught: unknown) => caught)).class).toBe('ambiguous');
      // Right after the lost answer, an empty read-back proves nothing yet: come back when it has settled.
      const early = await run.step(post);
      expect(early).toMatchObject({ kind: 'wait', reason: 'processing' });
      const waitMs = early.kind === 'wait' ? early.checkAfterMs : 0;
      expect(waitMs).toBeGreaterThan(settleMs - 5_000);
      expect(waitMs).toBeLessThanOrEqual(settleMs);
      expect(run.stored).toMatchObject({ sent: { write: format === 'video' ? 'video' : 'feed' } });
      expect(await pagePosts()).toEqual([]);

      const later = publisher({ clockOffsetMs: settleMs + 1_000 });
      await later.context.save(run.stored);
      const outcome = await later.publish(post);
      expect(await pagePosts()).toEqual([expect.objectContaining({ id: outcome.platformPostId, message: post.text })]);
    });
  }

  it('a publisher killed after the photo uploads resumes with the same photos: no second upload, one post', async () => {
    const uploads = await countCalls('pages.photos.create');
    const post = facebookPost('multi-photo', { media: media([image(), image('w=1080&h=1350')], 'image') });
    const killed = publisher({
      beforeSave: async (progress) => {
        if (progress.sent !== undefined) throw new Error('publisher killed before the feed post');
      },
    });
    await expect(killed.step(post)).rejects.toThrow('killed');
    expect(killed.stored.photoIds).toHaveLength(2);
    expect(await uploads()).toBe(2);
    expect(await pagePosts()).toEqual([]);

    const resumed = publisher();
    await resumed.context.save(killed.stored);
    const outcome = await resumed.publish(post);
    expect(await uploads()).toBe(2);
    expect(await pagePosts()).toEqual([expect.objectContaining({ id: outcome.platformPostId, photoIds: killed.stored.photoIds })]);
  });
});

describe('Facebook Page flow: media Meta cannot process', () => {
  it('fails a reel whose video Meta refuses (120 s, over the 90 s limit) with a MediaProcessingError', async () => {
    const post = facebookPost('reel', { media: media([video(120)], 'video') });
    const run = publisher();
    const failed = await run.publish(post).catch((caught: unknown) => caught);
    expect(failed).toBeInstanceOf(MediaProcessingError);
    expect(failed).toMatchObject({ videoStatus: 'error', reason: expect.stringMatching(/\S/) });
    expect(await pagePosts()).toEqual([]);
  });

  it('fails a video story over 60 s with a MediaProcessingError', async () => {
    const post = facebookPost('story', { text: undefined, media: media([video(75)], 'video') });
    const failed = await publisher().publish(post).catch((caught: unknown) => caught);
    expect(failed).toBeInstanceOf(MediaProcessingError);
    expect(await pagePosts()).toEqual([]);
  });

  it('fails a reel whose file is not a video: upload_failed, with the reason', async () => {
    const post = facebookPost('reel', { media: [{ position: 0, mediaType: 'video', url: image() }] });
    const failed = await publisher().publish(post).catch((caught: unknown) => caught);
    expect(failed).toBeInstanceOf(MediaProcessingError);
    expect(failed).toMatchObject({ videoStatus: 'upload_failed', reason: expect.stringContaining('Unsupported video format') });
  });
});
