import { describe, expect, it } from 'vitest';
import { GraphApiError, classifyGraphError } from '../src/index.ts';
import { BAKERY_PAGE, advance, control, useSandbox } from './sandbox.ts';

type SandboxPost = { id: string; kind: string; message?: string; link?: string; photoIds: string[]; videoId?: string; published: boolean; deleted: boolean };

const suite = useSandbox({ scopes: ['pages_show_list', 'pages_read_engagement', 'pages_manage_posts'], settings: { videoProcessingMs: 5_000 } });

const image = (query = 'w=1080&h=1080') => `${suite.baseUrl}/_sandbox/media/sample.jpg?${query}`;
const video = (seconds = 10) => `${suite.baseUrl}/_sandbox/media/sample.mp4?seconds=${seconds}`;
const pagePosts = async () => (await control<{ posts: SandboxPost[] }>(suite.baseUrl, 'GET', `/pages/${BAKERY_PAGE}/posts`)).posts;

describe('Facebook Page publishing helpers against the sandbox', () => {
  it('posts text and links to the feed, reads them back in a time window, and deletes one', async () => {
    const since = new Date();
    const text = await suite.graph.pages.createFeedPost(BAKERY_PAGE, suite.pageToken, { message: 'Open at 8' });
    const link = await suite.graph.pages.createFeedPost(BAKERY_PAGE, suite.pageToken, { message: 'Our menu', link: 'https://example.com/menu' });
    expect(await pagePosts()).toEqual([
      expect.objectContaining({ id: text.id, kind: 'status', message: 'Open at 8' }),
      expect.objectContaining({ id: link.id, message: 'Our menu', link: 'https://example.com/menu' }),
    ]);

    const recent = await suite.graph.pages.recentPosts(BAKERY_PAGE, suite.pageToken, { since, until: new Date(Date.now() + 1_000) });
    expect(recent.map((post) => post.id).sort()).toEqual([text.id, link.id].sort());
    expect(recent.find((post) => post.id === text.id)).toMatchObject({ message: 'Open at 8', mediaIds: [] });
    expect(recent[0]?.createdTime?.getTime()).toBeGreaterThanOrEqual(Math.floor(since.getTime() / 1000) * 1000);
    // A window that ends before the posts existed finds nothing.
    expect(await suite.graph.pages.recentPosts(BAKERY_PAGE, suite.pageToken, { since: new Date(since.getTime() - 3_600_000), until: new Date(since.getTime() - 60_000) })).toEqual([]);

    expect(await suite.graph.pages.permalink(text.id, suite.pageToken)).toMatch(/^https:\/\/www\.facebook\.com\/1001000000000201\/posts\/\d+$/);
    expect(await suite.graph.pages.deletePost(text.id, suite.pageToken)).toBe(true);
    expect((await pagePosts()).find((post) => post.id === text.id)).toMatchObject({ deleted: true });
  });

  it('follows the cursor through more posts than one page holds', async () => {
    const since = new Date();
    for (let index = 0; index < 5; index += 1) await suite.graph.pages.createFeedPost(BAKERY_PAGE, suite.pageToken, { message: `post ${index}` });
    const recent = await suite.graph.pages.recentPosts(BAKERY_PAGE, suite.pageToken, { since, until: new Date(Date.now() + 1_000), pageSize: 2 });
    expect(recent.map((post) => post.message).sort()).toEqual(['post 0', 'post 1', 'post 2', 'post 3', 'post 4']);
  });

  it('publishes a photo, and a multi-photo post from unpublished uploads whose ids the post carries', async () => {
    const photo = await suite.graph.pages.createPhoto(BAKERY_PAGE, suite.pageToken, { url: image(), caption: 'Croissants' });
    expect(photo.postId).toMatch(/^1001000000000201_\d+$/);

    const first = await suite.graph.pages.uploadUnpublishedPhoto(BAKERY_PAGE, suite.pageToken, image());
    const second = await suite.graph.pages.uploadUnpublishedPhoto(BAKERY_PAGE, suite.pageToken, image('w=1080&h=1350'));
    // Unpublished photos are not posts.
    expect(await pagePosts()).toHaveLength(1);
    const album = await suite.graph.pages.createFeedPost(BAKERY_PAGE, suite.pageToken, { message: 'Two loaves', attachedMedia: [first.id, second.id] });
    expect((await pagePosts()).find((post) => post.id === album.id)).toMatchObject({ kind: 'photo', message: 'Two loaves', photoIds: [first.id, second.id] });

    const recent = await suite.graph.pages.recentPosts(BAKERY_PAGE, suite.pageToken, { since: new Date(Date.now() - 60_000), until: new Date(Date.now() + 1_000) });
    expect(recent.find((post) => post.id === album.id)?.mediaIds).toEqual([first.id, second.id]);
    expect(recent.find((post) => post.id === photo.postId)).toMatchObject({ message: 'Croissants', statusType: 'added_photos', mediaIds: [photo.id] });
  });

  it('refuses a photo Meta cannot read as bad media', async () => {
    const refused = await suite.graph.pages.createPhoto(BAKERY_PAGE, suite.pageToken, { url: `${suite.baseUrl}/_sandbox/media/status/404` }).catch((caught: unknown) => caught);
    expect(classifyGraphError(refused)).toMatchObject({ class: 'bad-media' });
  });

  it('uploads a video through the graph-video host and reports its processing', async () => {
    const created = await suite.graph.pages.createVideo(BAKERY_PAGE, suite.pageToken, { fileUrl: video(), title: 'Bake', description: 'How we bake' });
    expect(await suite.graph.pages.videoStatus(created.id, suite.pageToken)).toMatchObject({ id: created.id, videoStatus: 'processing', processing: { status: 'in_progress' } });
    await advance(suite.baseUrl, 5_000);
    expect(await suite.graph.pages.videoStatus(created.id, suite.pageToken)).toMatchObject({ videoStatus: 'ready', publishing: { status: 'complete' } });
    const node = await suite.graph.pages.videoPost(created.id, suite.pageToken);
    expect(node.permalinkUrl).toBe(`https://www.facebook.com/${BAKERY_PAGE}/videos/${created.id}`);
    expect((await pagePosts()).find((post) => post.id === node.postId)).toMatchObject({ kind: 'video', message: 'How we bake', videoId: created.id });
  });

  it('publishes a reel in three phases (start, rupload from a URL, finish) and watches it become ready', async () => {
    const session = await suite.graph.pages.startReel(BAKERY_PAGE, suite.pageToken);
    expect((await suite.graph.pages.videoStatus(session.videoId, suite.pageToken)).videoStatus).toBe('uploading');
    await suite.graph.pages.uploadVideoFromUrl(session.videoId, suite.pageToken, video(20));
    expect((await suite.graph.pages.videoStatus(session.videoId, suite.pageToken)).videoStatus).toBe('upload_complete');
    expect(await suite.graph.pages.finishReel(BAKERY_PAGE, suite.pageToken, { videoId: session.videoId, description: 'Twenty seconds of dough' })).toEqual({ success: true });
    expect(await suite.graph.pages.videoStatus(session.videoId, suite.pageToken)).toMatchObject({ videoStatus: 'processing', publishing: { status: 'in_progress', publishStatus: 'published' } });
    await advance(suite.baseUrl, 5_000);
    expect((await suite.graph.pages.videoStatus(session.videoId, suite.pageToken)).videoStatus).toBe('ready');
    expect((await suite.graph.pages.videoPost(session.videoId, suite.pageToken)).permalinkUrl).toBe(`https://www.facebook.com/reel/${session.videoId}`);
    expect((await pagePosts()).filter((post) => post.kind === 'reel')).toEqual([expect.objectContaining({ message: 'Twenty seconds of dough', videoId: session.videoId, published: true })]);
  });

  it('reports a refused upload as upload_failed with its reason', async () => {
    const session = await suite.graph.pages.startReel(BAKERY_PAGE, suite.pageToken);
    const refused = await suite.graph.pages.uploadVideoFromUrl(session.videoId, suite.pageToken, image()).catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(GraphApiError);
    expect(refused).toMatchObject({ source: 'rupload' });
    expect(await suite.graph.pages.videoStatus(session.videoId, suite.pageToken)).toMatchObject({ videoStatus: 'upload_failed', uploading: { status: 'error', errorMessage: expect.stringContaining('Unsupported video format') } });
  });

  it('publishes photo and video stories, and finds a photo story again from its photo', async () => {
    const photo = await suite.graph.pages.uploadUnpublishedPhoto(BAKERY_PAGE, suite.pageToken, image('w=1080&h=1920'));
    expect(await suite.graph.pages.photoStoryPost(photo.id, suite.pageToken)).toBeUndefined();
    const story = await suite.graph.pages.createPhotoStory(BAKERY_PAGE, suite.pageToken, photo.id);
    expect(story.success).toBe(true);
    expect(await suite.graph.pages.photoStoryPost(photo.id, suite.pageToken)).toBe(story.postId);

    const session = await suite.graph.pages.startVideoStory(BAKERY_PAGE, suite.pageToken);
    await suite.graph.pages.uploadVideoFromUrl(session.videoId, suite.pageToken, video(15));
    const videoStory = await suite.graph.pages.finishVideoStory(BAKERY_PAGE, suite.pageToken, session.videoId);
    expect(videoStory).toEqual({ success: true, postId: expect.stringMatching(/^1001000000000201_\d+$/) });
    expect((await suite.graph.pages.videoPost(session.videoId, suite.pageToken)).postId).toBe(videoStory.postId);
    expect((await pagePosts()).filter((post) => post.kind === 'story').map((post) => post.id)).toEqual([story.postId, videoStory.postId]);
  });
});
