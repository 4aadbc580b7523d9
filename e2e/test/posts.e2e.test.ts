import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postEvents } from '@postwire/contracts';
import { type TopicObserver, observeTopic, sandboxControl } from '@postwire/testing';
import { type Member, eventually, startStack } from './stack.ts';

type Stack = Awaited<ReturnType<typeof startStack>>;
type Post = {
  id: string;
  status: string;
  platform: string;
  postType: string;
  facebookFormat: string | null;
  scheduledFor: string | null;
  publishedAt: string | null;
  platformPostId: string | null;
  platformUrl: string | null;
  errorMessage: string | null;
};
type Account = { id: string; platform: string; username: string; pageId: string | null; platformAccountId: string };
/** What the sandbox's inspection API shows of an account's published media and a Page's posts. */
type SandboxMedia = { id: string; containerId: string; caption?: string; mediaProductType?: string; children?: string[]; collaborators?: string[]; comments: (string | undefined)[] };
type SandboxPagePost = { id: string; kind: string; message?: string; photoIds?: string[]; videoId?: string; deleted: boolean };

const BAKERY_PAGE = '1001000000000201';
const BAKERY_IG = '17841400000000301';
const ALICE = '1000900000000101';

/** The gateway as an API consumer uses it, plus what a test needs to look behind it. */
function client(stack: Stack) {
  const image = (w = 1080, h = 1350) => `${stack.sandbox.baseUrl}/_sandbox/media/sample.jpg?w=${w}&h=${h}`;
  const video = (seconds = 10) => `${stack.sandbox.baseUrl}/_sandbox/media/sample.mp4?seconds=${seconds}&w=1080&h=1920`;

  const request = (member: Member, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = {}) =>
    stack.gateway.inject({
      method,
      url,
      headers: { authorization: member.authorization, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });

  async function connectFacebook(member: Member): Promise<Account[]> {
    await stack.connectFacebook(member);
    return eventually(async () => {
      const listed = (await request(member, 'GET', '/v1/accounts?status=active')).json<{ data: Account[] }>().data;
      return listed.length === 4 ? listed : undefined;
    }, 'four connected accounts', { timeoutMs: 30_000 });
  }

  async function getPost(member: Member, id: string): Promise<Post> {
    const answer = await request(member, 'GET', `/v1/posts/${id}`);
    expect(answer.statusCode, answer.body).toBe(200);
    return answer.json<Post>();
  }

  /** Waits until the publisher shows the post in `status`, through the API. */
  const settled = (member: Member, id: string, status: string, timeoutMs = 60_000) =>
    eventually(async () => {
      const answer = await request(member, 'GET', `/v1/posts/${id}`);
      if (answer.statusCode !== 200) return undefined;
      const post = answer.json<Post>();
      return post.status === status ? post : undefined;
    }, `post ${id} ${status}`, { timeoutMs });

  async function create(member: Member, body: Record<string, unknown>): Promise<Post> {
    const answer = await request(member, 'POST', '/v1/posts', body);
    expect([201, 202], answer.body).toContain(answer.statusCode);
    expect(answer.headers.location).toMatch(/^\/v1\/posts\/[0-9a-f-]{36}$/);
    const id = String(answer.headers.location).split('/').at(-1) ?? '';
    return answer.statusCode === 201 ? answer.json<Post>() : settledAccepted(member, id);
  }

  const settledAccepted = (member: Member, id: string) =>
    eventually(async () => {
      const answer = await request(member, 'GET', `/v1/posts/${id}`);
      return answer.statusCode === 200 ? answer.json<Post>() : undefined;
    }, `post ${id} accepted`, { timeoutMs: 20_000 });

  const instagramMedia = async (igId: string) =>
    (await sandboxControl<{ media: SandboxMedia[] }>(stack.sandbox.baseUrl, 'GET', `/instagram/${igId}/media`)).media;
  const pagePosts = async (pageId: string) => (await sandboxControl<{ posts: SandboxPagePost[] }>(stack.sandbox.baseUrl, 'GET', `/pages/${pageId}/posts`)).posts;

  return { image, video, request, connectFacebook, getPost, settled, create, instagramMedia, pagePosts };
}

describe('publishing end to end: gateway → Kafka → publisher → Meta sandbox', () => {
  let stack: Stack;
  let api: ReturnType<typeof client>;
  let alice: Member;
  let outsider: Member;
  let accounts: Account[];
  let events: TopicObserver;
  const account = (platform: string, username: string) => {
    const found = accounts.find((candidate) => candidate.platform === platform && candidate.username === username);
    if (!found) throw new Error(`no ${platform} account ${username}`);
    return found;
  };

  beforeAll(async () => {
    // Writes wait for the publisher's answer long enough for a loaded machine: the tests read what it decided.
    stack = await startStack({ publishers: 1, gatewayEnvironment: { GATEWAY_POST_WAIT_MS: '15000' } });
    api = client(stack);
    // Containers and videos finish quickly, so the suite does not wait on Meta's processing times.
    await sandboxControl(stack.sandbox.baseUrl, 'PATCH', '/settings', { imageProcessingMs: 300, videoProcessingMs: 1_000 });
    alice = await stack.member();
    outsider = await stack.member();
    accounts = await api.connectFacebook(alice);
    events = await observeTopic(postEvents.name);
  });

  afterAll(async () => {
    await events?.stop();
    await stack?.stop();
  });

  it('every post type on Instagram and every post kind on a Facebook Page goes out once, with its extras', async () => {
    const instagram = account('instagram', 'postwire.bakery').id;
    const page = account('facebook', 'Postwire Bakery').id;
    const drafts: [string, Record<string, unknown>][] = [
      [
        'instagram feed image',
        {
          socialAccountId: instagram,
          platform: 'instagram',
          postType: 'feed',
          caption: 'Fresh bread @postwire.studio',
          hashtags: ['bread', 'bakery'],
          locationId: BAKERY_PAGE,
          collaborators: ['postwire.studio'],
          firstComment: 'Open from 7am',
          media: [{ position: 0, mediaType: 'image', url: api.image(), altText: 'A loaf on a table', userTags: [{ username: 'postwire.studio', x: 0.4, y: 0.6 }] }],
        },
      ],
      [
        'instagram carousel',
        {
          socialAccountId: instagram,
          platform: 'instagram',
          postType: 'carousel',
          caption: 'Three views',
          collaborators: ['postwire.studio'],
          media: [
            { position: 0, mediaType: 'image', url: api.image(), altText: 'Front' },
            { position: 1, mediaType: 'image', url: api.image(1080, 1080), altText: 'Side' },
            { position: 2, mediaType: 'video', url: api.video(8) },
          ],
        },
      ],
      [
        'instagram reel',
        {
          socialAccountId: instagram,
          platform: 'instagram',
          postType: 'reel',
          caption: 'Kneading, sped up',
          shareToFeed: true,
          trialParams: { graduationStrategy: 'MANUAL' },
          media: [{ position: 0, mediaType: 'video', url: api.video(12), coverUrl: api.image(1080, 1350) }],
        },
      ],
      ['instagram story', { socialAccountId: instagram, platform: 'instagram', postType: 'story', media: [{ position: 0, mediaType: 'image', url: api.image(1080, 1350), userTags: [{ username: 'postwire.studio' }] }] }],
      ['facebook text', { socialAccountId: page, platform: 'facebook', postType: 'feed', caption: 'We open at seven tomorrow', media: [] }],
      ['facebook link', { socialAccountId: page, platform: 'facebook', postType: 'feed', caption: 'Our menu', link: 'https://example.com/menu', media: [] }],
      ['facebook photo', { socialAccountId: page, platform: 'facebook', postType: 'feed', caption: 'Sourdough', media: [{ position: 0, mediaType: 'image', url: api.image() }] }],
      [
        'facebook multi-photo',
        {
          socialAccountId: page,
          platform: 'facebook',
          postType: 'carousel',
          caption: 'Two loaves',
          media: [
            { position: 0, mediaType: 'image', url: api.image() },
            { position: 1, mediaType: 'image', url: api.image(1080, 1080) },
          ],
        },
      ],
      ['facebook video', { socialAccountId: page, platform: 'facebook', postType: 'feed', caption: 'How we bake', media: [{ position: 0, mediaType: 'video', url: api.video(20) }] }],
      ['facebook reel', { socialAccountId: page, platform: 'facebook', postType: 'reel', caption: 'Quick bake', media: [{ position: 0, mediaType: 'video', url: api.video(15) }] }],
      ['facebook story', { socialAccountId: page, platform: 'facebook', postType: 'story', media: [{ position: 0, mediaType: 'image', url: api.image(1080, 1920) }] }],
    ];

    const created = new Map<string, Post>();
    for (const [name, body] of drafts) created.set(name, await api.create(alice, { ...body, publishNow: true }));
    const published = new Map<string, Post>();
    for (const [name, post] of created) published.set(name, await api.settled(alice, post.id, 'published', 90_000));

    expect([...published.values()].map((post) => post.facebookFormat).filter(Boolean).sort()).toEqual(
      ['link', 'multi-photo', 'photo', 'reel', 'story', 'text', 'video'].sort(),
    );
    for (const [name, post] of published) {
      expect(post.platformPostId, name).toBeTruthy();
      expect(post.publishedAt, name).toBeTruthy();
    }

    // Exactly one Instagram media per post, each from its own container.
    const media = await api.instagramMedia(BAKERY_IG);
    const instagramIds = [...published.entries()].filter(([name]) => name.startsWith('instagram')).map(([, post]) => post.platformPostId);
    for (const id of instagramIds) expect(media.filter((item) => item.id === id)).toHaveLength(1);
    const feed = media.find((item) => item.id === published.get('instagram feed image')?.platformPostId);
    expect(feed?.caption).toContain('#bread #bakery');

    // The first comment went on the feed post, once; collaborators on the carousel's parent only.
    expect(feed?.comments).toEqual(['Open from 7am']);
    const carouselMedia = media.find((item) => item.id === published.get('instagram carousel')?.platformPostId);
    expect(carouselMedia?.collaborators).toEqual(['postwire.studio']);
    expect(carouselMedia?.children).toHaveLength(3);
    expect(media.find((item) => item.id === published.get('instagram reel')?.platformPostId)?.mediaProductType).toBe('REELS');
    expect(media.find((item) => item.id === published.get('instagram story')?.platformPostId)?.mediaProductType).toBe('STORY');

    // Every Facebook post exists on the Page once.
    const posts = await api.pagePosts(BAKERY_PAGE);
    for (const [name, post] of published) {
      if (!name.startsWith('facebook') || name === 'facebook story') continue;
      expect(posts.filter((candidate) => candidate.id === post.platformPostId), name).toHaveLength(1);
    }

    // Internal subscribers learn of each publication on Kafka.
    const publishedEvents = await eventually(async () => {
      const found = events.messages.filter((message) => message.headers.ce_type === 'post.published');
      return found.length >= published.size ? found : undefined;
    }, 'post.published events', { timeoutMs: 20_000 });
    const carousel = publishedEvents.find((message) => message.data.postId === published.get('instagram carousel')?.id);
    expect(carousel?.data).toMatchObject({ platform: 'instagram', postType: 'carousel', mediaCount: 3 });
  });

  it('an error answered after the write was applied ends published once, on Instagram and on a Page', async () => {
    // Meta's 4/2207051 on a media_publish that went live, and code 2 (HTTP 500) on a Page post that was created.
    await sandboxControl(stack.sandbox.baseUrl, 'POST', '/faults', { operation: 'instagram.media-publish', kind: 'error-after-apply', error: { preset: 'action-blocked' }, times: 1 });
    await sandboxControl(stack.sandbox.baseUrl, 'POST', '/faults', { operation: 'pages.feed.create', kind: 'error-after-apply', error: { preset: 'service-error' }, times: 1 });
    const before = (await api.instagramMedia(BAKERY_IG)).length;
    const instagram = await api.create(alice, {
      socialAccountId: account('instagram', 'postwire.bakery').id,
      platform: 'instagram',
      postType: 'feed',
      caption: `Applied despite the error ${randomUUID()}`,
      media: [{ position: 0, mediaType: 'image', url: api.image() }],
      publishNow: true,
    });
    const message = `Page post applied despite the error ${randomUUID()}`;
    const page = await api.create(alice, { socialAccountId: account('facebook', 'Postwire Bakery').id, platform: 'facebook', postType: 'feed', caption: message, media: [], publishNow: true });

    const publishedInstagram = await api.settled(alice, instagram.id, 'published', 90_000);
    const publishedPage = await api.settled(alice, page.id, 'published', 90_000);
    expect((await api.instagramMedia(BAKERY_IG)).length).toBe(before + 1);
    expect((await api.instagramMedia(BAKERY_IG)).filter((item) => item.id === publishedInstagram.platformPostId)).toHaveLength(1);
    expect((await api.pagePosts(BAKERY_PAGE)).filter((post) => post.message === message && !post.deleted)).toHaveLength(1);
    expect(publishedPage.platformPostId).toBeTruthy();
  });

  it('a published post of a host video counts on the video, and deleting it (on the Page too) counts it off', async () => {
    const video = await stack.admin.query<{ id: string }>(
      `INSERT INTO public.social_media_videos (organisation_id, status, video_url) VALUES ($1, 'completed', $2) RETURNING id`,
      [alice.organisationId, api.video(10)],
    );
    const contentId = video.rows[0]?.id ?? '';
    const unposted = await api.request(alice, 'GET', '/v1/content/unposted');
    expect(unposted.json<{ data: { id: string }[] }>().data.map((item) => item.id)).toContain(contentId);

    const post = await api.create(alice, {
      socialAccountId: account('facebook', 'Postwire Bakery').id,
      platform: 'facebook',
      postType: 'feed',
      contentId,
      caption: 'Our video',
      media: [{ position: 0, mediaType: 'video', url: api.video(10) }],
      publishNow: true,
    });
    const published = await api.settled(alice, post.id, 'published', 90_000);
    const counted = await stack.admin.query('SELECT posted_to_social, post_count FROM public.social_media_videos WHERE id = $1', [contentId]);
    expect(counted.rows[0]).toEqual({ posted_to_social: true, post_count: 1 });
    expect((await api.request(alice, 'GET', '/v1/content/unposted')).json<{ data: { id: string }[] }>().data.map((item) => item.id)).not.toContain(contentId);

    const deleted = await api.request(alice, 'DELETE', `/v1/posts/${post.id}?fromPlatform=true`);
    expect([200, 202, 204], deleted.body).toContain(deleted.statusCode);
    await api.settled(alice, post.id, 'deleted');
    const after = await stack.admin.query('SELECT posted_to_social, post_count FROM public.social_media_videos WHERE id = $1', [contentId]);
    expect(after.rows[0]).toEqual({ posted_to_social: false, post_count: 0 });
    expect((await api.pagePosts(BAKERY_PAGE)).find((candidate) => candidate.id === published.platformPostId)?.deleted).toBe(true);
  });

  it('the same instant written with Z, +05:30 or a New York offset on either side of a DST change is stored as that instant, whatever the process TZ', async () => {
    const instagram = account('instagram', 'postwire.bakery').id;
    // 2027-03-14 is when New York moves from EST (-05:00) to EDT (-04:00).
    const instants = [
      { utc: '2027-03-13T17:00:00.000Z', forms: ['2027-03-13T17:00:00Z', '2027-03-13T22:30:00+05:30', '2027-03-13T12:00:00-05:00'] },
      { utc: '2027-03-15T16:00:00.000Z', forms: ['2027-03-15T16:00:00Z', '2027-03-15T21:30:00+05:30', '2027-03-15T12:00:00-04:00'] },
    ];
    const original = process.env.TZ;
    try {
      for (const zone of [undefined, 'Etc/UTC', 'Asia/Kolkata']) {
        if (zone === undefined) delete process.env.TZ;
        else process.env.TZ = zone;
        for (const { utc, forms } of instants) {
          for (const scheduledFor of forms) {
            const post = await api.create(alice, {
              socialAccountId: instagram,
              platform: 'instagram',
              postType: 'feed',
              caption: `TZ ${zone ?? 'unset'} ${scheduledFor}`,
              media: [{ position: 0, mediaType: 'image', url: api.image() }],
              scheduledFor,
            });
            const read = await api.getPost(alice, post.id);
            expect(read.status, `${zone} ${scheduledFor}`).toBe('queued');
            expect(new Date(read.scheduledFor ?? '').toISOString(), `${zone} ${scheduledFor}`).toBe(utc);
            const stored = await stack.admin.query<{ epoch: string }>(
              'SELECT extract(epoch FROM scheduled_for)::text AS epoch FROM publisher.social_media_posts WHERE id = $1',
              [post.id],
            );
            expect(Number(stored.rows[0]?.epoch) * 1000, `${zone} ${scheduledFor}`).toBe(Date.parse(utc));
          }
        }
      }
    } finally {
      if (original === undefined) delete process.env.TZ;
      else process.env.TZ = original;
    }
    // A time without an offset says which instant nobody knows: refused, nothing stored.
    const before = await stack.admin.query('SELECT count(*)::int AS count FROM publisher.social_media_posts');
    const refused = await api.request(alice, 'POST', '/v1/posts', {
      socialAccountId: instagram,
      platform: 'instagram',
      postType: 'feed',
      media: [{ position: 0, mediaType: 'image', url: api.image() }],
      scheduledFor: '2027-03-13T12:00:00',
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body).toContain('scheduledFor');
    const after = await stack.admin.query('SELECT count(*)::int AS count FROM publisher.social_media_posts');
    expect(after.rows[0]?.count).toBe(before.rows[0]?.count);
  });

  it('conditional requests: a read revalidates with 304; If-Match applies a change only to the version read, and of two changes made against one version exactly one applies', async () => {
    const draft = await api.create(alice, {
      socialAccountId: account('instagram', 'postwire.bakery').id,
      platform: 'instagram',
      postType: 'feed',
      caption: 'Version 1',
      media: [{ position: 0, mediaType: 'image', url: api.image() }],
    });
    const read = await api.request(alice, 'GET', `/v1/posts/${draft.id}`);
    const etag = String(read.headers.etag);
    expect(etag).toMatch(/^"\d+"$/);
    expect(read.headers['cache-control']).toBe('private, no-cache');
    const revalidated = await api.request(alice, 'GET', `/v1/posts/${draft.id}`, undefined, { 'if-none-match': etag });
    expect(revalidated.statusCode).toBe(304);
    expect(revalidated.body).toBe('');
    expect(revalidated.headers.etag).toBe(etag);

    // Applied against the version read: the answer names the new version, and the old one no longer revalidates.
    const applied = await api.request(alice, 'PATCH', `/v1/posts/${draft.id}`, { caption: 'Version 2' }, { 'if-match': etag });
    expect(applied.statusCode, applied.body).toBe(200);
    const current = String(applied.headers.etag);
    expect(current).not.toBe(etag);
    const changed = await api.request(alice, 'GET', `/v1/posts/${draft.id}`, undefined, { 'if-none-match': etag });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).toBe(current);

    // A stale version: 412 naming the current one, nothing changed.
    const stale = await api.request(alice, 'PATCH', `/v1/posts/${draft.id}`, { caption: 'Lost update' }, { 'if-match': etag });
    expect(stale.statusCode, stale.body).toBe(412);
    expect(stale.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(stale.json()).toMatchObject({ code: 'precondition-failed', status: 412 });
    expect(stale.headers.etag).toBe(current);
    const unchanged = await api.request(alice, 'GET', `/v1/posts/${draft.id}`);
    expect(unchanged.json<{ content: { caption: string } }>().content.caption).toBe('Version 2');

    // Two changes made against one version race: both pass the gateway's check, the publisher applies one on the locked row.
    const [first, second] = await Promise.all(
      ['Racer A', 'Racer B'].map((caption) => api.request(alice, 'PATCH', `/v1/posts/${draft.id}`, { caption }, { 'if-match': current })),
    );
    const statuses = [first?.statusCode, second?.statusCode].sort();
    expect(statuses, `${first?.body} ${second?.body}`).toEqual([200, 412]);
    const [winner, loser] = first?.statusCode === 200 ? ['Racer A', second] : ['Racer B', first];
    // Refused by the publisher on the locked row when both passed the gateway's read, or by the gateway when the
    // winner was applied before the loser's read: either way a precondition-failed problem naming the post's version.
    expect(loser?.json()).toMatchObject({ code: 'precondition-failed', status: 412 });
    const after = await api.request(alice, 'GET', `/v1/posts/${draft.id}`);
    expect(after.json<{ content: { caption: string } }>().content.caption).toBe(winner);
    const stored = await stack.admin.query<{ caption: string }>('SELECT caption FROM publisher.social_media_posts WHERE id = $1', [draft.id]);
    expect(stored.rows[0]?.caption).toBe(winner);

    // `*` only asks that the post exists.
    const any = await api.request(alice, 'POST', `/v1/posts/${draft.id}/publish`, undefined, { 'if-match': '*' });
    expect([200, 202], any.body).toContain(any.statusCode);
  });

  it("another organisation sees and changes none of these posts through the API", async () => {
    const listed = await api.request(alice, 'GET', '/v1/posts?limit=100');
    const mine = listed.json<{ data: Post[] }>().data;
    expect(mine.length).toBeGreaterThan(0);
    expect((await api.request(outsider, 'GET', '/v1/posts?limit=100')).json<{ data: Post[] }>().data).toEqual([]);
    // A draft of its own: the earlier tests' posts may still be moving (queued → processing → published).
    const caption = `Not yours ${randomUUID()}`;
    const queued = await api.create(alice, { socialAccountId: account('instagram', 'postwire.bakery').id, platform: 'instagram', postType: 'feed', caption, media: [{ position: 0, mediaType: 'image', url: api.image() }] });
    expect(queued.status).toBe('draft');
    for (const [method, url] of [
      ['GET', `/v1/posts/${queued.id}`],
      ['POST', `/v1/posts/${queued.id}/cancel`],
      ['POST', `/v1/posts/${queued.id}/publish`],
      ['DELETE', `/v1/posts/${queued.id}`],
    ] as const) {
      const answer = await api.request(outsider, method, url, method === 'POST' ? {} : undefined);
      expect(answer.statusCode, `${method} ${url}`).toBe(404);
    }
    const patched = await api.request(outsider, 'PATCH', `/v1/posts/${queued.id}`, { caption: 'hijacked' });
    expect(patched.statusCode).toBe(404);
    expect(await api.getPost(alice, queued.id)).toMatchObject({ status: 'draft', content: { caption } });
  });
});

describe('two publisher instances and publish-now racing the scheduler', () => {
  let stack: Stack;
  let api: ReturnType<typeof client>;
  let alice: Member;
  let accounts: Account[];

  beforeAll(async () => {
    stack = await startStack({ publishers: 2 });
    api = client(stack);
    await sandboxControl(stack.sandbox.baseUrl, 'PATCH', '/settings', { imageProcessingMs: 200 });
    alice = await stack.member();
    accounts = await api.connectFacebook(alice);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('never publishes one post twice', async () => {
    const targets = accounts.map((account) => account);
    const due = new Date(Date.now() + 4_000);
    const posts: Post[] = [];
    for (let index = 0; index < 12; index += 1) {
      const target = targets[index % targets.length];
      if (!target) throw new Error('no account');
      posts.push(
        await api.create(alice, {
          socialAccountId: target.id,
          platform: target.platform,
          postType: 'feed',
          caption: `Race ${index} ${randomUUID()}`,
          media: [{ position: 0, mediaType: 'image', url: api.image() }],
          scheduledFor: due.toISOString(),
        }),
      );
    }
    // At the due moment, a user presses "publish now" on every one of them too.
    await eventually(async () => (Date.now() >= due.getTime() - 50 ? true : undefined), 'the due moment', { timeoutMs: 10_000, intervalMs: 10 });
    const answers = await Promise.all(posts.map((post) => api.request(alice, 'POST', `/v1/posts/${post.id}/publish`, {})));
    for (const answer of answers) expect([200, 202, 409, 422], answer.body).toContain(answer.statusCode);

    const published = await Promise.all(posts.map((post) => api.settled(alice, post.id, 'published', 90_000)));
    const instagramIds = new Set(accounts.filter((account) => account.platform === 'instagram').map((account) => account.platformAccountId));
    const media = (await Promise.all([...instagramIds].map((id) => api.instagramMedia(id)))).flat();
    const pages = new Set(accounts.filter((account) => account.platform === 'facebook').map((account) => account.platformAccountId));
    const pagePosts = (await Promise.all([...pages].map((id) => api.pagePosts(id)))).flat();
    for (const post of published) {
      const copies = post.platform === 'instagram' ? media.filter((item) => item.id === post.platformPostId) : pagePosts.filter((item) => item.id === post.platformPostId);
      expect(copies, post.id).toHaveLength(1);
    }
    // Captions are unique per post: no caption appears twice on the platforms either.
    const captions = [...media.map((item) => item.caption ?? ''), ...pagePosts.map((item) => item.message ?? '')].filter((text) => text.startsWith('Race '));
    expect(new Set(captions).size).toBe(captions.length);
    expect(captions).toHaveLength(12);
  });
});

describe('a token revoked while posts wait, then a reconnect and a retry', () => {
  let stack: Stack;
  let api: ReturnType<typeof client>;
  let alice: Member;
  let accounts: Account[];

  beforeAll(async () => {
    stack = await startStack({ publishers: 1 });
    api = client(stack);
    await sandboxControl(stack.sandbox.baseUrl, 'PATCH', '/settings', { imageProcessingMs: 200 });
    alice = await stack.member();
    accounts = await api.connectFacebook(alice);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('fails the waiting posts with a reconnect message, and publishes them after reconnecting and retrying', async () => {
    const instagram = accounts.find((account) => account.platform === 'instagram' && account.username === 'postwire.bakery');
    if (!instagram) throw new Error('no Instagram account');
    const due = new Date(Date.now() + 3_000).toISOString();
    const posts = [
      await api.create(alice, { socialAccountId: instagram.id, platform: 'instagram', postType: 'feed', caption: `Waiting 1 ${randomUUID()}`, media: [{ position: 0, mediaType: 'image', url: api.image() }], scheduledFor: due }),
      await api.create(alice, { socialAccountId: instagram.id, platform: 'instagram', postType: 'feed', caption: `Waiting 2 ${randomUUID()}`, media: [{ position: 0, mediaType: 'image', url: api.image() }], scheduledFor: due }),
    ];
    // The user changes their Facebook password: every token of theirs dies, Meta tells nobody.
    await sandboxControl(stack.sandbox.baseUrl, 'POST', '/tokens/invalidate', { subjectId: ALICE, reason: 'password_changed' });

    const failed = await Promise.all(posts.map((post) => api.settled(alice, post.id, 'failed', 60_000)));
    for (const post of failed) expect(post.errorMessage).toMatch(/reconnect/i);
    expect((await api.instagramMedia(BAKERY_IG)).filter((item) => (item.caption ?? '').startsWith('Waiting'))).toEqual([]);

    await api.connectFacebook(alice);
    const retried = await api.request(alice, 'POST', `/v1/accounts/${instagram.id}/posts/retry`, {});
    expect([200, 202], retried.body).toContain(retried.statusCode);
    const published = await Promise.all(posts.map((post) => api.settled(alice, post.id, 'published', 60_000)));
    const media = await api.instagramMedia(BAKERY_IG);
    for (const post of published) expect(media.filter((item) => item.id === post.platformPostId)).toHaveLength(1);
  });
});
