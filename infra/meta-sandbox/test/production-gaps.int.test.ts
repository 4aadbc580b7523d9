import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ALICE,
  APP_ID,
  APP_SECRET,
  BAKERY_IG,
  BAKERY_PAGE,
  DAY,
  FB_REDIRECT,
  HOUR,
  STUDIO_PAGE,
  advance,
  call,
  control,
  expectMetaError,
  id,
  mintToken,
  useListeningSandbox,
} from './helpers.ts';

/**
 * The behaviours a publisher meets in production that the first sandbox did not show (the "round two" list):
 * one describe per numbered item, each against the sandbox over HTTP.
 */
const sandbox = useListeningSandbox();
let userToken: string;
let pageToken: string;

beforeEach(async () => {
  userToken = await mintToken(sandbox.app, { kind: 'facebook-user', subjectId: ALICE });
  pageToken = await mintToken(sandbox.app, { kind: 'facebook-page', subjectId: ALICE, pageId: BAKERY_PAGE });
});

const jpg = (query = '') => `${sandbox.base}/_sandbox/media/sample.jpg${query}`;
const mp4 = (query = '') => `${sandbox.base}/_sandbox/media/sample.mp4${query}`;
const createContainer = (params: Record<string, string | number | boolean>, token = userToken) =>
  call(sandbox.app, 'POST', `/v25.0/${BAKERY_IG}/media`, { ...params, access_token: token });
const publish = (creationId: string, token = userToken) => call(sandbox.app, 'POST', `/v25.0/${BAKERY_IG}/media_publish`, { creation_id: creationId, access_token: token });
/** rupload's address for a Page video (the sandbox's own answer names the injected request's host). */
const upload = (videoId: string, fileUrl: string) =>
  fetch(`${sandbox.base}/video-upload/v25.0/${videoId}`, { method: 'POST', headers: { authorization: `OAuth ${pageToken}`, file_url: fileUrl } });
const publishedMedia = async () => (await control(sandbox.app, 'GET', `/instagram/${BAKERY_IG}/media`)).body.media as unknown as { id: string; containerId: string }[];
const pagePosts = async () => (await control(sandbox.app, 'GET', `/pages/${BAKERY_PAGE}/posts`)).body.posts as unknown as { id: string; message?: string }[];

async function readyImage(params: Record<string, string> = {}): Promise<string> {
  const containerId = id(await createContainer({ image_url: jpg(), ...params }));
  await advance(sandbox.app, 5_000);
  return containerId;
}

describe('1. errors after the write was applied', () => {
  it('creates the Page post and answers code 2 / HTTP 500 (error-after-apply)', async () => {
    await control(sandbox.app, 'POST', '/faults', { operation: 'pages.feed.create', kind: 'error-after-apply', error: { preset: 'service-error' }, times: 1 });
    const answer = await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/feed`, { message: 'applied anyway', access_token: pageToken });
    expect(answer.status).toBe(500);
    expect(expectMetaError(answer, 2).is_transient).toBe(true);
    expect((await pagePosts()).map((post) => post.message)).toEqual(['applied anyway']);
  });

  it('publishes the media and answers 4/2207051; the container reads PUBLISHED', async () => {
    const containerId = await readyImage();
    await control(sandbox.app, 'POST', '/faults', { operation: 'instagram.media-publish', kind: 'error-after-apply', error: { preset: 'action-blocked' }, times: 1 });
    const answer = await publish(containerId);
    expect(answer.status).toBe(400);
    expect(expectMetaError(answer, 4, 2207051).error_user_title).toBe('Action is blocked');
    expect((await publishedMedia()).map((media) => media.containerId)).toEqual([containerId]);
    expect((await call(sandbox.app, 'GET', `/v25.0/${containerId}`, { fields: 'status_code', access_token: userToken })).body.status_code).toBe('PUBLISHED');
  });

  it('keeps its own answer when the request failed by itself, and needs an error to answer', async () => {
    await control(sandbox.app, 'POST', '/faults', { operation: 'pages.feed.create', kind: 'error-after-apply', error: { preset: 'service-error' }, times: 1 });
    expectMetaError(await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/feed`, { message: 'as user', access_token: userToken }), 200);
    expect(await pagePosts()).toEqual([]);
    expect((await control(sandbox.app, 'POST', '/faults', { operation: 'pages.feed.create', kind: 'error-after-apply' })).status).toBe(400);
  });
});

describe('2. publishing quota', () => {
  it('defaults to 50 posts per 24 h; a carousel counts as one', async () => {
    expect((await control(sandbox.app, 'GET', '/settings')).body.publishQuota).toBe(50);
    const children = [id(await createContainer({ image_url: jpg(), is_carousel_item: true })), id(await createContainer({ image_url: jpg(), is_carousel_item: true }))];
    const carousel = id(await createContainer({ media_type: 'CAROUSEL', children: children.join(','), caption: 'two' }));
    const singles: string[] = [];
    for (let index = 0; index < 49; index += 1) singles.push(id(await createContainer({ image_url: jpg() })));
    const extra = id(await createContainer({ image_url: jpg() }));
    await advance(sandbox.app, 5_000);
    expect(id(await publish(carousel))).toMatch(/^\d+$/);
    for (const single of singles) expect((await publish(single)).status).toBe(200);
    expectMetaError(await publish(extra), 9, 2207042);
    const limit = await call(sandbox.app, 'GET', `/v25.0/${BAKERY_IG}/content_publishing_limit`, { fields: 'quota_usage,config', access_token: userToken });
    expect(limit.body.data).toEqual([{ quota_usage: 50, config: { quota_total: 50, quota_duration: 86_400 } }]);
  });
});

describe('3. image processing time', () => {
  it('keeps an image container IN_PROGRESS for the configured time; publishing earlier answers 9007/2207027', async () => {
    await control(sandbox.app, 'PATCH', '/settings', { imageProcessingMs: 30_000 });
    const containerId = id(await createContainer({ image_url: jpg() }));
    expect((await call(sandbox.app, 'GET', `/${containerId}`, { fields: 'status_code', access_token: userToken })).body.status_code).toBe('IN_PROGRESS');
    expectMetaError(await publish(containerId), 9007, 2207027);
    await advance(sandbox.app, 30_000);
    expect((await call(sandbox.app, 'GET', `/${containerId}`, { fields: 'status_code', access_token: userToken })).body.status_code).toBe('FINISHED');
    expect((await publish(containerId)).status).toBe(200);
  });

  it('can report an error in status while status_code is empty', async () => {
    const containerId = await readyImage();
    await control(sandbox.app, 'POST', `/containers/${containerId}/fail`, { subcode: 2207001, emptyStatusCode: true });
    const status = await call(sandbox.app, 'GET', `/${containerId}`, { fields: 'status_code,status', access_token: userToken });
    expect(status.body).toEqual({ status_code: '', status: 'Error: Media upload has failed with error code 2207001' });
    expectMetaError(await publish(containerId), -1, 2207001);
  });
});

describe('4. permissions per call', () => {
  it('needs instagram_basic, instagram_content_publish and pages_read_engagement to publish through Facebook Login', async () => {
    const all = ['instagram_basic', 'instagram_content_publish', 'pages_read_engagement'];
    for (const missing of all) {
      const token = await mintToken(sandbox.app, { kind: 'facebook-user', subjectId: ALICE, scopes: all.filter((scope) => scope !== missing) });
      expect(expectMetaError(await createContainer({ image_url: jpg() }, token), 10).message).toContain(missing);
    }
    const token = await mintToken(sandbox.app, { kind: 'facebook-user', subjectId: ALICE, scopes: all });
    expect((await createContainer({ image_url: jpg() }, token)).status).toBe(200);
  });

  it('publishes Page video and reels without publish_video', async () => {
    const token = await mintToken(sandbox.app, { kind: 'facebook-page', subjectId: ALICE, pageId: BAKERY_PAGE, scopes: ['pages_show_list', 'pages_manage_posts', 'pages_read_engagement'] });
    expect(id(await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/videos`, { file_url: mp4(), access_token: token }))).toMatch(/^\d+$/);
    expect((await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/video_reels`, { upload_phase: 'start', access_token: token })).body.video_id).toMatch(/^\d+$/);
  });
});

describe('5. container rules', () => {
  it('needs x and y on image user tags, not on stories', async () => {
    expectMetaError(await createContainer({ image_url: jpg(), user_tags: JSON.stringify([{ username: 'friend' }]) }), 100);
    expect((await createContainer({ image_url: jpg(), user_tags: JSON.stringify([{ username: 'friend', x: 0.5, y: 0.5 }]) })).status).toBe(200);
    expectMetaError(await createContainer({ image_url: jpg(), is_carousel_item: true, user_tags: JSON.stringify([{ username: 'friend' }]) }), 100);
    expect((await createContainer({ media_type: 'STORIES', image_url: jpg('?w=1080&h=1920'), user_tags: JSON.stringify([{ username: 'friend' }]) })).status).toBe(200);
  });

  it('takes alt_text on images only', async () => {
    expect((await createContainer({ image_url: jpg(), alt_text: 'A loaf' })).status).toBe(200);
    expect((await createContainer({ image_url: jpg(), is_carousel_item: true, alt_text: 'A loaf' })).status).toBe(200);
    expect(expectMetaError(await createContainer({ media_type: 'REELS', video_url: mp4(), alt_text: 'x' }), 100).message).toMatch(/alt_text/);
    expectMetaError(await createContainer({ media_type: 'STORIES', image_url: jpg('?w=1080&h=1920'), alt_text: 'x' }), 100);
    expectMetaError(await createContainer({ media_type: 'VIDEO', is_carousel_item: true, video_url: mp4(), alt_text: 'x' }), 100);
  });

  it('answers 100/2207018 for collaborators beyond 3, on stories, on carousel items, or with a leading @', async () => {
    expectMetaError(await createContainer({ image_url: jpg(), collaborators: 'a,b,c,d' }), 100, 2207018);
    expectMetaError(await createContainer({ image_url: jpg(), collaborators: '@alice' }), 100, 2207018);
    expectMetaError(await createContainer({ media_type: 'STORIES', image_url: jpg('?w=1080&h=1920'), collaborators: 'alice' }), 100, 2207018);
    expectMetaError(await createContainer({ image_url: jpg(), is_carousel_item: true, collaborators: 'alice' }), 100, 2207018);
    expect((await createContainer({ image_url: jpg(), collaborators: 'a,b,c' })).status).toBe(200);
  });

  it('takes as location_id only a Page with a location, never on carousel items', async () => {
    expect((await createContainer({ image_url: jpg(), location_id: BAKERY_PAGE })).status).toBe(200);
    expect(expectMetaError(await createContainer({ image_url: jpg(), location_id: STUDIO_PAGE }), 100).message).toMatch(/location/);
    expectMetaError(await createContainer({ image_url: jpg(), location_id: '999' }), 100);
    expectMetaError(await createContainer({ image_url: jpg(), is_carousel_item: true, location_id: BAKERY_PAGE }), 100);
  });

  it('caps containers per account per 24 h, a carousel of N using N+1', async () => {
    await control(sandbox.app, 'PATCH', '/settings', { containersPerDay: 4 });
    const children = [id(await createContainer({ image_url: jpg(), is_carousel_item: true })), id(await createContainer({ image_url: jpg(), is_carousel_item: true }))];
    id(await createContainer({ media_type: 'CAROUSEL', children: children.join(',') }));
    id(await createContainer({ image_url: jpg() }));
    expectMetaError(await createContainer({ image_url: jpg() }), 9);
    await advance(sandbox.app, DAY);
    expect((await createContainer({ image_url: jpg() })).status).toBe(200);
    expect((await control(sandbox.app, 'GET', '/settings')).body).toMatchObject({ containersPerDay: 4 });
    await control(sandbox.app, 'POST', '/reset', {});
    expect((await control(sandbox.app, 'GET', '/settings')).body).toMatchObject({ containersPerDay: 400, pageReelsPerDay: 30 });
  });

  it('caps Page reels per 24 h', async () => {
    await control(sandbox.app, 'PATCH', '/settings', { pageReelsPerDay: 2 });
    for (let index = 0; index < 2; index += 1) {
      expect((await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/video_reels`, { upload_phase: 'start', access_token: pageToken })).status).toBe(200);
    }
    expectMetaError(await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/video_reels`, { upload_phase: 'start', access_token: pageToken }), 9);
  });

  it('reaches -1/2207053 (make a new container) through a fault and through a failed container', async () => {
    const containerId = await readyImage();
    await control(sandbox.app, 'POST', '/faults', { operation: 'instagram.media-publish', kind: 'error', error: { preset: 'upload-failed' }, times: 1 });
    expect(expectMetaError(await publish(containerId), -1, 2207053).is_transient).toBe(false);
    await control(sandbox.app, 'POST', `/containers/${containerId}/fail`, { subcode: 2207053 });
    expectMetaError(await publish(containerId), -1, 2207053);
  });
});

describe('6. errors reachable through the control API', () => {
  const cases = [
    ['page-role-lost', 190, 492],
    ['object-not-ready', 100, 33],
    ['duplicate-post', 506, undefined],
    ['policy-block', 368, undefined],
    ['media-not-found', 100, 2207006],
    ['account-restricted', 25, 2207050],
    ['action-blocked', 4, 2207051],
  ] as const;
  for (const [preset, code, subcode] of cases) {
    it(`answers ${preset} as ${code}${subcode === undefined ? '' : `/${subcode}`}`, async () => {
      await control(sandbox.app, 'POST', '/faults', { path: `^/v25\\.0/${BAKERY_PAGE}$`, kind: 'error', error: { preset }, times: 1 });
      const answer = await call(sandbox.app, 'GET', `/v25.0/${BAKERY_PAGE}`, { access_token: pageToken });
      expect(answer.status).toBe(400);
      const error = expectMetaError(answer, code, subcode);
      if (subcode === undefined) expect(error.error_subcode).toBeUndefined();
      expect((await call(sandbox.app, 'GET', `/v25.0/${BAKERY_PAGE}`, { access_token: pageToken })).status).toBe(200);
    });
  }

  it('lets explicit fields override a preset', async () => {
    await control(sandbox.app, 'POST', '/faults', { operation: 'page.get', kind: 'error', error: { preset: 'object-not-ready', isTransient: true }, times: 1 });
    expect(expectMetaError(await call(sandbox.app, 'GET', `/v25.0/${BAKERY_PAGE}`, { access_token: pageToken }), 100, 33).is_transient).toBe(true);
  });
});

describe('7. reconciliation reads', () => {
  it('lists Instagram media with since/until and paging', async () => {
    const start = Math.floor(((await control(sandbox.app, 'GET', '/clock')).body.epochMs as number) / 1000);
    const published: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      published.push(id(await publish(await readyImage({ caption: `post ${index}` }))));
      await advance(sandbox.app, HOUR);
    }
    const list = (params: Record<string, string | number>) => call(sandbox.app, 'GET', `/v25.0/${BAKERY_IG}/media`, { fields: 'id,caption,timestamp', access_token: userToken, ...params });
    const middle = await list({ since: start + 3_600, until: start + 2 * 3_600 - 60 });
    expect((middle.body.data as { id: string }[]).map((media) => media.id)).toEqual([published[1]]);
    const first = await list({ limit: 2 });
    expect((first.body.data as { id: string }[]).map((media) => media.id)).toEqual([published[2], published[1]]);
    const next = (first.body.paging as { next?: string }).next;
    expect(next).toBeDefined();
    const nextUrl = new URL(next ?? '');
    expect(nextUrl.searchParams.get('limit')).toBe('2');
    const second = (await sandbox.app.inject({ url: `${nextUrl.pathname}${nextUrl.search}` })).json<{ data: { id: string }[]; paging: { next?: string } }>();
    expect(second.data.map((media) => media.id)).toEqual([published[0]]);
    expect(second.paging.next).toBeUndefined();
    expectMetaError(await list({ since: 'yesterday-ish' }), 100);
  });

  it('lists live stories with since/until', async () => {
    const storyContainer = id(await createContainer({ media_type: 'STORIES', image_url: jpg('?w=1080&h=1920') }));
    await advance(sandbox.app, 5_000);
    const story = id(await publish(storyContainer));
    const now = Math.floor(((await control(sandbox.app, 'GET', '/clock')).body.epochMs as number) / 1000);
    const stories = (params: Record<string, number>) => call(sandbox.app, 'GET', `/v25.0/${BAKERY_IG}/stories`, { access_token: userToken, ...params });
    expect(((await stories({ since: now - 60 })).body.data as { id: string }[]).map((item) => item.id)).toEqual([story]);
    expect((await stories({ until: now - 60 })).body.data).toEqual([]);
  });

  it("lists a Page's recent posts with since/until", async () => {
    const start = Math.floor(((await control(sandbox.app, 'GET', '/clock')).body.epochMs as number) / 1000);
    const early = id(await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/feed`, { message: 'early', access_token: pageToken }));
    await advance(sandbox.app, 2 * HOUR);
    const late = id(await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/feed`, { message: 'late', access_token: pageToken }));
    const posts = (params: Record<string, number>) => call(sandbox.app, 'GET', `/v25.0/${BAKERY_PAGE}/posts`, { fields: 'id,message', access_token: pageToken, ...params });
    expect((await posts({ since: start + 3_600 })).body.data).toEqual([{ id: late, message: 'late' }]);
    expect((await posts({ until: start + 3_600 })).body.data).toEqual([{ id: early, message: 'early' }]);
  });
});

describe('8. Facebook video and reel status', () => {
  const status = async (videoId: string) =>
    ((await call(sandbox.app, 'GET', `/v25.0/${videoId}`, { fields: 'status', access_token: pageToken })).body.status as { video_status: string }).video_status;

  it("walks a reel through Meta's video_status values: uploading, upload_complete, processing, ready", async () => {
    const start = await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/video_reels`, { upload_phase: 'start', access_token: pageToken });
    const videoId = String(start.body.video_id);
    expect(await status(videoId)).toBe('uploading');
    await upload(String(start.body.video_id), mp4('?seconds=20'));
    expect(await status(videoId)).toBe('upload_complete');
    await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/video_reels`, { upload_phase: 'finish', video_id: videoId, video_state: 'PUBLISHED', access_token: pageToken });
    expect(await status(videoId)).toBe('processing');
    await advance(sandbox.app, 10_000);
    expect(await status(videoId)).toBe('ready');
  });

  it('reports upload_failed, error and expired', async () => {
    const failed = await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/video_reels`, { upload_phase: 'start', access_token: pageToken });
    const refused = await upload(String(failed.body.video_id), jpg());
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(await status(String(failed.body.video_id))).toBe('upload_failed');

    const tooLong = await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/video_reels`, { upload_phase: 'start', access_token: pageToken });
    await upload(String(tooLong.body.video_id), mp4('?seconds=120'));
    await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/video_reels`, { upload_phase: 'finish', video_id: String(tooLong.body.video_id), video_state: 'PUBLISHED', access_token: pageToken });
    expect(await status(String(tooLong.body.video_id))).toBe('error');

    const abandoned = await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/video_reels`, { upload_phase: 'start', access_token: pageToken });
    await advance(sandbox.app, DAY);
    expect(await status(String(abandoned.body.video_id))).toBe('expired');
  });

  it('schedules reels up to 29 days ahead', async () => {
    const now = Math.floor(((await control(sandbox.app, 'GET', '/clock')).body.epochMs as number) / 1000);
    const uploadedReel = async () => {
      const start = await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/video_reels`, { upload_phase: 'start', access_token: pageToken });
      await upload(String(start.body.video_id), mp4('?seconds=20'));
      return String(start.body.video_id);
    };
    const finish = (videoId: string, at: number) =>
      call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/video_reels`, { upload_phase: 'finish', video_id: videoId, video_state: 'SCHEDULED', scheduled_publish_time: at, access_token: pageToken });
    expect(expectMetaError(await finish(await uploadedReel(), now + 29 * 86_400 + 3_600), 100).message).toMatch(/29 days/);
    expect((await finish(await uploadedReel(), now + 29 * 86_400 - 3_600)).body).toEqual({ success: true });
  });
});

describe('9. insights', () => {
  async function publishedFeedImage(): Promise<string> {
    return id(await publish(await readyImage()));
  }
  const insights = (mediaId: string, metric: string, token = userToken) => call(sandbox.app, 'GET', `/v25.0/${mediaId}/insights`, { metric, access_token: token });

  it('answers the current cross-app metrics; total_views only with Facebook Login', async () => {
    const mediaId = await publishedFeedImage();
    await advance(sandbox.app, 6 * HOUR);
    const answer = await insights(mediaId, 'total_likes,total_comments,total_views,facebook_views,crossposted_views,views');
    const values = Object.fromEntries((answer.body.data as { name: string; values: { value: number }[] }[]).map((item) => [item.name, item.values[0]?.value]));
    expect(Object.keys(values)).toEqual(['total_likes', 'total_comments', 'total_views', 'facebook_views', 'crossposted_views', 'views']);
    expect(values.total_views).toBe((values.views ?? 0) + (values.facebook_views ?? 0));
    expect(values.facebook_views).toBeGreaterThan(0);
    const igToken = await mintToken(sandbox.app, { kind: 'instagram-user', subjectId: BAKERY_IG, scopes: ['instagram_business_basic', 'instagram_business_manage_insights'] });
    expect(expectMetaError(await insights(mediaId, 'total_views', igToken), 100).message).toMatch(/Facebook Login/);
    expect((await insights(mediaId, 'total_likes', igToken)).status).toBe(200);
  });

  it('answers an empty list, not zeros, in the first hours', async () => {
    const mediaId = await publishedFeedImage();
    await advance(sandbox.app, 90 * 60_000);
    expect((await insights(mediaId, 'views,likes')).body).toEqual({ data: [] });
    await advance(sandbox.app, HOUR);
    expect((await insights(mediaId, 'views,likes')).body.data).toHaveLength(2);
  });

  it('refuses story insights after 24 h and answers 10 under 5 viewers', async () => {
    const storyContainer = id(await createContainer({ media_type: 'STORIES', image_url: jpg('?w=1080&h=1920') }));
    await advance(sandbox.app, 5_000);
    const story = id(await publish(storyContainer));
    expectMetaError(await insights(story, 'reach'), 10);
    await advance(sandbox.app, 3 * HOUR);
    expect((await insights(story, 'reach')).body.data).toHaveLength(1);
    await advance(sandbox.app, DAY);
    expect(expectMetaError(await insights(story, 'reach'), 100).message).toMatch(/24 hours/);
  });

  it('serves /{video-id}/video_insights for Page videos and reels, each with its own metrics', async () => {
    const video = id(await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/videos`, { file_url: mp4('?seconds=20'), access_token: pageToken }));
    const videoInsights = (videoId: string, metric?: string) =>
      call(sandbox.app, 'GET', `/v25.0/${videoId}/video_insights`, { access_token: pageToken, ...(metric ? { metric } : {}) });
    expect((await videoInsights(video)).body).toEqual({ data: [] });
    await advance(sandbox.app, 6 * HOUR);
    const videoData = (await videoInsights(video)).body.data as { name: string; values: { value: number }[] }[];
    expect(videoData.map((item) => item.name)).toEqual(['total_video_views', 'total_video_impressions', 'total_video_avg_time_watched', 'total_video_view_total_time']);
    expect(videoData[0]?.values[0]?.value).toBeGreaterThan(0);
    expectMetaError(await videoInsights(video, 'blue_reels_play_count'), 100);

    const start = await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/video_reels`, { upload_phase: 'start', access_token: pageToken });
    const reel = String(start.body.video_id);
    await upload(String(start.body.video_id), mp4('?seconds=20'));
    await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/video_reels`, { upload_phase: 'finish', video_id: reel, video_state: 'PUBLISHED', access_token: pageToken });
    await advance(sandbox.app, 6 * HOUR);
    const reelData = (await videoInsights(reel, 'blue_reels_play_count,fb_reels_total_plays')).body.data as { name: string }[];
    expect(reelData.map((item) => item.name)).toEqual(['blue_reels_play_count', 'fb_reels_total_plays']);
    expectMetaError(await videoInsights(reel, 'total_video_views'), 100);
  });
});

describe('10. usage headers', () => {
  it('leaves them out at low usage by default, so a client must cope with their absence', async () => {
    const answer = await call(sandbox.app, 'GET', `/v25.0/${BAKERY_IG}`, { fields: 'username', access_token: userToken });
    expect(answer.status).toBe(200);
    expect(answer.headers['x-app-usage']).toBeUndefined();
    expect(answer.headers['x-business-use-case-usage']).toBeUndefined();
  });
});

describe('11. webhooks', () => {
  let receiver: Server;
  let receiverUrl: string;
  let bodies: string[];
  let failing: boolean;

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://x');
      if (request.method === 'GET') {
        response.writeHead(200).end(url.searchParams.get('hub.challenge') ?? '');
        return;
      }
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        bodies.push(body);
        response.writeHead(failing ? 503 : 200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const address = receiver.address();
    receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
  });
  beforeEach(async () => {
    bodies = [];
    failing = false;
    await control(sandbox.app, 'POST', '/webhooks/subscriptions', { object: 'page', callbackUrl: receiverUrl, verifyToken: 'v', fields: ['feed'] });
    await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/subscribed_apps`, { subscribed_fields: 'feed', access_token: pageToken });
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

  type Delivery = { id: number; status: string; attempts: number; nextAttemptAt?: number; repeats: number; payload: { entry: unknown[] } };
  const deliveries = async () => (await control(sandbox.app, 'GET', '/webhooks/deliveries')).body.deliveries as unknown as Delivery[];

  it('batches changes made close together into one delivery with several entries', async () => {
    await control(sandbox.app, 'PATCH', '/settings', { webhookBatchMs: 200 });
    await Promise.all(['one', 'two', 'three'].map((message) => call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/feed`, { message, access_token: pageToken })));
    await sandbox.app.sandbox.webhooks.settled();
    expect(bodies).toHaveLength(1);
    const payload = JSON.parse(bodies[0] ?? '{}') as { object: string; entry: { id: string; changes: { value: { message: string } }[] }[] };
    expect(payload.object).toBe('page');
    expect(payload.entry.map((entry) => entry.changes[0]?.value.message).sort()).toEqual(['one', 'three', 'two']);
  });

  it("retries a failed delivery on Meta's schedule over 36 h of sandbox time, then gives up", async () => {
    failing = true;
    await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/feed`, { message: 'retry me', access_token: pageToken });
    await sandbox.app.sandbox.webhooks.settled();
    const [first] = await deliveries();
    expect(first).toMatchObject({ status: 'pending', attempts: 1 });
    await advance(sandbox.app, 15_000);
    await expect.poll(async () => (await deliveries())[0]?.attempts, { timeout: 5_000 }).toBe(2);
    await advance(sandbox.app, 36 * HOUR);
    await expect.poll(async () => (await deliveries())[0]?.status, { timeout: 5_000 }).toBe('failed');
    // Every attempt of the schedule (immediately, 15 s, 1 min, ... 36 h) was made, none after.
    expect((await deliveries())[0]?.attempts).toBe(11);
    expect(bodies).toHaveLength(11);
  });

  it('delivers after a retry once the receiver is back', async () => {
    failing = true;
    await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/feed`, { message: 'later', access_token: pageToken });
    await sandbox.app.sandbox.webhooks.settled();
    failing = false;
    await advance(sandbox.app, 60_000);
    await expect.poll(async () => (await deliveries())[0]?.status, { timeout: 5_000 }).toBe('delivered');
    expect(new Set(bodies).size).toBe(1);
  });

  it('can deliver the same body twice', async () => {
    await call(sandbox.app, 'POST', `/v25.0/${BAKERY_PAGE}/feed`, { message: 'twice', access_token: pageToken });
    await sandbox.app.sandbox.webhooks.settled();
    const [delivery] = await deliveries();
    const repeated = await control(sandbox.app, 'POST', `/webhooks/deliveries/${delivery?.id}/repeat`);
    expect(repeated.body).toMatchObject({ status: 'delivered', repeats: 1 });
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toBe(bodies[0]);
    expect((await control(sandbox.app, 'POST', '/webhooks/deliveries/999999/repeat')).status).toBe(404);
  });
});

describe('12. versions', () => {
  it('answers v24.0 to v27.0 and refuses v28.0', async () => {
    for (const version of ['v24.0', 'v25.0', 'v26.0', 'v27.0']) {
      expect((await call(sandbox.app, 'GET', `/${version}/me`, { access_token: userToken })).status).toBe(200);
    }
    expectMetaError(await call(sandbox.app, 'GET', '/v28.0/me', { access_token: userToken }), 2635);
  });
});

describe('13. OAuth code exchange by form POST', () => {
  async function dialogCode(): Promise<string> {
    const confirm = await sandbox.app.inject({
      method: 'POST',
      url: '/v25.0/dialog/oauth/confirm',
      payload: new URLSearchParams({
        client_id: APP_ID,
        redirect_uri: FB_REDIRECT,
        state: 's',
        requested_scopes: 'pages_show_list',
        granted_scopes: 'pages_show_list',
        user_id: ALICE,
        page_ids: BAKERY_PAGE,
        decision: 'allow',
      }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const code = new URL(String(confirm.headers.location)).searchParams.get('code');
    if (!code) throw new Error(`no code: ${confirm.statusCode} ${confirm.body}`);
    return code;
  }

  it('exchanges a code sent as a form POST, with the client credentials in the form', async () => {
    const code = await dialogCode();
    const answer = await call(sandbox.app, 'POST', '/v27.0/oauth/access_token', { client_id: APP_ID, client_secret: APP_SECRET, redirect_uri: FB_REDIRECT, code, grant_type: 'authorization_code' });
    expect(answer.body).toMatchObject({ access_token: expect.stringMatching(/^EAAU/), token_type: 'bearer', expires_in: expect.any(Number) });
    expectMetaError(await call(sandbox.app, 'POST', '/v27.0/oauth/access_token', { client_id: APP_ID, client_secret: APP_SECRET, redirect_uri: FB_REDIRECT, code }), 100, 36009);
  });

  it('takes the client credentials as HTTP Basic too, and refuses a wrong secret', async () => {
    const code = await dialogCode();
    const basic = (secret: string) => `Basic ${Buffer.from(`${APP_ID}:${secret}`).toString('base64')}`;
    const form = new URLSearchParams({ redirect_uri: FB_REDIRECT, code, grant_type: 'authorization_code' }).toString();
    const wrong = await sandbox.app.inject({ method: 'POST', url: '/v25.0/oauth/access_token', payload: form, headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('nope') } });
    expect(wrong.json()).toMatchObject({ error: { code: 1 } });
    const right = await sandbox.app.inject({ method: 'POST', url: '/v25.0/oauth/access_token', payload: form, headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(APP_SECRET) } });
    expect(right.json()).toMatchObject({ access_token: expect.stringMatching(/^EAAU/) });
  });
});
