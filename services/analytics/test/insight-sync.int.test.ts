import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevelopmentToken } from '@postwire/auth';
import { accountEvents, analyticsEvents, analyticsRequests, postEvents } from '@postwire/contracts';
import { type TokenCipher, createTokenCipher } from '@postwire/crypto';
import type { GraphClient } from '@postwire/graph';
import { type TestDatabase, addMember, createTestDatabase, sandboxControl, startMetaSandbox } from '@postwire/testing';
import { z } from 'zod';
import {
  BAKERY_IG,
  BAKERY_PAGE,
  HOUR_MS,
  buildAnalytics,
  connectAccount,
  eventually,
  metricSum,
  observeTopic,
  pageToken,
  publish,
  publishInstagram,
  sandboxGraph,
  testEnvironment,
} from './helpers.ts';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * HOUR_MS;
/** Past an offset by more than its spread (at most a minute in these tests). */
const PAST_SPREAD_MS = 2 * MINUTE_MS;
const JWT_SECRET = 'analytics-test-shared-secret-32-characters';

describe('insight syncs against the Meta sandbox, two instances, real Kafka and Postgres', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  let sandbox: Awaited<ReturnType<typeof startMetaSandbox>>;
  let first: FastifyInstance;
  let second: FastifyInstance;
  let cipher: TokenCipher;
  let graph: GraphClient;
  let igToken: string;
  let observer: Awaited<ReturnType<typeof observeTopic>>;
  let owner: { userId: string; organisationId: string };
  let stranger: { userId: string; organisationId: string };
  const instagramAccount = randomUUID();
  const facebookAccount = randomUUID();
  /** The services' clock runs ahead of the real one by exactly as much as the sandbox clock was advanced. */
  let aheadMs = 0;
  const now = () => new Date(Date.now() + aheadMs);
  /** The offset (from the test's start) the sandbox and service clocks were last moved to. */
  let publishedPosts: { postId: string; mediaId: string; publishedAt: Date }[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('analytics_sync');
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    owner = await addMember(admin);
    stranger = await addMember(admin);
    sandbox = await startMetaSandbox();
    // No data lag and instant media processing: each test sets what it examines.
    await sandboxControl(sandbox.baseUrl, 'PATCH', '/settings', { insightsDelayMs: 0, imageProcessingMs: 0, videoProcessingMs: 0 });
    const environment = testEnvironment(database, sandbox.baseUrl);
    const built = await buildAnalytics(environment, now);
    first = built.app;
    second = (await buildAnalytics(environment, now)).app;
    cipher = createTokenCipher(built.config.keyRing);
    graph = sandboxGraph(sandbox.baseUrl);
    observer = await observeTopic(analyticsEvents.name);
    igToken = await pageToken(sandbox.baseUrl, BAKERY_PAGE);
    await connectAccount(first.log, cipher, { id: instagramAccount, organisationId: owner.organisationId, platform: 'instagram', platformAccountId: BAKERY_IG, pageId: BAKERY_PAGE, token: igToken });
    await connectAccount(first.log, cipher, { id: facebookAccount, organisationId: owner.organisationId, platform: 'facebook', platformAccountId: BAKERY_PAGE, pageId: BAKERY_PAGE, token: igToken });
    await eventually(async () => ((await admin.query('SELECT 1 FROM analytics.accounts')).rowCount === 2 ? true : undefined), 'both accounts in the projection');
  }, 120_000);

  afterAll(async () => {
    await observer?.stop();
    await second?.close();
    await first?.close();
    await sandbox?.close();
    await admin?.end();
    await database?.drop();
  });

  async function advance(ms: number): Promise<void> {
    await sandboxControl(sandbox.baseUrl, 'POST', '/clock', { advanceMs: ms });
    aheadMs += ms;
  }

  async function published(input: { platform: 'instagram' | 'facebook'; postType: 'feed' | 'reel' | 'story' | 'carousel'; platformPostId: string }): Promise<string> {
    const postId = randomUUID();
    const socialAccountId = input.platform === 'instagram' ? instagramAccount : facebookAccount;
    const publishedAt = now();
    await publish(
      first.log,
      postEvents,
      [
        {
          type: 'post.published',
          data: {
            postId,
            socialAccountId,
            platform: input.platform,
            postType: input.postType,
            contentId: null,
            platformPostId: input.platformPostId,
            platformUrl: null,
            mediaCount: input.platform === 'facebook' ? 0 : 1,
            publishedAt: publishedAt.toISOString(),
          },
          metadata: { organisationId: owner.organisationId },
        },
      ],
      '/postwire/publisher',
    );
    await eventually(async () => ((await admin.query('SELECT 1 FROM analytics.insight_syncs WHERE post_id = $1', [postId])).rowCount ? true : undefined), `syncs of ${postId}`);
    publishedPosts = [...publishedPosts, { postId, mediaId: input.platformPostId, publishedAt }];
    return postId;
  }

  type Snapshot = { id: string; likes_count: number; comments_count: number; shares_count: number; saves_count: number; reach: number; impressions: number; plays_count: number | null; engagement_rate: string; hours_since_published: number };
  const snapshots = async (postId: string) =>
    (await admin.query<Snapshot>(
      `SELECT id, likes_count, comments_count, shares_count, saves_count, reach, impressions, plays_count, engagement_rate, hours_since_published
         FROM analytics.social_media_analytics_snapshots WHERE post_id = $1 ORDER BY snapshot_at`,
      [postId],
    )).rows;
  const snapshotCount = async (postId: string, count: number) =>
    eventually(async () => {
      const rows = await snapshots(postId);
      return rows.length >= count ? rows : undefined;
    }, `${count} snapshots of ${postId}`);

  /** Both instances have run at least two more complete passes: whatever was due has been looked at. */
  async function twoMorePasses(): Promise<void> {
    const completed = (app: FastifyInstance) => metricSum(app, 'postwire_worker_passes_total', { worker: 'insight-sync', outcome: 'completed' });
    const [a, b] = [await completed(first), await completed(second)];
    await eventually(async () => ((await completed(first)) >= a + 2 && (await completed(second)) >= b + 2 ? true : undefined), 'two more sync passes on each instance');
  }


  it('syncs a feed image once at each offset (+1 h, +6 h, +24 h, +72 h, +7 d, +28 d) with two instances running', async () => {
    const media = await publishInstagram(graph, sandbox.baseUrl, BAKERY_IG, igToken, 'image');
    const postId = await published({ platform: 'instagram', postType: 'feed', platformPostId: media.mediaId });
    const offsets = [HOUR_MS, 6 * HOUR_MS, DAY_MS, 3 * DAY_MS, 7 * DAY_MS, 28 * DAY_MS];
    let at = 0;
    for (const [index, offset] of offsets.entries()) {
      await advance(offset + PAST_SPREAD_MS - at);
      at = offset + PAST_SPREAD_MS;
      await snapshotCount(postId, index + 1);
    }
    await twoMorePasses();
    const rows = await snapshots(postId);
    expect(rows.map((row) => row.hours_since_published)).toEqual([1, 6, 24, 72, 168, 672]);
    // Insights only grow in the sandbox, and views fill impressions; a feed image has no plays.
    for (const row of rows) {
      expect(row.plays_count).toBeNull();
      expect(row.impressions).toBeGreaterThan(0);
      expect(Number(row.engagement_rate)).toBeCloseTo(((row.likes_count + row.comments_count + row.shares_count + row.saves_count) / row.reach) * 100, 2);
    }
    expect(rows.map((row) => row.impressions)).toEqual([...rows.map((row) => row.impressions)].sort((a, b) => a - b));
    const syncs = await admin.query<{ status: string; snapshot_id: string }>('SELECT status, snapshot_id FROM analytics.insight_syncs WHERE post_id = $1', [postId]);
    expect(syncs.rows.map((row) => row.status)).toEqual(Array(6).fill('done'));
    // One post.metrics-synced per snapshot, keyed by the account, carrying the snapshot's figures.
    await observer.caughtUp();
    const events = observer.messages.filter((message) => (message.data as { postId?: string }).postId === postId);
    expect(events.map((event) => (event.data as { snapshotId: string }).snapshotId).sort()).toEqual(rows.map((row) => row.id).sort());
    expect(new Set(events.map((event) => event.key))).toEqual(new Set([instagramAccount]));
    const last = events.find((event) => (event.data as { snapshotId: string }).snapshotId === rows[5]?.id)?.data as { metrics: { impressions: number; plays: number | null }; hoursSincePublished: number };
    expect(last.metrics.impressions).toBe(rows[5]?.impressions);
    expect(last.hoursSincePublished).toBe(672);
  }, 180_000);

  it("asks a carousel as a whole (never its children), a reel for plays, and never a removed metric", async () => {
    const carousel = await publishInstagram(graph, sandbox.baseUrl, BAKERY_IG, igToken, 'carousel');
    const reel = await publishInstagram(graph, sandbox.baseUrl, BAKERY_IG, igToken, 'reel');
    expect(carousel.children.length).toBe(2);
    // A fault that does nothing but count: any insights call on a child would show as a hit.
    const faults: { id: number }[] = [];
    for (const child of carousel.children) faults.push(await sandboxControl<{ id: number }>(sandbox.baseUrl, 'POST', '/faults', { path: `/${child}/insights`, kind: 'latency', latencyMs: 0 }));
    const carouselPost = await published({ platform: 'instagram', postType: 'carousel', platformPostId: carousel.mediaId });
    const reelPost = await published({ platform: 'instagram', postType: 'reel', platformPostId: reel.mediaId });
    await advance(HOUR_MS + PAST_SPREAD_MS);
    const [carouselRow] = await snapshotCount(carouselPost, 1);
    const [reelRow] = await snapshotCount(reelPost, 1);
    expect(carouselRow?.plays_count).toBeNull();
    expect(reelRow?.plays_count).toBe(reelRow?.impressions);
    // What the sandbox (Meta) answers for views at this moment is what was stored as impressions.
    const views = await graph.get(`/${reel.mediaId}/insights`, { token: igToken, params: { metric: 'views' }, schema: z.object({ data: z.array(z.object({ values: z.array(z.object({ value: z.number() })) })) }) });
    expect(reelRow?.impressions).toBe(views.data[0]?.values[0]?.value);
    const listed = await sandboxControl<{ faults: { id: number; hits: number }[] } | { id: number; hits: number }[]>(sandbox.baseUrl, 'GET', '/faults');
    const all = Array.isArray(listed) ? listed : listed.faults;
    expect(all.filter((fault) => faults.some((mine) => mine.id === fault.id)).map((fault) => fault.hits)).toEqual([0, 0]);
    // The sandbox answers 100 (invalid-parameter) to any removed or inapplicable metric: none was ever asked.
    const refused = (await metricSum(first, 'postwire_analytics_meta_calls_total', { outcome: 'invalid-parameter' })) + (await metricSum(second, 'postwire_analytics_meta_calls_total', { outcome: 'invalid-parameter' }));
    expect(refused).toBe(0);
    expect((await metricSum(first, 'postwire_analytics_meta_calls_total', { outcome: 'ok' })) + (await metricSum(second, 'postwire_analytics_meta_calls_total', { outcome: 'ok' }))).toBeGreaterThan(0);
    await sandboxControl(sandbox.baseUrl, 'DELETE', '/faults');
  }, 120_000);

  it("reads a story until its last chance before 24 h, and never after", async () => {
    const story = await publishInstagram(graph, sandbox.baseUrl, BAKERY_IG, igToken, 'story');
    const postId = await published({ platform: 'instagram', postType: 'story', platformPostId: story.mediaId });
    // Asked at once, it has been seen by fewer than 5 accounts: Meta answers 10, which is "not available", not an error.
    await publish(first.log, analyticsRequests, [{ type: 'post.insights-refresh-requested', data: { postId, socialAccountId: instagramAccount }, metadata: { organisationId: owner.organisationId, actorId: owner.userId } }], '/postwire/gateway');
    const early = await eventually(async () => {
      const row = (await admin.query<{ status: string; outcome_reason: string }>(`SELECT status, outcome_reason FROM analytics.insight_syncs WHERE post_id = $1 AND kind = 'on-demand'`, [postId])).rows[0];
      return row?.status === 'due' ? undefined : row;
    }, 'the early read of the story');
    expect(early).toEqual({ status: 'unavailable', outcome_reason: 'fewer-than-5-viewers' });
    expect(await snapshots(postId)).toHaveLength(0);
    await advance(HOUR_MS + PAST_SPREAD_MS);
    await snapshotCount(postId, 1);
    await advance(5 * HOUR_MS);
    await snapshotCount(postId, 2);
    await advance(17 * HOUR_MS);
    const rows = await snapshotCount(postId, 3);
    expect(rows.map((row) => row.hours_since_published)).toEqual([1, 6, 23]);
    // Stories have no likes or saves; replies are their comments.
    expect(rows.every((row) => row.likes_count === 0 && row.saves_count === 0 && row.plays_count === null)).toBe(true);
    const syncs = await admin.query<{ offset_ms: string; status: string }>(`SELECT offset_ms, status FROM analytics.insight_syncs WHERE post_id = $1 AND kind = 'scheduled' ORDER BY offset_ms`, [postId]);
    expect(syncs.rows).toEqual([
      { offset_ms: String(HOUR_MS), status: 'done' },
      { offset_ms: String(6 * HOUR_MS), status: 'done' },
      { offset_ms: String(23 * HOUR_MS), status: 'done' },
    ]);
    await advance(3 * DAY_MS);
    await twoMorePasses();
    expect(await snapshots(postId)).toHaveLength(3);
  }, 120_000);

  it('reads a Facebook Page post through post_media_view and its reactions, comments and shares', async () => {
    const post = await graph.post(`/${BAKERY_PAGE}/feed`, { token: igToken, params: { message: 'fresh bread' }, schema: z.object({ id: z.string() }) });
    const postId = await published({ platform: 'facebook', postType: 'feed', platformPostId: post.id });
    await advance(HOUR_MS + PAST_SPREAD_MS);
    const [row] = await snapshotCount(postId, 1);
    const insights = await graph.get(`/${post.id}/insights`, {
      token: igToken,
      params: { metric: 'post_media_view,post_total_media_view_unique' },
      schema: z.object({ data: z.array(z.object({ name: z.string(), values: z.array(z.object({ value: z.number() })) })) }),
    });
    const value = (name: string) => insights.data.find((entry) => entry.name === name)?.values[0]?.value;
    expect(row?.impressions).toBe(value('post_media_view'));
    expect(row?.reach).toBe(value('post_total_media_view_unique'));
    expect(row?.likes_count).toBeGreaterThan(0);
    expect(row?.saves_count).toBe(0);
    expect(row?.plays_count).toBeNull();
  }, 120_000);

  it('reads a Facebook reel through its post (post_video_views), or through video_insights when the id names the video', async () => {
    const started = await graph.post(`/${BAKERY_PAGE}/video_reels`, { token: igToken, params: { upload_phase: 'start' }, schema: z.object({ video_id: z.string(), upload_url: z.string() }) });
    const upload = await fetch(started.upload_url, { method: 'POST', headers: { authorization: `OAuth ${igToken}`, file_url: `${sandbox.baseUrl}/_sandbox/media/sample.mp4?seconds=10&w=720&h=1280` } });
    expect(upload.ok).toBe(true);
    await graph.post(`/${BAKERY_PAGE}/video_reels`, {
      token: igToken,
      params: { upload_phase: 'finish', video_id: started.video_id, video_state: 'PUBLISHED', description: 'reel' },
      schema: z.object({ success: z.boolean() }),
    });
    const reelPost = await graph.get(`/${started.video_id}`, { token: igToken, params: { fields: 'post_id' }, schema: z.object({ post_id: z.string() }) });
    // What the publisher usually keeps (the post id), and what it keeps when Meta gave no post (the video id).
    const byPost = await published({ platform: 'facebook', postType: 'reel', platformPostId: reelPost.post_id });
    const postId = await published({ platform: 'facebook', postType: 'reel', platformPostId: started.video_id });
    await advance(HOUR_MS + PAST_SPREAD_MS);
    const [throughPost] = await snapshotCount(byPost, 1);
    const postInsights = await graph.get(`/${reelPost.post_id}/insights`, {
      token: igToken,
      params: { metric: 'post_media_view,post_video_views' },
      schema: z.object({ data: z.array(z.object({ name: z.string(), values: z.array(z.object({ value: z.number() })) })) }),
    });
    const postValue = (name: string) => postInsights.data.find((entry) => entry.name === name)?.values[0]?.value;
    expect(throughPost?.impressions).toBe(postValue('post_media_view'));
    expect(throughPost?.plays_count).toBe(postValue('post_video_views'));
    const [row] = await snapshotCount(postId, 1);
    const insights = await graph.get(`/${started.video_id}/video_insights`, {
      token: igToken,
      params: { metric: 'fb_reels_total_plays,post_impressions_unique' },
      schema: z.object({ data: z.array(z.object({ name: z.string(), values: z.array(z.object({ value: z.number() })) })) }),
    });
    const value = (name: string) => insights.data.find((entry) => entry.name === name)?.values[0]?.value;
    expect(row?.plays_count).toBe(value('fb_reels_total_plays'));
    expect(row?.impressions).toBe(value('fb_reels_total_plays'));
    expect(row?.reach).toBe(value('post_impressions_unique'));
    expect(row?.likes_count).toBeGreaterThan(0);
    const tracked = await admin.query<{ facebook_post_id: string | null }>('SELECT facebook_post_id FROM analytics.tracked_posts WHERE id = $1', [postId]);
    expect(tracked.rows[0]?.facebook_post_id).toBe(reelPost.post_id);
  }, 120_000);

  it('stops syncing a deleted post and removes its snapshots', async () => {
    const media = await publishInstagram(graph, sandbox.baseUrl, BAKERY_IG, igToken, 'image');
    const postId = await published({ platform: 'instagram', postType: 'feed', platformPostId: media.mediaId });
    await advance(HOUR_MS + PAST_SPREAD_MS);
    await snapshotCount(postId, 1);
    await publish(
      first.log,
      postEvents,
      [{ type: 'post.deleted', data: { postId, socialAccountId: instagramAccount, platform: 'instagram', reason: 'user-request', deletedFromPlatform: false, deletedAt: now().toISOString() }, metadata: { organisationId: owner.organisationId } }],
      '/postwire/publisher',
    );
    await eventually(async () => ((await snapshots(postId)).length === 0 ? true : undefined), 'the snapshots to be removed');
    expect((await admin.query('SELECT 1 FROM analytics.tracked_posts WHERE id = $1', [postId])).rowCount).toBe(0);
    expect((await admin.query('SELECT 1 FROM analytics.insight_syncs WHERE post_id = $1', [postId])).rowCount).toBe(0);
    await advance(6 * HOUR_MS);
    await twoMorePasses();
    expect(await snapshots(postId)).toHaveLength(0);
  }, 120_000);

  it('stops for good, with a reason, when the media was deleted on Instagram', async () => {
    const media = await publishInstagram(graph, sandbox.baseUrl, BAKERY_IG, igToken, 'image');
    const postId = await published({ platform: 'instagram', postType: 'feed', platformPostId: media.mediaId });
    await graph.delete(`/${media.mediaId}`, { token: igToken, schema: z.object({ success: z.boolean() }) });
    await advance(HOUR_MS + PAST_SPREAD_MS);
    const stopped = await eventually(async () => {
      const row = (await admin.query<{ syncs_stopped_reason: string | null }>('SELECT syncs_stopped_reason FROM analytics.tracked_posts WHERE id = $1', [postId])).rows[0];
      return row?.syncs_stopped_reason ?? undefined;
    }, 'the syncs to stop');
    expect(stopped).toBe('object-deleted');
    const statuses = await admin.query<{ status: string }>('SELECT DISTINCT status FROM analytics.insight_syncs WHERE post_id = $1', [postId]);
    expect(statuses.rows).toEqual([{ status: 'stopped' }]);
  }, 120_000);

  it('refreshes on demand once per cooldown', async () => {
    const media = await publishInstagram(graph, sandbox.baseUrl, BAKERY_IG, igToken, 'image');
    const postId = await published({ platform: 'instagram', postType: 'feed', platformPostId: media.mediaId });
    await advance(10 * MINUTE_MS);
    const ask = () =>
      publish(first.log, analyticsRequests, [{ type: 'post.insights-refresh-requested', data: { postId, socialAccountId: instagramAccount }, metadata: { organisationId: owner.organisationId, actorId: owner.userId } }], '/postwire/gateway');
    await ask();
    await snapshotCount(postId, 1);
    await ask();
    await eventually(async () => {
      const refused = (await metricSum(first, 'postwire_analytics_refresh_requests_total', { outcome: 'rate-limited' })) + (await metricSum(second, 'postwire_analytics_refresh_requests_total', { outcome: 'rate-limited' }));
      return refused >= 1 ? true : undefined;
    }, 'the second request to be refused inside the cooldown');
    await twoMorePasses();
    expect(await snapshots(postId)).toHaveLength(1);
    await advance(16 * MINUTE_MS);
    await ask();
    await snapshotCount(postId, 2);
    // Another organisation cannot refresh it (the request is dropped as for an unknown post).
    await publish(first.log, analyticsRequests, [{ type: 'post.insights-refresh-requested', data: { postId, socialAccountId: instagramAccount }, metadata: { organisationId: stranger.organisationId, actorId: stranger.userId } }], '/postwire/gateway');
    await advance(16 * MINUTE_MS);
    await twoMorePasses();
    expect(await snapshots(postId)).toHaveLength(2);
  }, 120_000);

  it('shows snapshots only to the post’s organisation, through the API and in SQL', async () => {
    const postId = publishedPosts[0]?.postId ?? '';
    const bearer = (member: { userId: string; organisationId: string }) => signDevelopmentToken({ secret: JWT_SECRET, ...member });
    const mine = await first.inject({ method: 'GET', url: `/v1/posts/${postId}/snapshots`, headers: { authorization: `Bearer ${await bearer(owner)}` } });
    expect(mine.statusCode).toBe(200);
    const series = mine.json<{ data: { hoursSincePublished: number }[] }>();
    expect(series.data.map((row) => row.hoursSincePublished)).toEqual([1, 6, 24, 72, 168, 672]);
    const theirs = await first.inject({ method: 'GET', url: `/v1/posts/${postId}/snapshots`, headers: { authorization: `Bearer ${await bearer(stranger)}` } });
    expect(theirs.statusCode).toBe(404);
    expect(theirs.headers['content-type']).toContain('application/problem+json');
    const summary = await first.inject({ method: 'GET', url: '/v1/analytics/summary?days=60', headers: { authorization: `Bearer ${await bearer(owner)}` } });
    expect(summary.statusCode).toBe(200);
    const groups = summary.json<{ groups: { platform: string; postType: string; current: { posts: number } }[] }>().groups;
    expect(groups.find((group) => group.platform === 'instagram' && group.postType === 'feed')?.current.posts).toBeGreaterThan(0);
    const strangers = await first.inject({ method: 'GET', url: '/v1/analytics/summary?days=60', headers: { authorization: `Bearer ${await bearer(stranger)}` } });
    expect(strangers.json<{ groups: unknown[] }>().groups).toEqual([]);
    const bad = await first.inject({ method: 'GET', url: '/v1/posts/not-a-uuid/snapshots', headers: { authorization: `Bearer ${await bearer(owner)}` } });
    expect(bad.statusCode).toBe(400);
    // In SQL, as the user-scoped role with each caller's claims: RLS decides.
    const asUser = async (member: { userId: string; organisationId: string }) => {
      const client = new pg.Client({ connectionString: database.urlFor('analytics', 'app') });
      await client.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SELECT set_config('request.jwt.claims', $1, true), set_config('request.jwt.transaction', extract(epoch FROM transaction_timestamp())::text, true)`, [JSON.stringify({ sub: member.userId })]);
        const rows = await client.query('SELECT id FROM analytics.social_media_analytics_snapshots WHERE post_id = $1', [postId]);
        await client.query('COMMIT');
        return rows.rowCount;
      } finally {
        await client.end();
      }
    };
    expect(await asUser(owner)).toBe(6);
    expect(await asUser(stranger)).toBe(0);
  }, 60_000);
  it("stops syncing an expired account's posts, or one whose token Meta refuses, until it is reconnected", async () => {
    const media = await publishInstagram(graph, sandbox.baseUrl, BAKERY_IG, igToken, 'image');
    const postId = await published({ platform: 'instagram', postType: 'feed', platformPostId: media.mediaId });
    await publish(
      first.log,
      accountEvents,
      [{ type: 'account.expired', data: { socialAccountId: instagramAccount, platform: 'instagram', reason: 'token-expired', expiredAt: now().toISOString() }, metadata: { organisationId: owner.organisationId } }],
      '/postwire/accounts',
    );
    await eventually(async () => ((await admin.query<{ status: string }>('SELECT status FROM analytics.accounts WHERE id = $1', [instagramAccount])).rows[0]?.status === 'expired' ? true : undefined), 'the account to expire');
    await advance(HOUR_MS + PAST_SPREAD_MS);
    await twoMorePasses();
    expect(await snapshots(postId)).toHaveLength(0);
    // Reconnected: the sync that waited runs.
    await connectAccount(first.log, cipher, { id: instagramAccount, organisationId: owner.organisationId, platform: 'instagram', platformAccountId: BAKERY_IG, pageId: BAKERY_PAGE, token: igToken });
    await snapshotCount(postId, 1);

    // Meta refuses the token (password changed): the account's syncs wait instead of failing.
    await sandboxControl(sandbox.baseUrl, 'POST', '/tokens/invalidate', { token: igToken, reason: 'password_changed' });
    await advance(5 * HOUR_MS);
    await eventually(async () => ((await admin.query<{ token_refused_at: Date | null }>('SELECT token_refused_at FROM analytics.accounts WHERE id = $1', [instagramAccount])).rows[0]?.token_refused_at ? true : undefined), 'the token to be marked refused');
    const waiting = await admin.query<{ status: string; attempts: number }>('SELECT status, attempts FROM analytics.insight_syncs WHERE post_id = $1 AND offset_ms = $2', [postId, 6 * HOUR_MS]);
    expect(waiting.rows).toEqual([{ status: 'due', attempts: 0 }]);
    igToken = await pageToken(sandbox.baseUrl, BAKERY_PAGE);
    await connectAccount(first.log, cipher, { id: instagramAccount, organisationId: owner.organisationId, platform: 'instagram', platformAccountId: BAKERY_IG, pageId: BAKERY_PAGE, token: igToken });
    await snapshotCount(postId, 2);
  }, 120_000);
});
