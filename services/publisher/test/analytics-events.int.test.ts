import { randomBytes, randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signDevelopmentToken } from '@postwire/auth';
import { loadConfig } from '@postwire/config';
import { analyticsEvents, postEvents } from '@postwire/contracts';
import { createEventProducer, createKafkaClient } from '@postwire/kafka';
import { type TestDatabase, addMember, createTestDatabase, eventually, kafkaTestEnvironment, observeTopic, uniqueName } from '@postwire/testing';
import app from '../src/app.ts';
import { configSchema } from '../src/config.ts';

const JWT_SECRET = 'publisher-analytics-test-secret-32-chars';
const DAY_MS = 86_400_000;

describe("the post's analytics columns follow the latest synced snapshot", () => {
  let database: TestDatabase;
  let admin: pg.Client;
  let publisher: FastifyInstance;
  let observer: Awaited<ReturnType<typeof observeTopic>>;
  let owner: { userId: string; organisationId: string };
  let stranger: { userId: string; organisationId: string };
  const account = randomUUID();

  beforeAll(async () => {
    database = await createTestDatabase('publisher_analytics');
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    owner = await addMember(admin);
    stranger = await addMember(admin);
    await admin.query(
      `INSERT INTO publisher.accounts (social_account_id, organisation_id, platform, account_type, platform_account_id, page_id, username, status, capabilities, access_token, last_event_at)
       VALUES ($1, $2, 'instagram', 'business', '17841400000000301', '1001000000000201', 'postwire.bakery', 'active', '{}', 'enc:v1:test', now())`,
      [account, owner.organisationId],
    );
    const config = loadConfig(configSchema, {
      PUBLISHER_DATABASE_URL: database.urlFor('publisher', 'app'),
      PUBLISHER_WORKER_DATABASE_URL: database.urlFor('publisher', 'worker'),
      ...kafkaTestEnvironment(),
      JWT_SECRET,
      TOKEN_ENCRYPTION_KEYS: `test-1:${randomBytes(32).toString('base64')}`,
      TOKEN_ENCRYPTION_ACTIVE_KEY: 'test-1',
    });
    publisher = Fastify({ logger: false });
    await publisher.register(app, { config });
    await publisher.ready();
    observer = await observeTopic(postEvents.name);
  }, 120_000);

  afterAll(async () => {
    await observer?.stop();
    await publisher?.close();
    await admin?.end();
    await database?.drop();
  });

  async function publishedPost(caption: string, publishedAt: Date): Promise<string> {
    const id = randomUUID();
    await admin.query(
      `INSERT INTO publisher.social_media_posts (id, organisation_id, social_account_id, created_by, content_type, content_url, caption, post_type, platform, status, published_at, platform_post_id)
       VALUES ($1, $2, $3, $4, 'image', 'https://cdn.postwire.test/a.jpg', $5, 'feed', 'instagram', 'published', $6, $7)`,
      [id, owner.organisationId, account, owner.userId, caption, publishedAt, `1790${Math.floor(Math.random() * 1e10)}`],
    );
    return id;
  }

  async function synced(postId: string, snapshotAt: Date, metrics: { likes: number; comments: number; shares: number; saves: number; reach: number; impressions: number; plays: number | null }) {
    const client = createKafkaClient({ brokers: inject('kafkaBrokers'), topicPrefix: inject('kafkaTopicPrefix'), clientId: uniqueName('publisher-analytics-test'), logger: publisher.log });
    const producer = createEventProducer(client, { source: '/postwire/analytics' });
    await producer.connect();
    try {
      await producer.publish(analyticsEvents, [
        {
          type: 'post.metrics-synced',
          data: { postId, socialAccountId: account, platform: 'instagram', postType: 'feed', platformPostId: '1790', snapshotId: randomUUID(), metrics, engagementRate: null, hoursSincePublished: 1, snapshotAt: snapshotAt.toISOString() },
          metadata: { organisationId: owner.organisationId },
        },
      ]);
    } finally {
      await producer.disconnect();
    }
  }

  type Columns = { likes_count: number; comments_count: number; shares_count: number; saves_count: number; reach: number; impressions: number; plays_count: number; engagement_rate: string; last_analytics_sync: Date; analytics_available: boolean };
  const columns = async (postId: string) =>
    (await admin.query<Columns>(
      `SELECT likes_count, comments_count, shares_count, saves_count, reach, impressions, plays_count, engagement_rate, last_analytics_sync, analytics_available
         FROM publisher.social_media_posts WHERE id = $1`,
      [postId],
    )).rows[0];
  const updates = (postId: string) => observer.messages.filter((message) => message.headers.ce_type === 'post.metrics-updated' && (message.data as { postId?: string }).postId === postId);

  it('applies a newer snapshot, recomputes engagement_rate with calculate_engagement_rate and emits post.metrics-updated', async () => {
    const postId = await publishedPost('bread', new Date(Date.now() - DAY_MS));
    const first = new Date(Date.now() - 2 * 3_600_000);
    await synced(postId, first, { likes: 80, comments: 10, shares: 5, saves: 20, reach: 700, impressions: 1000, plays: null });
    const row = await eventually(async () => {
      const current = await columns(postId);
      return current?.analytics_available ? current : undefined;
    }, 'the columns to be applied');
    expect(row).toMatchObject({ likes_count: 80, comments_count: 10, shares_count: 5, saves_count: 20, reach: 700, impressions: 1000, plays_count: 0, engagement_rate: '16.43' });
    expect(row?.last_analytics_sync.toISOString()).toBe(first.toISOString());
    const [event] = await eventually(async () => (updates(postId).length === 1 ? updates(postId) : undefined), 'post.metrics-updated');
    expect(event?.key).toBe(account);
    expect(event?.data).toMatchObject({ postId, socialAccountId: account, engagementRate: 16.43, syncedAt: first.toISOString(), metrics: { likes: 80, reach: 700 } });

    // An older snapshot arriving late changes nothing and announces nothing.
    await synced(postId, new Date(first.getTime() - 3_600_000), { likes: 1, comments: 1, shares: 1, saves: 1, reach: 1, impressions: 1, plays: null });
    // A newer one where engagement exceeds reach: the rate passes 100 %.
    const later = new Date(first.getTime() + 3_600_000);
    await synced(postId, later, { likes: 50, comments: 5, shares: 10, saves: 5, reach: 20, impressions: 40, plays: null });
    await eventually(async () => ((await columns(postId))?.likes_count === 50 ? true : undefined), 'the newer snapshot');
    await observer.caughtUp();
    expect(updates(postId)).toHaveLength(2);
    expect(await columns(postId)).toMatchObject({ likes_count: 50, reach: 20, engagement_rate: '350.00' });
    expect(updates(postId)[1]?.data).toMatchObject({ engagementRate: 350, syncedAt: later.toISOString() });

    // Beyond what DECIMAL(5,2) holds: capped, not an overflow.
    await synced(postId, new Date(later.getTime() + 3_600_000), { likes: 20_000, comments: 0, shares: 0, saves: 0, reach: 1, impressions: 1, plays: 12 });
    await eventually(async () => ((await columns(postId))?.likes_count === 20_000 ? true : undefined), 'the capped snapshot');
    expect(await columns(postId)).toMatchObject({ engagement_rate: '999.99', plays_count: 12 });
  }, 60_000);

  it('answers the seed query 3 (top posts by engagement rate) for the caller’s organisation only', async () => {
    const low = await publishedPost('low', new Date(Date.now() - 2 * DAY_MS));
    const high = await publishedPost('high', new Date(Date.now() - 3 * DAY_MS));
    const old = await publishedPost('old', new Date(Date.now() - 40 * DAY_MS));
    await synced(low, new Date(), { likes: 1, comments: 0, shares: 0, saves: 0, reach: 100, impressions: 120, plays: null });
    await synced(high, new Date(), { likes: 60, comments: 0, shares: 0, saves: 0, reach: 100, impressions: 120, plays: null });
    await synced(old, new Date(), { likes: 99, comments: 0, shares: 0, saves: 0, reach: 100, impressions: 120, plays: null });
    await eventually(async () => ((await columns(old))?.analytics_available && (await columns(low))?.analytics_available && (await columns(high))?.analytics_available ? true : undefined), 'all three applied');
    const bearer = async (member: { userId: string; organisationId: string }) => `Bearer ${await signDevelopmentToken({ secret: JWT_SECRET, ...member })}`;
    const answer = await publisher.inject({ method: 'GET', url: '/v1/analytics/top-posts?days=30&limit=10', headers: { authorization: await bearer(owner) } });
    expect(answer.statusCode).toBe(200);
    const data = answer.json<{ data: { id: string; caption: string; engagementRate: number; username: string }[] }>().data;
    expect(data.map((post) => post.caption)).toEqual(['bread', 'high', 'low']);
    expect(data[1]).toMatchObject({ id: high, engagementRate: 60, username: 'postwire.bakery' });
    const limited = await publisher.inject({ method: 'GET', url: '/v1/analytics/top-posts?days=30&limit=1', headers: { authorization: await bearer(owner) } });
    expect(limited.json<{ data: unknown[] }>().data).toHaveLength(1);
    const theirs = await publisher.inject({ method: 'GET', url: '/v1/analytics/top-posts', headers: { authorization: await bearer(stranger) } });
    expect(theirs.json<{ data: unknown[] }>().data).toEqual([]);
    const bad = await publisher.inject({ method: 'GET', url: '/v1/analytics/top-posts?days=0', headers: { authorization: await bearer(owner) } });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    const anonymous = await publisher.inject({ method: 'GET', url: '/v1/analytics/top-posts' });
    expect(anonymous.statusCode).toBe(401);
  }, 60_000);
});
