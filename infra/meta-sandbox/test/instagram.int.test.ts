import { createServer } from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import { ALICE, BAKERY_IG, BAKERY_PAGE, DAY, HOUR, STUDIO_IG, advance, call, control, expectMetaError, id, mintToken, useListeningSandbox } from './helpers.ts';

const sandbox = useListeningSandbox({ videoProcessingMs: 30_000, imageProcessingMs: 0 });
let token: string;

beforeEach(async () => {
  token = await mintToken(sandbox.app, { kind: 'facebook-user', subjectId: ALICE });
});

const jpg = (w = 1080, h = 1350, extra = '') => `${sandbox.base}/_sandbox/media/sample.jpg?w=${w}&h=${h}${extra}`;
const mp4 = (seconds = 10) => `${sandbox.base}/_sandbox/media/sample.mp4?seconds=${seconds}`;

async function container(params: Record<string, string>, account = BAKERY_IG, accessToken = token) {
  return call(sandbox.app, 'POST', `/v25.0/${account}/media`, { ...params, access_token: accessToken });
}
async function status(containerId: string) {
  return (await call(sandbox.app, 'GET', `/v25.0/${containerId}`, { fields: 'status_code,status', access_token: token })).body;
}
async function publish(containerId: string, account = BAKERY_IG, accessToken = token) {
  return call(sandbox.app, 'POST', `/v25.0/${account}/media_publish`, { creation_id: containerId, access_token: accessToken });
}
async function published(account = BAKERY_IG) {
  return (await control(sandbox.app, 'GET', `/instagram/${account}/media`)).body.media as unknown as { id: string; containerId: string; mediaProductType: string; children: string[] }[];
}

describe('Instagram containers and publishing', () => {
  it('publishes an image: container FINISHED, media_publish returns the media id, read-back shows it', async () => {
    const containerId = id(await container({ image_url: jpg(), caption: 'Fresh bread #bakery @friend' }));
    expect(await status(containerId)).toMatchObject({ status_code: 'FINISHED' });
    const mediaId = id(await publish(containerId));
    const media = await call(sandbox.app, 'GET', `/v25.0/${mediaId}`, {
      fields: 'id,permalink,shortcode,timestamp,media_type,media_product_type,like_count,comments_count,caption',
      access_token: token,
    });
    expect(media.body).toMatchObject({ id: mediaId, media_type: 'IMAGE', media_product_type: 'FEED', like_count: 0, comments_count: 0, caption: 'Fresh bread #bakery @friend' });
    expect(media.body.permalink).toBe(`https://www.instagram.com/p/${String(media.body.shortcode)}/`);
    expect(media.body.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/);
    expect(await status(containerId)).toMatchObject({ status_code: 'PUBLISHED' });
  });

  it('processes a reel IN_PROGRESS -> FINISHED after the configured time; publishing early fails with 9007/2207027', async () => {
    const containerId = id(await container({ media_type: 'REELS', video_url: mp4(), caption: 'reel', share_to_feed: 'true' }));
    expect(await status(containerId)).toMatchObject({ status_code: 'IN_PROGRESS' });
    expectMetaError(await publish(containerId), 9007, 2207027);
    await advance(sandbox.app, 30_000);
    expect(await status(containerId)).toMatchObject({ status_code: 'FINISHED' });
    const mediaId = id(await publish(containerId));
    const media = await call(sandbox.app, 'GET', `/${mediaId}`, { fields: 'media_type,media_product_type,permalink', access_token: token });
    expect(media.body).toMatchObject({ media_type: 'VIDEO', media_product_type: 'REELS' });
    expect(media.body.permalink).toMatch(/instagram\.com\/reel\//);
  });

  it('expires an unpublished container after 24 h (sandbox clock); publishing it fails with -2/2207020', async () => {
    const containerId = id(await container({ image_url: jpg() }));
    await advance(sandbox.app, DAY);
    expect(await status(containerId)).toMatchObject({ status_code: 'EXPIRED' });
    expectMetaError(await publish(containerId), -2, 2207020);
    expectMetaError(await publish('17950999999999'), 24, 2207008);
  });

  it('publishes a container at most once, even when media_publish is retried', async () => {
    const containerId = id(await container({ image_url: jpg() }));
    const first = await publish(containerId);
    const second = await publish(containerId);
    expect(first.status).toBe(200);
    expect(expectMetaError(second, 100).message).toMatch(/already been published/);
    expect((await published()).filter((media) => media.containerId === containerId)).toHaveLength(1);
  });

  it('enforces the rolling 24 h publishing quota with 9/2207042 and reports it in content_publishing_limit', async () => {
    await control(sandbox.app, 'PATCH', '/settings', { publishQuota: 2 });
    for (let i = 0; i < 2; i += 1) id(await publish(id(await container({ image_url: jpg() }))));
    const limit = await call(sandbox.app, 'GET', `/v25.0/${BAKERY_IG}/content_publishing_limit`, { fields: 'quota_usage,config', access_token: token });
    expect(limit.body).toEqual({ data: [{ quota_usage: 2, config: { quota_total: 2, quota_duration: 86_400 } }] });
    const third = id(await container({ image_url: jpg() }));
    const refused = expectMetaError(await publish(third), 9, 2207042);
    expect(refused.error_user_title).toBe('Max Posts Reached');
    await advance(sandbox.app, DAY + 1);
    expect((await call(sandbox.app, 'GET', `/v25.0/${BAKERY_IG}/content_publishing_limit`, { access_token: token })).body).toEqual({ data: [{ quota_usage: 0 }] });
    id(await publish(id(await container({ image_url: jpg() }))));
  });

  it('publishes a carousel of 2-10 children as one post (one quota unit); children carry no permalink', async () => {
    const children = [
      id(await container({ image_url: jpg(), is_carousel_item: 'true' })),
      id(await container({ media_type: 'VIDEO', video_url: mp4(), is_carousel_item: 'true' })),
    ];
    const parent = id(await container({ media_type: 'CAROUSEL', children: children.join(','), caption: 'two', collaborators: 'ana,bo' }));
    expect(await status(parent)).toMatchObject({ status_code: 'IN_PROGRESS' });
    await advance(sandbox.app, 30_000);
    const mediaId = id(await publish(parent));
    const media = await call(sandbox.app, 'GET', `/${mediaId}`, { fields: 'media_type,media_product_type,children{id,media_type,permalink}', access_token: token });
    expect(media.body).toMatchObject({ media_type: 'CAROUSEL_ALBUM', media_product_type: 'FEED' });
    const kids = (media.body.children as { data: Record<string, unknown>[] }).data;
    expect(kids.map((kid) => kid.media_type)).toEqual(['IMAGE', 'VIDEO']);
    expect(kids.every((kid) => kid.permalink === undefined)).toBe(true);
    const limit = await call(sandbox.app, 'GET', `/${BAKERY_IG}/content_publishing_limit`, { access_token: token });
    expect(limit.body).toEqual({ data: [{ quota_usage: 1 }] });
    expectMetaError(await publish(children[0] ?? ''), 100);
  });

  it('applies the carousel rules: child count 100/2207028, no caption or collaborators on children, <= 3 collaborators', async () => {
    const child = id(await container({ image_url: jpg(), is_carousel_item: 'true' }));
    expectMetaError(await container({ media_type: 'CAROUSEL', children: child }), 100, 2207028);
    expectMetaError(await container({ media_type: 'CAROUSEL', children: Array.from({ length: 11 }, () => child).join(',') }), 100, 2207028);
    expectMetaError(await container({ image_url: jpg(), is_carousel_item: 'true', caption: 'nope' }), 100);
    expectMetaError(await container({ image_url: jpg(), is_carousel_item: 'true', collaborators: 'ana' }), 100);
    expectMetaError(await container({ image_url: jpg(), collaborators: 'a,b,c,d' }), 100);
    expectMetaError(await container({ media_type: 'CAROUSEL', children: `${child},17950000000999` }), 100, 2207008);
  });

  it('allows stories for business accounts only, without caption', async () => {
    const story = id(await container({ media_type: 'STORIES', image_url: jpg(1080, 1920) }));
    const mediaId = id(await publish(story));
    expect((await call(sandbox.app, 'GET', `/${mediaId}`, { fields: 'media_product_type', access_token: token })).body.media_product_type).toBe('STORY');
    const creator = expectMetaError(await container({ media_type: 'STORIES', image_url: jpg(1080, 1920) }, STUDIO_IG), 100);
    expect(creator.message).toMatch(/business/);
    expectMetaError(await container({ media_type: 'STORIES', image_url: jpg(1080, 1920), caption: 'x' }), 100);
  });

  it('rejects single-video feed posts (media_type=VIDEO) as Meta does', async () => {
    const error = expectMetaError(await container({ media_type: 'VIDEO', video_url: mp4() }), 100, 2207023);
    expect(error.message).toMatch(/REELS/);
  });

  it('checks the caption on the final text: length 36004/2207010, 30 hashtags, 20 mentions 100/2207040', async () => {
    expectMetaError(await container({ image_url: jpg(), caption: 'x'.repeat(2201) }), 36004, 2207010);
    expectMetaError(await container({ image_url: jpg(), caption: Array.from({ length: 31 }, (_, i) => `#tag${i}`).join(' ') }), 100);
    expectMetaError(await container({ image_url: jpg(), caption: Array.from({ length: 21 }, (_, i) => `@user${i}`).join(' ') }), 100, 2207040);
  });
});

describe('media fetching', () => {
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return typeof address === 'object' && address ? address.port : 1;
  }

  it('answers 9004/2207052 when the media URL cannot be fetched (HTTP 404 or nothing listening)', async () => {
    const missing = expectMetaError(await container({ image_url: `${sandbox.base}/_sandbox/media/status/404` }), 9004, 2207052);
    expect(missing.error_user_title).toBe('Media download has failed.');
    expectMetaError(await container({ image_url: `http://127.0.0.1:${await closedPort()}/a.jpg` }), 9004, 2207052);
    expectMetaError(await container({ media_type: 'REELS', video_url: `${sandbox.base}/_sandbox/media/status/500` }), 9004, 2207052);
  });

  it('answers -2/2207003 (transient) when the download times out', async () => {
    await control(sandbox.app, 'PATCH', '/settings', { mediaFetchTimeoutMs: 200 });
    const error = expectMetaError(await container({ image_url: jpg(1080, 1080, '&delay_ms=2000') }), -2, 2207003);
    expect(error.is_transient).toBe(true);
  });

  it('refuses non-JPEG images (36001/2207005), images over 8 MB (36000/2207004) and feed aspect ratios outside 4:5-1.91:1 (36003/2207009)', async () => {
    expectMetaError(await container({ image_url: `${sandbox.base}/_sandbox/media/sample.png` }), 36001, 2207005);
    expectMetaError(await container({ image_url: jpg(1080, 1080, '&pad_to=9000000') }), 36000, 2207004);
    expectMetaError(await container({ image_url: jpg(1080, 1920) }), 36003, 2207009);
    id(await container({ image_url: jpg(1910, 1000) }));
  });

  it('puts a reel whose file is not MP4/MOV or too short into status ERROR with subcode 2207026', async () => {
    const wrong = id(await container({ media_type: 'REELS', video_url: jpg() }));
    expect(await status(wrong)).toMatchObject({ status_code: 'ERROR', status: expect.stringContaining('2207026') });
    const short = id(await container({ media_type: 'REELS', video_url: mp4(1) }));
    expect(await status(short)).toMatchObject({ status_code: 'ERROR' });
    expectMetaError(await publish(short), -1, 2207026);
  });

  it('accepts resumable reel uploads on rupload (Facebook Login only)', async () => {
    await control(sandbox.app, 'PATCH', '/settings', { publicUrl: sandbox.base });
    const created = await container({ media_type: 'REELS', upload_type: 'resumable', caption: 'uploaded' });
    const containerId = id(created);
    expect(created.body.uri).toBe(`${sandbox.base}/ig-api-upload/v25.0/${containerId}`);
    expect(await status(containerId)).toMatchObject({ status_code: 'IN_PROGRESS' });
    const bytes = Buffer.from(await (await fetch(mp4(8))).arrayBuffer());
    const upload = await fetch(String(created.body.uri), {
      method: 'POST',
      headers: { authorization: `OAuth ${token}`, offset: '0', file_size: String(bytes.length), 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(await upload.json()).toEqual({ success: true, message: 'Upload successful.' });
    await advance(sandbox.app, 30_000);
    id(await publish(containerId));
    const igToken = await mintToken(sandbox.app, { kind: 'instagram-user', subjectId: BAKERY_IG });
    expectMetaError(await container({ media_type: 'REELS', upload_type: 'resumable' }, BAKERY_IG, igToken), 100);
  });
});

describe('read-back, comments and deletion', () => {
  it('adds a first comment and counts it in comments_count', async () => {
    const mediaId = id(await publish(id(await container({ image_url: jpg() }))));
    const comment = await call(sandbox.app, 'POST', `/v25.0/${mediaId}/comments`, { message: 'First!', access_token: token });
    expect(comment.body.id).toMatch(/^\d+$/);
    const media = await call(sandbox.app, 'GET', `/${mediaId}`, { fields: 'comments_count', access_token: token });
    expect(media.body.comments_count).toBe(1);
    const list = await call(sandbox.app, 'GET', `/${mediaId}/comments`, { access_token: token });
    expect((list.body.data as { text: string }[])[0]?.text).toBe('First!');
  });

  it('deletes media with a Facebook Login token only; an Instagram Login token gets -1/2207073', async () => {
    const mediaId = id(await publish(id(await container({ image_url: jpg() }))));
    const igToken = await mintToken(sandbox.app, { kind: 'instagram-user', subjectId: BAKERY_IG });
    const refused = expectMetaError(await call(sandbox.app, 'DELETE', `/v25.0/${mediaId}`, { access_token: igToken }), -1, 2207073);
    expect(refused.message).toMatch(/Facebook Login/);
    const deleted = await call(sandbox.app, 'DELETE', `/v25.0/${mediaId}`, { access_token: token });
    expect(deleted.body).toEqual({ success: true, deleted_id: mediaId });
    expectMetaError(await call(sandbox.app, 'GET', `/${mediaId}`, { access_token: token }), 100, 33);
    const noScope = await mintToken(sandbox.app, { kind: 'facebook-user', subjectId: ALICE, scopes: ['instagram_basic', 'instagram_content_publish', 'pages_read_engagement'] });
    const other = id(await publish(id(await container({ image_url: jpg() }, BAKERY_IG, noScope)), BAKERY_IG, noScope));
    expectMetaError(await call(sandbox.app, 'DELETE', `/${other}`, { access_token: noScope }), 10);
  });

  it('serves the same paths to Instagram Login tokens (graph.instagram.com) and to Page tokens', async () => {
    const igToken = await mintToken(sandbox.app, { kind: 'instagram-user', subjectId: STUDIO_IG });
    const mediaId = id(await publish(id(await container({ image_url: jpg() }, 'me', igToken)), 'me', igToken));
    const list = await call(sandbox.app, 'GET', '/v25.0/me/media', { fields: 'id,media_type', access_token: igToken });
    expect(list.body.data).toEqual([{ id: mediaId, media_type: 'IMAGE' }]);
    expectMetaError(await container({ image_url: jpg() }, BAKERY_IG, igToken), 100, 33);
    const pageToken = await mintToken(sandbox.app, { kind: 'facebook-page', subjectId: ALICE, pageId: BAKERY_PAGE });
    id(await container({ image_url: jpg() }, BAKERY_IG, pageToken));
    expectMetaError(await container({ image_url: jpg() }, STUDIO_IG, pageToken), 100, 33);
  });

  it('refuses publishing without the content-publish permission (code 10)', async () => {
    const readOnly = await mintToken(sandbox.app, { kind: 'facebook-user', subjectId: ALICE, scopes: ['instagram_basic', 'pages_show_list'] });
    expectMetaError(await container({ image_url: jpg() }, BAKERY_IG, readOnly), 10);
  });

  it('lets tests inspect everything published per account, with the container it came from', async () => {
    const containerId = id(await container({ image_url: jpg(), caption: 'inspect me' }));
    const mediaId = id(await publish(containerId));
    const [entry] = await published();
    expect(entry).toMatchObject({ id: mediaId, containerId, mediaProductType: 'FEED', caption: 'inspect me' });
    await advance(sandbox.app, HOUR);
  });
});
