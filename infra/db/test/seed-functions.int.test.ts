import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@postwire/testing';

// The seed's helper functions, trigger and checks, as the services' schemas implement them.
describe('seed functions, triggers and checks', () => {
  let database: TestDatabase;
  let db: pg.Client;
  const org = randomUUID();
  const user = randomUUID();

  beforeAll(async () => {
    database = await createTestDatabase('seed');
    db = new pg.Client({ connectionString: database.adminUrl });
    await db.connect();
    await db.query(`INSERT INTO organisations (id, name) VALUES ($1, 'Org')`, [org]);
    await db.query(`INSERT INTO users (id, organisation_id, email) VALUES ($1, $2, 'u@example.test')`, [user, org]);
  });

  afterAll(async () => {
    await db.end();
    await database.drop();
  });

  async function post(metrics: Record<string, number>, extra: Record<string, unknown> = {}): Promise<string> {
    const columns = { likes_count: 0, comments_count: 0, shares_count: 0, saves_count: 0, reach: 0, ...metrics, ...extra };
    const names = Object.keys(columns);
    const result = await db.query<{ id: string }>(
      `INSERT INTO publisher.social_media_posts
         (organisation_id, social_account_id, created_by, content_type, content_url, post_type, platform, ${names.join(', ')})
       VALUES ($1, $2, $3, 'image', 'https://cdn.example.test/p.jpg', 'feed', 'instagram', ${names.map((_, i) => `$${i + 4}`).join(', ')})
       RETURNING id`,
      [org, randomUUID(), user, ...Object.values(columns)],
    );
    const [row] = result.rows;
    if (!row) throw new Error('insert returned no row');
    return row.id;
  }

  const rate = async (id: string) =>
    (await db.query<{ rate: string }>('SELECT publisher.calculate_engagement_rate($1)::text AS rate', [id])).rows[0]?.rate;

  it('calculate_engagement_rate is engagement over reach, in percent, to two decimals', async () => {
    expect(await rate(await post({ likes_count: 10, comments_count: 2, shares_count: 1, saves_count: 0, reach: 300 }))).toBe('4.33');
  });

  it('calculate_engagement_rate is 0 without reach', async () => {
    expect(await rate(await post({ likes_count: 5 }))).toBe('0');
  });

  it('engagement above reach is a real rate, and one too large for DECIMAL(5,2) is capped so it can be stored', async () => {
    expect(await rate(await post({ likes_count: 150, reach: 100 }))).toBe('150.00');
    const viral = await post({ likes_count: 50_000, shares_count: 20_000, reach: 10 });
    expect(await rate(viral)).toBe('999.99');
    await db.query('UPDATE publisher.social_media_posts SET engagement_rate = publisher.calculate_engagement_rate(id) WHERE id = $1', [viral]);
    const stored = await db.query<{ engagement_rate: string }>('SELECT engagement_rate FROM publisher.social_media_posts WHERE id = $1', [viral]);
    expect(stored.rows[0]?.engagement_rate).toBe('999.99');
  });

  it('updated_at moves on every update', async () => {
    const id = await post({});
    await db.query(`UPDATE publisher.social_media_posts SET updated_at = now() - interval '1 day' WHERE id = $1`, [id]);
    await db.query(`UPDATE publisher.social_media_posts SET caption = 'edited' WHERE id = $1`, [id]);
    const row = await db.query<{ fresh: boolean }>(`SELECT updated_at > now() - interval '1 minute' AS fresh FROM publisher.social_media_posts WHERE id = $1`, [id]);
    expect(row.rows[0]?.fresh).toBe(true);
  });

  it('a queued post needs a schedule or a publish time', async () => {
    await expect(post({}, { status: 'queued' })).rejects.toThrow(/scheduled_or_published/);
    await expect(post({}, { status: 'queued', scheduled_for: new Date(Date.now() + 3_600_000) })).resolves.toBeTypeOf('string');
  });

  it('a caption longer than 2200 characters is refused', async () => {
    await expect(post({}, { caption: 'x'.repeat(2201) })).rejects.toThrow(/social_media_posts_caption_check/);
  });

  it('an account is unique per organisation, platform and platform account id', async () => {
    const insert = () =>
      db.query(
        `INSERT INTO accounts.social_media_accounts (organisation_id, platform, platform_account_id, access_token)
         VALUES ($1, 'facebook', 'page-1', 'enc:v1:k:a:b:c')`,
        [org],
      );
    await insert();
    await expect(insert()).rejects.toThrow(/duplicate key value violates unique constraint "social_media_accounts_organisation_id_platform_platform_acc/);
  });

  it('the host videos table carries the posting counters the publisher keeps', async () => {
    const video = await db.query<{ posted_to_social: boolean; post_count: number }>(
      `INSERT INTO social_media_videos (organisation_id, status, video_url) VALUES ($1, 'completed', 'https://cdn.example.test/v.mp4')
       RETURNING posted_to_social, post_count`,
      [org],
    );
    expect(video.rows[0]).toEqual({ posted_to_social: false, post_count: 0 });
  });
});
