import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BAKERY_IG, type World, buildPublisher, createWorld, eventually, sandboxControl, typesOf } from './engine-helpers.ts';

describe('publishing engine: every Instagram post type reaches the sandbox exactly once, with its extras', () => {
  let world: World;
  let publisher: FastifyInstance;

  beforeAll(async () => {
    world = await createWorld('engine_types');
    ({ app: publisher } = await buildPublisher(world.environment()));
    await world.observe();
  });
  afterAll(async () => {
    await publisher?.close();
    await world?.close();
  });

  it('publishes a feed image with caption, hashtags, alt text, user tags, location, collaborators and a first comment', async () => {
    const id = await world.insertPost({
      postType: 'feed',
      media: [{ mediaType: 'image', url: world.image(), altText: 'A loaf on a board', userTags: [{ username: 'postwire.studio', x: 0.5, y: 0.4 }] }],
      caption: 'Fresh bread',
      hashtags: ['bakery', 'sourdough'],
      locationId: '1001000000000201',
      collaborators: ['@postwire.studio'],
      firstComment: 'Open until 6 pm',
    });
    const row = await world.settled(id);
    expect(row.status).toBe('published');
    expect(row.platform_url).toMatch(/^https:\/\/www\.instagram\.com\/p\//);
    expect(row.first_comment_id).toMatch(/^\d+$/);

    const media = (await world.publishedMedia()).filter((item) => item.id === row.platform_post_id);
    expect(media).toHaveLength(1);
    expect(media[0]).toMatchObject({ containerId: row.container_id, mediaProductType: 'FEED', caption: 'Fresh bread\n\n#bakery #sourdough', collaborators: ['postwire.studio'] });
    expect(media[0]?.comments).toEqual(['Open until 6 pm']);

    await eventually(() => (typesOf(world.eventsOf(id)).includes('post.published') ? true : undefined), 'post.published');
    expect(typesOf(world.eventsOf(id))).toEqual(['post.publishing', 'post.published']);
    const publishedEvent = world.eventsOf(id).find((event) => event.headers.ce_type === 'post.published');
    expect(publishedEvent?.data).toMatchObject({ postId: id, platform: 'instagram', postType: 'feed', platformPostId: row.platform_post_id, platformUrl: row.platform_url, mediaCount: 1 });
  });

  it('publishes a reel with share_to_feed, a cover and trial params, and a single feed video as a reel shown in the feed', async () => {
    const reel = await world.insertPost({
      postType: 'reel',
      media: [{ mediaType: 'video', url: world.video(12), coverUrl: world.image('w=1080&h=1920'), userTags: [{ username: 'postwire.studio' }] }],
      caption: 'Behind the counter',
      shareToFeed: true,
      trialGraduation: 'SS_PERFORMANCE',
      collaborators: ['postwire.studio'],
    });
    const feedVideo = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'video', url: world.video(8), thumbOffsetMs: 1500 }], caption: 'Kneading' });
    const [reelRow, feedRow] = await Promise.all([world.settled(reel), world.settled(feedVideo)]);
    expect(reelRow.status).toBe('published');
    expect(feedRow.status).toBe('published');
    const media = await world.publishedMedia();
    expect(media.filter((item) => item.id === reelRow.platform_post_id)).toEqual([expect.objectContaining({ mediaType: 'VIDEO', mediaProductType: 'REELS', caption: 'Behind the counter' })]);
    expect(media.filter((item) => item.id === feedRow.platform_post_id)).toEqual([expect.objectContaining({ mediaProductType: 'REELS', caption: 'Kneading' })]);
    expect(reelRow.platform_url).toMatch(/\/reel\//);
  });

  it('publishes a story (image and video) with user tags and no caption', async () => {
    const imageStory = await world.insertPost({ postType: 'story', media: [{ mediaType: 'image', url: world.image('w=1080&h=1920'), userTags: [{ username: 'postwire.studio' }] }] });
    const videoStory = await world.insertPost({ postType: 'story', media: [{ mediaType: 'video', url: world.video(10) }] });
    const rows = await Promise.all([world.settled(imageStory), world.settled(videoStory)]);
    for (const row of rows) {
      expect(row.status, row.error_message ?? '').toBe('published');
      expect(row.platform_url).toMatch(/\/stories\//);
    }
    const media = await world.publishedMedia();
    expect(media.filter((item) => item.mediaProductType === 'STORY').map((item) => item.id).sort()).toEqual(rows.map((row) => row.platform_post_id).sort());
  });

  it('publishes a carousel of images and a video: children first, then the parent with caption and collaborators', async () => {
    const id = await world.insertPost({
      postType: 'carousel',
      media: [
        { mediaType: 'image', url: world.image(), altText: 'Rye' },
        { mediaType: 'video', url: world.video(6) },
        { mediaType: 'image', url: world.image('w=1080&h=1080'), userTags: [{ username: 'postwire.studio', x: 0.1, y: 0.9 }] },
      ],
      caption: 'Three of our loaves',
      collaborators: ['postwire.studio'],
      firstComment: 'Which one is your favourite?',
    });
    const row = await world.settled(id);
    expect(row.status, row.error_message ?? '').toBe('published');
    const media = (await world.publishedMedia()).filter((item) => item.id === row.platform_post_id);
    expect(media).toHaveLength(1);
    expect(media[0]).toMatchObject({ mediaType: 'CAROUSEL_ALBUM', caption: 'Three of our loaves', collaborators: ['postwire.studio'], comments: ['Which one is your favourite?'] });
    expect(media[0]?.children).toHaveLength(3);
    const published = await eventually(() => world.eventsOf(id).find((event) => event.headers.ce_type === 'post.published'), 'post.published');
    expect(published.data.mediaCount).toBe(3);
  });

  it('runs Facebook Page posts through the same engine (the Page flow on main): a photo and a link post, once each', async () => {
    const page = await world.addAccount({ platform: 'facebook' });
    const photo = await world.insertPost({ postType: 'feed', facebookFormat: 'photo', media: [{ mediaType: 'image', url: world.image() }], caption: 'Page photo', socialAccountId: page.socialAccountId });
    const link = await world.insertPost({ postType: 'feed', facebookFormat: 'link', media: [], caption: 'Page link', linkUrl: 'https://example.com/bread', socialAccountId: page.socialAccountId });
    const rows = await Promise.all([world.settled(photo), world.settled(link)]);
    for (const row of rows) expect(row.status, row.error_message ?? '').toBe('published');
    const posts = (await sandboxControl<{ posts: { id: string; message?: string; deleted: boolean }[] }>(world.sandbox.baseUrl, 'GET', '/pages/1001000000000201/posts')).posts;
    expect(posts.filter((post) => post.message === 'Page photo')).toHaveLength(1);
    expect(posts.filter((post) => post.message === 'Page link')).toHaveLength(1);
  });

  it('counts a published post on its host video (posted_to_social, post_count) in the same transaction', async () => {
    const { rows } = await world.admin.query<{ id: string }>(
      `INSERT INTO public.social_media_videos (organisation_id) VALUES ($1) RETURNING id`,
      [world.organisationId],
    );
    const contentId = rows[0]?.id ?? '';
    const id = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: 'From the host video', contentId });
    expect((await world.settled(id)).status).toBe('published');
    const video = await world.admin.query<{ posted_to_social: boolean; post_count: number }>(`SELECT posted_to_social, post_count FROM public.social_media_videos WHERE id = $1`, [contentId]);
    expect(video.rows[0]).toEqual({ posted_to_social: true, post_count: 1 });
    const media = await sandboxControl<{ media: unknown[] }>(world.sandbox.baseUrl, 'GET', `/instagram/${BAKERY_IG}/media`);
    expect(media.media.length).toBeGreaterThan(0);
  });
});
