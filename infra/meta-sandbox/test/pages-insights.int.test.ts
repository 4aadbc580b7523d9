import { beforeEach, describe, expect, it } from 'vitest';
import { ALICE, BAKERY_IG, BAKERY_PAGE, DAY, HOUR, advance, call, control, expectMetaError, id, mintToken, useListeningSandbox } from './helpers.ts';

const sandbox = useListeningSandbox((base) => ({ videoProcessingMs: 10_000, publicUrl: base }));
let pageToken: string;
let userToken: string;

beforeEach(async () => {
  userToken = await mintToken(sandbox.app, { kind: 'facebook-user', subjectId: ALICE });
  pageToken = await mintToken(sandbox.app, { kind: 'facebook-page', subjectId: ALICE, pageId: BAKERY_PAGE });
});

const media = (path: string) => `${sandbox.base}/_sandbox/media/${path}`;

describe('Facebook Page publishing', () => {
  it('posts text with a Page token and reads it back with permalink_url', async () => {
    const postId = id(await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/feed`, { message: 'Open today', access_token: pageToken }));
    expect(postId).toMatch(new RegExp(`^${BAKERY_PAGE}_\\d+$`));
    const post = await call(sandbox.app, 'GET', `/v25.0/${postId}`, { fields: 'id,message,permalink_url,created_time', access_token: pageToken });
    expect(post.body).toMatchObject({ id: postId, message: 'Open today', permalink_url: `https://www.facebook.com/${BAKERY_PAGE}/posts/${postId.split('_')[1]}` });
    const feed = await call(sandbox.app, 'GET', `/${BAKERY_PAGE}/feed`, { access_token: pageToken });
    expect((feed.body.data as { id: string }[]).map((item) => item.id)).toEqual([postId]);
    expectMetaError(await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/feed`, { message: 'as user', access_token: userToken }), 200);
  });

  it('publishes several photos: each uploaded with published=false, then one feed post with attached_media', async () => {
    const photos = [];
    for (let i = 0; i < 2; i += 1) {
      const photo = await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/photos`, { url: media('sample.jpg'), published: 'false', access_token: pageToken });
      expect(photo.body.post_id).toBeUndefined();
      photos.push(id(photo));
    }
    const post = await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/feed`, {
      message: 'Two loaves',
      'attached_media[0]': JSON.stringify({ media_fbid: photos[0] }),
      'attached_media[1]': JSON.stringify({ media_fbid: photos[1] }),
      access_token: pageToken,
    });
    const posts = (await control(sandbox.app, 'GET', `/pages/${BAKERY_PAGE}/posts`)).body.posts as unknown as { id: string; photoIds: string[]; kind: string }[];
    expect(posts).toEqual([expect.objectContaining({ id: id(post), kind: 'photo', photoIds: photos })]);
    const single = await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/photos`, { url: media('sample.jpg'), caption: 'one', access_token: pageToken });
    expect(single.body.post_id).toMatch(/_/);
    expectMetaError(await call(sandbox.app, 'POST', `/${BAKERY_PAGE}/photos`, { url: media('status/404'), access_token: pageToken }), 324);
  });

  it('validates scheduled posts: 10 minutes to 30 days ahead, published=false', async () => {
    const now = Math.floor(Date.now() / 1000);
    expectMetaError(await call(sandbox.app, 'POST', `/${BAKERY_PAGE}/feed`, { message: 'soon', published: 'false', scheduled_publish_time: now + 60, access_token: pageToken }), 100);
    const postId = id(await call(sandbox.app, 'POST', `/${BAKERY_PAGE}/feed`, { message: 'later', published: 'false', scheduled_publish_time: now + 3600, access_token: pageToken }));
    expect((await call(sandbox.app, 'GET', `/${BAKERY_PAGE}/feed`, { access_token: pageToken })).body.data).toEqual([]);
    await advance(sandbox.app, 2 * HOUR);
    expect(((await call(sandbox.app, 'GET', `/${BAKERY_PAGE}/feed`, { access_token: pageToken })).body.data as { id: string }[])[0]?.id).toBe(postId);
  });

  it('uploads a video by file_url and a reel through start / upload / finish with status polling', async () => {
    const video = await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/videos`, { file_url: media('sample.mp4?seconds=20'), title: 'Tour', description: 'Kitchen tour', access_token: pageToken });
    expect(video.body.id).toMatch(/^\d+$/);
    const start = await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/video_reels`, { upload_phase: 'start', access_token: pageToken });
    const videoId = String(start.body.video_id);
    expect(start.body.upload_url).toBe(`${sandbox.base}/video-upload/v25.0/${videoId}`);
    const upload = await fetch(String(start.body.upload_url), { method: 'POST', headers: { authorization: `OAuth ${pageToken}`, file_url: media('sample.mp4?seconds=30') } });
    expect(await upload.json()).toEqual({ success: true });
    const finish = await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/video_reels`, { upload_phase: 'finish', video_id: videoId, video_state: 'PUBLISHED', description: 'Reel!', access_token: pageToken });
    expect(finish.body).toEqual({ success: true });
    const processing = await call(sandbox.app, 'GET', `/v25.0/${videoId}`, { fields: 'status', access_token: pageToken });
    expect(processing.body.status).toMatchObject({ video_status: 'processing', processing_phase: { status: 'in_progress' } });
    await advance(sandbox.app, 10_000);
    const ready = await call(sandbox.app, 'GET', `/v25.0/${videoId}`, { fields: 'status,permalink_url', access_token: pageToken });
    expect(ready.body.status).toMatchObject({ video_status: 'ready', processing_phase: { status: 'complete' }, publishing_phase: { status: 'complete', publish_status: 'published' } });
    expect(ready.body.permalink_url).toBe(`https://www.facebook.com/reel/${videoId}`);
    // The current video and reels guides require no publish_video: pages_manage_posts is enough.
    const noVideoScope = await mintToken(sandbox.app, { kind: 'facebook-page', subjectId: ALICE, pageId: BAKERY_PAGE, scopes: ['pages_show_list', 'pages_manage_posts'] });
    expect((await call(sandbox.app, 'POST', `/${BAKERY_PAGE}/videos`, { file_url: media('sample.mp4'), access_token: noVideoScope })).body.id).toMatch(/^\d+$/);
    const noPostScope = await mintToken(sandbox.app, { kind: 'facebook-page', subjectId: ALICE, pageId: BAKERY_PAGE, scopes: ['pages_show_list'] });
    expectMetaError(await call(sandbox.app, 'POST', `/${BAKERY_PAGE}/video_reels`, { upload_phase: 'start', access_token: noPostScope }), 200);
  });

  it('publishes photo and video stories', async () => {
    const photoId = id(await call(sandbox.app, 'POST', `/${BAKERY_PAGE}/photos`, { url: media('sample.jpg?w=1080&h=1920'), published: 'false', access_token: pageToken }));
    const story = await call(sandbox.app, 'POST', `/${BAKERY_PAGE}/photo_stories`, { photo_id: photoId, access_token: pageToken });
    expect(story.body).toMatchObject({ success: true, post_id: expect.stringMatching(/_/) });
    const start = await call(sandbox.app, 'POST', `/${BAKERY_PAGE}/video_stories`, { upload_phase: 'start', access_token: pageToken });
    await fetch(String(start.body.upload_url), { method: 'POST', headers: { authorization: `OAuth ${pageToken}`, file_url: media('sample.mp4?seconds=15') } });
    const finish = await call(sandbox.app, 'POST', `/${BAKERY_PAGE}/video_stories`, { upload_phase: 'finish', video_id: String(start.body.video_id), access_token: pageToken });
    expect(finish.body).toMatchObject({ success: true, post_id: expect.stringMatching(/_/) });
  });

  it('deletes a post: {success:true}, then the post is gone', async () => {
    const postId = id(await call(sandbox.app, 'POST', `/${BAKERY_PAGE}/feed`, { message: 'oops', access_token: pageToken }));
    expect((await call(sandbox.app, 'DELETE', `/v25.0/${postId}`, { access_token: pageToken })).body).toEqual({ success: true });
    expectMetaError(await call(sandbox.app, 'GET', `/${postId}`, { access_token: pageToken }), 100, 33);
  });

  it('answers reaction, comment and share counts through field expansion, leaving shares out while zero', async () => {
    const postId = id(await call(sandbox.app, 'POST', `/${BAKERY_PAGE}/feed`, { message: 'count me', access_token: pageToken }));
    const fields = 'reactions.summary(total_count).limit(0),comments.summary(true).limit(0),shares';
    const fresh = await call(sandbox.app, 'GET', `/${postId}`, { fields, access_token: pageToken });
    expect(fresh.body).toMatchObject({ reactions: { data: [], summary: { total_count: 0 } }, comments: { data: [], summary: { total_count: 0 } } });
    expect(fresh.body.shares).toBeUndefined();
    await advance(sandbox.app, 2 * DAY);
    const later = await call(sandbox.app, 'GET', `/${postId}`, { fields, access_token: pageToken });
    expect((later.body.reactions as { summary: { total_count: number } }).summary.total_count).toBeGreaterThan(0);
    expect((later.body.shares as { count: number }).count).toBeGreaterThan(0);
  });
});

describe('insights', () => {
  async function publishImage(kind: 'feed' | 'story' | 'reel' = 'feed') {
    const params =
      kind === 'reel'
        ? { media_type: 'REELS', video_url: media('sample.mp4') }
        : kind === 'story'
          ? { media_type: 'STORIES', image_url: media('sample.jpg?w=1080&h=1920') }
          : { image_url: media('sample.jpg') };
    const containerId = id(await call(sandbox.app, 'POST', `/${BAKERY_IG}/media`, { ...params, access_token: userToken }));
    await advance(sandbox.app, 10_000);
    return id(await call(sandbox.app, 'POST', `/${BAKERY_IG}/media_publish`, { creation_id: containerId, access_token: userToken }));
  }
  const insights = (mediaId: string, metric: string) => call(sandbox.app, 'GET', `/v25.0/${mediaId}/insights`, { metric, access_token: userToken });

  it('answers the metrics of the reference table per media type, growing monotonically with sandbox time', async () => {
    const mediaId = await publishImage('feed');
    expect((await insights(mediaId, 'views,reach')).body).toEqual({ data: [] });
    // Data lags: still an empty list (not zeros) an hour later.
    await advance(sandbox.app, HOUR);
    expect((await insights(mediaId, 'views,reach')).body).toEqual({ data: [] });
    const seen: number[] = [];
    for (const hours of [2, 6, 24, 72]) {
      await advance(sandbox.app, hours * HOUR);
      const answer = await insights(mediaId, 'views,reach,likes,comments,saved,shares,total_interactions,follows,profile_visits');
      const data = answer.body.data as { name: string; period: string; values: { value: number }[]; title: string; id: string }[];
      expect(data.map((item) => item.name)).toEqual(['views', 'reach', 'likes', 'comments', 'saved', 'shares', 'total_interactions', 'follows', 'profile_visits']);
      expect(data[0]).toMatchObject({ period: 'lifetime', title: 'Views', id: `${mediaId}/insights/views/lifetime` });
      seen.push(data[0]?.values[0]?.value ?? -1);
    }
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBeGreaterThan(seen[0] ?? 0);
    const likes = ((await insights(mediaId, 'likes')).body.data as { values: { value: number }[] }[])[0]?.values[0]?.value;
    expect((await call(sandbox.app, 'GET', `/${mediaId}`, { fields: 'like_count', access_token: userToken })).body.like_count).toBe(likes);
  });

  it('fails the whole request with 100 for removed metrics and for metrics that do not apply', async () => {
    const feed = await publishImage('feed');
    for (const removed of ['impressions', 'plays', 'video_views', 'engagement']) {
      expectMetaError(await insights(feed, `reach,${removed}`), 100);
    }
    expectMetaError(await insights(feed, 'reach,ig_reels_avg_watch_time'), 100);
    const reel = await publishImage('reel');
    await advance(sandbox.app, 3 * HOUR);
    const reelData = (await insights(reel, 'ig_reels_avg_watch_time,ig_reels_video_view_total_time,reels_skip_rate')).body.data as unknown[];
    expect(reelData).toHaveLength(3);
    expectMetaError(await insights(reel, 'follows'), 100);
  });

  it('answers error 10 for a story with fewer than 5 viewers, then navigation and replies', async () => {
    const story = await publishImage('story');
    expectMetaError(await insights(story, 'reach'), 10);
    await advance(sandbox.app, 3 * HOUR);
    const data = (await insights(story, 'navigation,replies,reach')).body.data as { name: string }[];
    expect(data.map((item) => item.name)).toEqual(['navigation', 'replies', 'reach']);
    expectMetaError(await insights(story, 'likes'), 100);
  });

  it('answers Facebook post insights with the current metrics and refuses the replaced ones', async () => {
    const postId = id(await call(sandbox.app, 'POST', `/${BAKERY_PAGE}/feed`, { message: 'insight', access_token: pageToken }));
    await advance(sandbox.app, DAY);
    const answer = await call(sandbox.app, 'GET', `/v25.0/${postId}/insights`, { metric: 'post_media_view,post_total_media_view_unique,post_clicks,post_reactions_by_type_total', access_token: pageToken });
    const data = answer.body.data as { name: string; values: { value: unknown }[] }[];
    expect(data.map((item) => item.name)).toEqual(['post_media_view', 'post_total_media_view_unique', 'post_clicks', 'post_reactions_by_type_total']);
    expect(data[3]?.values[0]?.value).toMatchObject({ like: expect.any(Number), love: expect.any(Number) });
    expect(expectMetaError(await call(sandbox.app, 'GET', `/${postId}/insights`, { metric: 'post_impressions', access_token: pageToken }), 100).message).toMatch(/post_media_view/);
  });
});
