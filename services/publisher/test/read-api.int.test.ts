import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authEnvironment, authPlugin, cachedOrganisationOf, createJwtVerifier, signDevelopmentToken } from '@postwire/auth';
import { loadConfig } from '@postwire/config';
import { PostList, PostResource } from '@postwire/api';
import { createOrganisationLookup } from '@postwire/db';
import { databasePlugin, serviceKit, zodSchemasPlugin } from '@postwire/service-kit';
import { type TestDatabase, addMember, createTestDatabase } from '@postwire/testing';
import { contentRoutes } from '../src/routes/content.ts';
import { postRoutes } from '../src/routes/posts.ts';

const secret = 'publisher-read-api-test-secret-32-chars';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('publisher read API, as publisher_app with the caller’s claims', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  let app: FastifyInstance;
  let a: { userId: string; organisationId: string };
  let b: { userId: string; organisationId: string };
  let tokenA: string;
  let tokenB: string;
  const accountA = randomUUID();
  const pageA = randomUUID();
  const accountB = randomUUID();
  const now = Date.now();
  const ids = { draft: randomUUID(), reel: randomUUID(), farPage: randomUUID(), published: randomUUID(), unscheduled: randomUUID(), deleted: randomUUID(), failed: randomUUID(), theirs: randomUUID() };
  const videos = { older: randomUUID(), posted: randomUUID(), pending: randomUUID(), noUrl: randomUUID(), newer: randomUUID(), theirs: randomUUID() };

  async function insertPost(id: string, owner: { userId: string; organisationId: string }, values: { account: string; status: string; postType?: string; platform?: string; scheduledFor?: number | null; publishedAt?: number | null }) {
    const platform = values.platform ?? 'instagram';
    await admin.query(
      `INSERT INTO publisher.social_media_posts
         (id, organisation_id, social_account_id, created_by, content_type, content_url, caption, post_type, platform, status, scheduled_for, published_at, facebook_format, hashtags)
       VALUES ($1, $2, $3, $4, 'image', 'https://cdn.example/a.jpg', $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        id, owner.organisationId, values.account, owner.userId, `post ${id.slice(0, 8)}`, values.postType ?? 'feed', platform, values.status,
        values.scheduledFor == null ? null : new Date(values.scheduledFor), values.publishedAt == null ? null : new Date(values.publishedAt),
        platform === 'facebook' ? 'photo' : null, ['bread'],
      ],
    );
  }

  beforeAll(async () => {
    database = await createTestDatabase('publisher_read');
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    a = await addMember(admin);
    b = await addMember(admin);
    await insertPost(ids.draft, a, { account: accountA, status: 'draft', scheduledFor: now + DAY });
    await insertPost(ids.reel, a, { account: accountA, status: 'queued', postType: 'reel', scheduledFor: now + 2 * DAY });
    await insertPost(ids.farPage, a, { account: pageA, status: 'queued', platform: 'facebook', scheduledFor: now + 10 * DAY });
    await insertPost(ids.published, a, { account: accountA, status: 'published', scheduledFor: now - DAY - HOUR, publishedAt: now - DAY });
    await insertPost(ids.unscheduled, a, { account: accountA, status: 'draft' });
    await insertPost(ids.deleted, a, { account: accountA, status: 'deleted', scheduledFor: now + 3 * DAY });
    await insertPost(ids.failed, a, { account: accountA, status: 'failed', scheduledFor: now - 2 * HOUR });
    await insertPost(ids.theirs, b, { account: accountB, status: 'queued', scheduledFor: now + DAY });
    await admin.query(
      `INSERT INTO publisher.post_media (post_id, organisation_id, position, media_type, url, cover_url, thumb_offset_ms)
       VALUES ($1, $2, 0, 'video', 'https://cdn.example/r.mp4', 'https://cdn.example/c.jpg', 1500)`,
      [ids.reel, a.organisationId],
    );
    const video = (id: string, organisationId: string, status: string, url: string | null, posted: boolean, ageHours: number) =>
      admin.query(
        `INSERT INTO social_media_videos (id, organisation_id, prompt, video_url, thumbnail_url, mode, status, posted_to_social, created_at)
         VALUES ($1, $2, 'a prompt', $3, 'https://cdn.example/t.jpg', 'standard', $4, $5, $6)`,
        [id, organisationId, url, status, posted, new Date(now - ageHours * HOUR)],
      );
    await video(videos.older, a.organisationId, 'completed', 'https://cdn.example/1.mp4', false, 3);
    await video(videos.posted, a.organisationId, 'completed', 'https://cdn.example/2.mp4', true, 2);
    await video(videos.pending, a.organisationId, 'pending', 'https://cdn.example/3.mp4', false, 2);
    await video(videos.noUrl, a.organisationId, 'completed', null, false, 2);
    await video(videos.newer, a.organisationId, 'completed', 'https://cdn.example/5.mp4', false, 1);
    await video(videos.theirs, b.organisationId, 'completed', 'https://cdn.example/6.mp4', false, 1);

    app = Fastify();
    await app.register(serviceKit, { service: 'publisher' });
    await app.register(zodSchemasPlugin);
    await app.register(databasePlugin, { connectionUri: database.urlFor('publisher', 'app') });
    await app.register(authPlugin, { verify: createJwtVerifier(loadConfig(authEnvironment, { JWT_SECRET: secret })), organisationOf: cachedOrganisationOf(createOrganisationLookup(app.db)) });
    await app.register(postRoutes, { prefix: '/v1' });
    await app.register(contentRoutes, { prefix: '/v1' });
    await app.ready();
    tokenA = `Bearer ${await signDevelopmentToken({ secret, userId: a.userId, organisationId: a.organisationId })}`;
    tokenB = `Bearer ${await signDevelopmentToken({ secret, userId: b.userId, organisationId: b.organisationId })}`;
  });

  afterAll(async () => {
    await app?.close();
    await admin?.end();
    await database?.drop();
  });

  const get = (url: string, authorization = tokenA) => app.inject({ url, headers: { authorization } });
  const listIds = async (url: string, authorization = tokenA) => {
    const response = await get(url, authorization);
    expect(response.statusCode).toBe(200);
    return (response.json().data as { id: string }[]).map((post) => post.id);
  };
  const at = (offset: number) => encodeURIComponent(new Date(now + offset).toISOString());

  it('answers the seed’s query 2: drafts and queued posts of the next 7 days, soonest first', async () => {
    expect(await listIds(`/v1/posts?status=draft,queued&from=${at(0)}&to=${at(7 * DAY)}`)).toEqual([ids.draft, ids.reel]);
  });

  it('lists by the post’s time (published_at once published, creation for a draft without one), deleted posts only when asked', async () => {
    expect(await listIds('/v1/posts')).toEqual([ids.published, ids.failed, ids.unscheduled, ids.draft, ids.reel, ids.farPage]);
    expect(await listIds('/v1/posts?status=deleted')).toEqual([ids.deleted]);
  });

  it('pages with a cursor: every post once, in order, the last page says so', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const response = await get(`/v1/posts?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      const body = response.json() as { data: { id: string }[]; nextCursor: string | null };
      seen.push(...body.data.map((post) => post.id));
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([ids.published, ids.failed, ids.unscheduled, ids.draft, ids.reel, ids.farPage]);
  });

  it('filters by account, platform, type, and a window on published_at for published posts', async () => {
    expect(await listIds(`/v1/posts?account=${pageA}`)).toEqual([ids.farPage]);
    expect(await listIds('/v1/posts?platform=facebook')).toEqual([ids.farPage]);
    expect(await listIds('/v1/posts?type=reel')).toEqual([ids.reel]);
    expect(await listIds(`/v1/posts?status=published&from=${at(-DAY - 1000)}&to=${at(0)}`)).toEqual([ids.published]);
    // Its scheduled time was an hour earlier; the window on published_at leaves it out.
    expect(await listIds(`/v1/posts?status=published&from=${at(-2 * DAY)}&to=${at(-DAY - 1000)}`)).toEqual([]);
  });

  it('returns one post in the API shape, media included', async () => {
    const response = await get(`/v1/posts/${ids.reel}`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      id: ids.reel,
      organisationId: a.organisationId,
      socialAccountId: accountA,
      createdBy: a.userId,
      platform: 'instagram',
      postType: 'reel',
      facebookFormat: null,
      status: 'queued',
      content: { caption: `post ${ids.reel.slice(0, 8)}`, hashtags: ['bread'], media: [{ position: 0, mediaType: 'video', url: 'https://cdn.example/r.mp4', coverUrl: 'https://cdn.example/c.jpg', thumbOffsetMs: 1500 }], collaborators: [], shareToFeed: false, trialParams: null },
      scheduledFor: new Date(now + 2 * DAY).toISOString(),
      retryCount: 0,
      maxRetries: 3,
      metrics: { likes: 0, engagementRate: null, available: false },
    });
  });

  it("answers the post's version as a strong ETag: its updated_at in microseconds, moving with every change", async () => {
    const version = async () =>
      (await admin.query<{ version: string }>(`SELECT (EXTRACT(EPOCH FROM updated_at) * 1000000)::bigint::text AS version FROM publisher.social_media_posts WHERE id = $1`, [ids.reel])).rows[0]?.version;
    const before = await get(`/v1/posts/${ids.reel}`);
    expect(before.headers.etag).toBe(`"${await version()}"`);
    await admin.query(`UPDATE publisher.social_media_posts SET reach = reach WHERE id = $1`, [ids.reel]);
    const after = await get(`/v1/posts/${ids.reel}`);
    expect(after.headers.etag).toBe(`"${await version()}"`);
    expect(after.headers.etag).not.toBe(before.headers.etag);
  });

  it('answers exactly the API contract: every field of a post, media items without their unset fields', async () => {
    await admin.query(
      `INSERT INTO publisher.post_media (post_id, organisation_id, position, media_type, url, alt_text, user_tags)
       VALUES ($1, $2, 0, 'image', 'https://cdn.example/a.jpg', 'a loaf', '[{"username":"baker","x":0.5,"y":0.25}]'),
              ($1, $2, 1, 'image', 'https://cdn.example/b.jpg', NULL, '[]')`,
      [ids.farPage, a.organisationId],
    );
    const one = await get(`/v1/posts/${ids.farPage}`);
    expect(one.headers['content-type']).toBe('application/json; charset=utf-8');
    const post = PostResource.parse(one.json());
    const { createdAt, updatedAt } = (await admin.query(`SELECT created_at AS "createdAt", updated_at AS "updatedAt" FROM publisher.social_media_posts WHERE id = $1`, [ids.farPage])).rows[0];
    expect(one.json()).toEqual({
      id: ids.farPage,
      organisationId: a.organisationId,
      socialAccountId: pageA,
      createdBy: a.userId,
      platform: 'facebook',
      postType: 'feed',
      facebookFormat: 'photo',
      status: 'queued',
      content: {
        caption: `post ${ids.farPage.slice(0, 8)}`,
        hashtags: ['bread'],
        media: [
          { position: 0, mediaType: 'image', url: 'https://cdn.example/a.jpg', altText: 'a loaf', userTags: [{ username: 'baker', x: 0.5, y: 0.25 }] },
          { position: 1, mediaType: 'image', url: 'https://cdn.example/b.jpg' },
        ],
        contentId: null,
        locationId: null,
        link: null,
        shareToFeed: false,
        trialParams: null,
        firstComment: null,
        collaborators: [],
      },
      scheduledFor: new Date(now + 10 * DAY).toISOString(),
      publishedAt: null,
      platformPostId: null,
      platformUrl: null,
      errorMessage: null,
      retryCount: 0,
      maxRetries: 3,
      metrics: { likes: 0, comments: 0, shares: 0, saves: 0, reach: 0, impressions: 0, plays: 0, engagementRate: null, available: false, lastSyncedAt: null },
      createdAt: (createdAt as Date).toISOString(),
      updatedAt: (updatedAt as Date).toISOString(),
    });
    const list = await get('/v1/posts?limit=2');
    expect(list.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(PostList.parse(list.json()).data).toHaveLength(2);
    expect(PostList.parse((await get(`/v1/posts?account=${pageA}`)).json()).data).toEqual([post]);
    await admin.query(`DELETE FROM publisher.post_media WHERE post_id = $1`, [ids.farPage]);
  });

  it('another organisation sees none of these posts and cannot read one by id', async () => {
    expect(await listIds('/v1/posts', tokenB)).toEqual([ids.theirs]);
    const foreign = await get(`/v1/posts/${ids.reel}`, tokenB);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.headers['content-type']).toMatch(/problem\+json/);
    expect(foreign.json()).toMatchObject({ status: 404, type: 'https://postwire.dev/problems/post-not-found' });
    expect((await get(`/v1/posts/${ids.theirs}`)).statusCode).toBe(404);
  });

  it('refuses bad input with a 4xx problem, and callers without a valid token', async () => {
    for (const url of ['/v1/posts?status=bogus', '/v1/posts?cursor=bm90LWEtY3Vyc29y', '/v1/posts?from=2026-03-01T09:00:00', '/v1/posts?limit=500', '/v1/posts/not-a-uuid']) {
      const response = await get(url);
      expect({ url, status: response.statusCode, type: response.headers['content-type'] }).toEqual({ url, status: 400, type: expect.stringMatching(/problem\+json/) });
    }
    expect((await app.inject('/v1/posts')).statusCode).toBe(401);
    const wrongOrganisation = `Bearer ${await signDevelopmentToken({ secret, userId: a.userId, organisationId: b.organisationId })}`;
    expect((await get('/v1/posts', wrongOrganisation)).statusCode).toBe(403);
  });

  it('answers the seed’s query 5: finished videos not posted yet, newest first, paged', async () => {
    const response = await get('/v1/content/unposted');
    expect(response.statusCode).toBe(200);
    expect(response.json().data).toEqual([
      { id: videos.newer, prompt: 'a prompt', videoUrl: 'https://cdn.example/5.mp4', thumbnailUrl: 'https://cdn.example/t.jpg', mode: 'standard', status: 'completed', createdAt: new Date(now - HOUR).toISOString() },
      expect.objectContaining({ id: videos.older }),
    ]);
    const first = (await get('/v1/content/unposted?limit=1')).json();
    expect(first.data.map((video: { id: string }) => video.id)).toEqual([videos.newer]);
    const second = (await get(`/v1/content/unposted?limit=1&cursor=${first.nextCursor}`)).json();
    expect(second).toEqual({ data: [expect.objectContaining({ id: videos.older })], nextCursor: null });
    expect((await get('/v1/content/unposted', tokenB)).json().data.map((video: { id: string }) => video.id)).toEqual([videos.theirs]);
  });

  describe('in SQL as publisher_app: RLS decides', () => {
    async function asUser<T>(userId: string | null, work: (client: pg.Client) => Promise<T>): Promise<T> {
      const client = new pg.Client({ connectionString: database.urlFor('publisher', 'app') });
      await client.connect();
      try {
        await client.query('BEGIN');
        if (userId !== null) {
          await client.query(
            `SELECT set_config('request.jwt.claims', $1, true), set_config('request.jwt.transaction', extract(epoch FROM transaction_timestamp())::text, true)`,
            [JSON.stringify({ sub: userId })],
          );
        }
        return await work(client);
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
        await client.end();
      }
    }

    it('a user of another organisation sees and changes none of the posts or their media', async () => {
      await asUser(b.userId, async (client) => {
        expect((await client.query(`SELECT id FROM publisher.social_media_posts WHERE organisation_id = $1`, [a.organisationId])).rowCount).toBe(0);
        expect((await client.query(`SELECT post_id FROM publisher.post_media`)).rowCount).toBe(0);
      });
      // publisher_app only reads (changes arrive as request events): no write gets as far as a policy.
      const writes = [
        [`UPDATE publisher.social_media_posts SET caption = 'taken' WHERE organisation_id = $1`, [a.organisationId]],
        [`UPDATE publisher.post_media SET url = 'https://evil.example/x.jpg'`, []],
        [`DELETE FROM publisher.social_media_posts WHERE id = $1`, [ids.draft]],
        [
          `INSERT INTO publisher.social_media_posts (organisation_id, social_account_id, created_by, content_type, content_url, post_type, platform)
           VALUES ($1, $2, $3, 'image', 'https://cdn.example/x.jpg', 'feed', 'instagram')`,
          [a.organisationId, accountA, b.userId],
        ],
      ] as const;
      for (const [statement, values] of writes) {
        await asUser(b.userId, async (client) => {
          await expect(client.query(statement, [...values])).rejects.toThrow(/permission denied/);
        });
      }
      expect((await admin.query(`SELECT count(*)::int AS n FROM publisher.social_media_posts WHERE organisation_id = $1 AND caption LIKE 'post %'`, [a.organisationId])).rows[0]).toEqual({ n: 7 });
    });

    it('the read functions set the claims for their own statement, and RLS, not their organisation argument, decides', async () => {
      const claims = (user: { userId: string; organisationId: string }) => JSON.stringify({ sub: user.userId, organisationId: user.organisationId });
      const page = `SELECT id FROM publisher.read_posts($1, $2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 50)`;
      const client = new pg.Client({ connectionString: database.urlFor('publisher', 'app') });
      await client.connect();
      try {
        expect((await client.query(page, [claims(a), a.organisationId])).rowCount).toBe(6);
        // The same connection, the next statement: the claims did not outlive the read.
        expect((await client.query(`SELECT id FROM publisher.social_media_posts`)).rowCount).toBe(0);
        expect((await client.query(`SELECT auth.uid() AS uid`)).rows).toEqual([{ uid: null }]);
        // Another organisation's user naming this organisation: the policies hide every post.
        expect((await client.query(page, [claims(b), a.organisationId])).rowCount).toBe(0);
        expect((await client.query(`SELECT post FROM publisher.read_post($1, $2, $3)`, [claims(b), a.organisationId, ids.reel])).rowCount).toBe(0);
        expect((await client.query(page, [JSON.stringify({ sub: randomUUID() }), a.organisationId])).rowCount).toBe(0);
        expect((await client.query(`SELECT post FROM publisher.read_post($1, $2, $3)`, [claims(a), a.organisationId, ids.reel])).rowCount).toBe(1);
      } finally {
        await client.end();
      }
    });

    it('the organisation’s own user sees its posts; without claims nobody sees anything; the projection and outbox stay closed', async () => {
      await asUser(a.userId, async (client) => {
        expect((await client.query(`SELECT id FROM publisher.social_media_posts`)).rowCount).toBe(7);
      });
      await asUser(null, async (client) => {
        expect((await client.query(`SELECT id FROM publisher.social_media_posts`)).rowCount).toBe(0);
      });
      for (const table of ['publisher.accounts', 'publisher.outbox', 'publisher.inbox']) {
        await asUser(a.userId, async (client) => {
          await expect(client.query(`SELECT 1 FROM ${table} LIMIT 1`)).rejects.toThrow(/permission denied/);
        });
      }
    });
  });
});
