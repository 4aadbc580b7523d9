import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postEvents } from '@postwire/contracts';
import { createTokenCipher } from '@postwire/crypto';
import type { GraphClient } from '@postwire/graph';
import { type TestDatabase, addMember, createTestDatabase, sandboxControl, startMetaSandbox } from '@postwire/testing';
import { HOUR_MS, STUDIO_IG, STUDIO_PAGE, buildAnalytics, connectAccount, eventually, metricSum, pageToken, publish, publishInstagram, sandboxGraph, testEnvironment } from './helpers.ts';

const PAST_SPREAD_MS = 2 * 60_000;

describe("staying under Meta's limits: slowing down as usage rises, pausing on a rate limit until access returns", () => {
  let database: TestDatabase;
  let admin: pg.Client;
  let sandbox: Awaited<ReturnType<typeof startMetaSandbox>>;
  let analytics: FastifyInstance;
  let graph: GraphClient;
  let token: string;
  let member: { userId: string; organisationId: string };
  const account = randomUUID();
  let aheadMs = 0;
  const now = () => new Date(Date.now() + aheadMs);

  beforeAll(async () => {
    database = await createTestDatabase('analytics_limits');
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    member = await addMember(admin);
    sandbox = await startMetaSandbox();
    await sandboxControl(sandbox.baseUrl, 'PATCH', '/settings', { insightsDelayMs: 0, imageProcessingMs: 0 });
    const built = await buildAnalytics(
      testEnvironment(database, sandbox.baseUrl, {
        ANALYTICS_SYNC_OFFSETS: '1h',
        ANALYTICS_USAGE_SLOW_DOWN_PERCENT: '50',
        ANALYTICS_USAGE_MAX_SLOW_DOWN_MS: '300',
        ANALYTICS_META_MAX_CALLS_PER_SECOND: '1000',
      }),
      now,
    );
    analytics = built.app;
    graph = sandboxGraph(sandbox.baseUrl);
    token = await pageToken(sandbox.baseUrl, STUDIO_PAGE);
    await connectAccount(analytics.log, createTokenCipher(built.config.keyRing), { id: account, organisationId: member.organisationId, platform: 'instagram', platformAccountId: STUDIO_IG, pageId: STUDIO_PAGE, token });
    await eventually(async () => ((await admin.query('SELECT 1 FROM analytics.accounts')).rowCount === 1 ? true : undefined), 'the account in the projection');
  }, 120_000);

  afterAll(async () => {
    await analytics?.close();
    await sandbox?.close();
    await admin?.end();
    await database?.drop();
  });

  async function advance(ms: number): Promise<void> {
    await sandboxControl(sandbox.baseUrl, 'POST', '/clock', { advanceMs: ms });
    aheadMs += ms;
  }

  async function publishPosts(count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let index = 0; index < count; index += 1) {
      const media = await publishInstagram(graph, sandbox.baseUrl, STUDIO_IG, token, 'image');
      const postId = randomUUID();
      ids.push(postId);
      await publish(
        analytics.log,
        postEvents,
        [{
          type: 'post.published',
          data: { postId, socialAccountId: account, platform: 'instagram', postType: 'feed', contentId: null, platformPostId: media.mediaId, platformUrl: null, mediaCount: 1, publishedAt: now().toISOString() },
          metadata: { organisationId: member.organisationId },
        }],
        '/postwire/publisher',
      );
    }
    await eventually(async () => ((await admin.query('SELECT 1 FROM analytics.insight_syncs WHERE post_id = ANY($1::uuid[])', [ids])).rowCount === count ? true : undefined), 'the syncs to be scheduled');
    return ids;
  }

  const snapshotsOf = async (ids: readonly string[]) =>
    (await admin.query<{ post_id: string; hours_since_published: number }>('SELECT post_id, hours_since_published FROM analytics.social_media_analytics_snapshots WHERE post_id = ANY($1::uuid[])', [ids])).rows;

  it('spaces calls out once the business use case usage passes the threshold, and stays under 100 %', async () => {
    const ids = await publishPosts(8);
    // Publishing made two calls per post on this account (container, publish): 16 of 32 is 50 %, where slowing starts.
    await sandboxControl(sandbox.baseUrl, 'PATCH', '/settings', { businessCallBudget: 32 });
    await advance(HOUR_MS + PAST_SPREAD_MS);
    await eventually(async () => ((await snapshotsOf(ids)).length === 8 ? true : undefined), 'all eight posts synced', { timeoutMs: 30_000 });
    const waited = await metricSum(analytics, 'postwire_analytics_limit_wait_seconds_total', { reason: 'slow-down' });
    expect(waited).toBeGreaterThan(0);
    const peak = await metricSum(analytics, 'postwire_analytics_meta_usage_peak_percent', { header: 'business' });
    expect(peak).toBeGreaterThanOrEqual(50);
    expect(peak).toBeLessThan(100);
    expect(await metricSum(analytics, 'postwire_analytics_meta_calls_total', { outcome: 'rate-limited' })).toBe(0);
  }, 120_000);

  it('pauses the account on a rate-limit error until Meta says access returns, then resumes', async () => {
    const [postId = ''] = await publishPosts(1);
    // The budget is spent: the next call answers 80002 with estimated_time_to_regain_access.
    await sandboxControl(sandbox.baseUrl, 'PATCH', '/settings', { businessCallBudget: 20 });
    await advance(HOUR_MS + PAST_SPREAD_MS);
    const paused = await eventually(async () => {
      const row = (await admin.query<{ paused_until: Date | null }>('SELECT paused_until FROM analytics.accounts WHERE id = $1', [account])).rows[0];
      return row?.paused_until ?? undefined;
    }, 'the account to be paused');
    // Meta's estimate: the oldest counted call (made about two hours ago) leaves the 24 h window in about 22 h.
    expect(paused.getTime() - now().getTime()).toBeGreaterThan(20 * HOUR_MS);
    const sync = (await admin.query<{ status: string; attempts: number; outcome_reason: string }>('SELECT status, attempts, outcome_reason FROM analytics.insight_syncs WHERE post_id = $1', [postId])).rows[0];
    expect(sync).toEqual({ status: 'due', attempts: 0, outcome_reason: 'rate-limited' });
    expect(await metricSum(analytics, 'postwire_analytics_rate_limit_pauses_total', { scope: 'account' })).toBe(1);
    // While paused, nothing is asked: the calls counter stands still over further passes.
    const calls = await metricSum(analytics, 'postwire_analytics_meta_calls_total');
    const passes = await metricSum(analytics, 'postwire_worker_passes_total', { worker: 'insight-sync', outcome: 'completed' });
    await eventually(async () => ((await metricSum(analytics, 'postwire_worker_passes_total', { worker: 'insight-sync', outcome: 'completed' })) >= passes + 3 ? true : undefined), 'three more passes');
    expect(await metricSum(analytics, 'postwire_analytics_meta_calls_total')).toBe(calls);
    expect(await snapshotsOf([postId])).toEqual([]);
    // Once the estimate has passed (the sandbox's window moved on too), the sync runs.
    await advance(paused.getTime() - now().getTime() + 60_000);
    const [snapshot] = await eventually(async () => {
      const rows = await snapshotsOf([postId]);
      return rows.length === 1 ? rows : undefined;
    }, 'the sync to resume');
    expect(snapshot?.hours_since_published).toBeGreaterThan(20);
  }, 120_000);
});
