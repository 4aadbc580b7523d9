import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type World, buildPublisher, createWorld, eventually, sandboxControl, typesOf } from './engine-helpers.ts';

const HOUR = 3_600_000;

describe('publishing engine: Meta faults, waits, retries, quota, lateness and revoked tokens', () => {
  let world: World;
  let publisher: FastifyInstance;
  let captions = 0;
  const caption = (what: string) => `${what} ${(captions += 1)}`;
  const control = <T = Record<string, unknown>>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown) => sandboxControl<T>(world.sandbox.baseUrl, method, path, body);
  const mediaWithCaption = async (text: string) => (await world.publishedMedia()).filter((item) => item.caption === text);

  beforeAll(async () => {
    world = await createWorld('engine_faults');
    ({ app: publisher } = await buildPublisher(world.environment({ PUBLISHER_RETRY_BASE_DELAY_MS: '50', PUBLISHER_RETRY_MAX_DELAY_MS: '100' })));
    await world.observe();
  });
  afterAll(async () => {
    await publisher?.close();
    await world?.close();
  });
  beforeEach(async () => {
    await control('DELETE', '/faults');
    await control('PATCH', '/settings', { imageProcessingMs: 100, videoProcessingMs: 200, publishQuota: 1000, containersPerDay: 400 });
  });

  it('an error answered after media_publish was applied ends published once (reconciled, not published again)', async () => {
    await control('POST', '/faults', { operation: 'instagram.media-publish', kind: 'error-after-apply', error: { preset: 'action-blocked' }, times: 1 });
    const text = caption('Applied anyway');
    const id = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: text });
    const row = await world.settled(id);
    expect(row.status, row.error_message ?? '').toBe('published');
    const media = await mediaWithCaption(text);
    expect(media).toEqual([expect.objectContaining({ id: row.platform_post_id, containerId: row.container_id })]);
    await eventually(() => (typesOf(world.eventsOf(id)).includes('post.published') ? true : undefined), 'post.published');
    expect(typesOf(world.eventsOf(id))).toEqual(['post.publishing', 'post.retrying', 'post.publishing', 'post.published']);
  });

  it('a connection dropped after media_publish was applied ends published once', async () => {
    await control('POST', '/faults', { operation: 'instagram.media-publish', kind: 'drop-after-apply', times: 1 });
    const text = caption('Dropped after apply');
    const id = await world.insertPost({ postType: 'carousel', media: [{ mediaType: 'image', url: world.image() }, { mediaType: 'image', url: world.image('w=1080&h=1080') }], caption: text });
    const row = await world.settled(id);
    expect(row.status, row.error_message ?? '').toBe('published');
    expect(await mediaWithCaption(text)).toEqual([expect.objectContaining({ id: row.platform_post_id })]);
  });

  it('a live post whose permalink Meta will not give is published without it, never retried or failed', async () => {
    await control('POST', '/faults', { operation: 'instagram-media.get', kind: 'error', error: { preset: 'service-error' }, times: 50 });
    const text = caption('No permalink');
    const id = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: text });
    const row = await world.settled(id);
    expect(row.status, row.error_message ?? '').toBe('published');
    expect(row.platform_url).toBeNull();
    expect(row.retry_count).toBe(0);
    expect(await mediaWithCaption(text)).toEqual([expect.objectContaining({ id: row.platform_post_id })]);
  });

  it('a container stuck in progress is looked at again without holding a worker, then published once it finishes', async () => {
    await control('PATCH', '/settings', { imageProcessingMs: 10 * 60_000 });
    const text = caption('Slow container');
    const id = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: text });
    const waiting = await eventually(async () => {
      const row = await world.postRow(id);
      return row.status === 'processing' && typeof row.publish_state.container === 'string' && Number(row.publish_state.polls) >= 2 && row.claimed_by === null ? row : undefined;
    }, 'the post to wait for its container, unclaimed');
    expect(await mediaWithCaption(text)).toEqual([]);
    await control('POST', '/clock', { advanceMs: 10 * 60_000 });
    const row = await world.settled(id);
    expect(row.status).toBe('published');
    expect(row.container_id).toBe(waiting.publish_state.container);
    expect(await mediaWithCaption(text)).toHaveLength(1);
  });

  it('a container that expired is replaced by a new one, and only the new one is published', async () => {
    await control('PATCH', '/settings', { imageProcessingMs: 48 * HOUR });
    const text = caption('Expired container');
    const id = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: text });
    const first = await eventually(async () => {
      const container = (await world.postRow(id)).publish_state.container;
      return typeof container === 'string' ? container : undefined;
    }, 'the first container');
    await control('PATCH', '/settings', { imageProcessingMs: 100 });
    await control('POST', '/clock', { advanceMs: 25 * HOUR });
    const row = await world.settled(id);
    expect(row.status, row.error_message ?? '').toBe('published');
    expect(row.container_id).not.toBe(first);
    expect(await mediaWithCaption(text)).toEqual([expect.objectContaining({ containerId: row.container_id })]);
  });

  it('an error text with an empty status code fails the post at once with that text', async () => {
    await control('PATCH', '/settings', { imageProcessingMs: 10 * 60_000 });
    const id = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: caption('Empty status code') });
    const container = await eventually(async () => {
      const saved = (await world.postRow(id)).publish_state.container;
      return typeof saved === 'string' ? saved : undefined;
    }, 'the container');
    await control('POST', `/containers/${container}/fail`, { subcode: 2207001, emptyStatusCode: true });
    const row = await world.settled(id);
    expect(row.status).toBe('failed');
    expect(row.error_message).toBe('Error: Media upload has failed with error code 2207001');
    expect(row.retry_count).toBe(0);
  });

  it('a container in ERROR with a media subcode fails with what to change; an unknown upload error (2207053) gets a new container', async () => {
    await control('PATCH', '/settings', { imageProcessingMs: 10 * 60_000 });
    const bad = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: caption('Bad media') });
    const retried = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: caption('Upload failed') });
    const containerOf = (id: string) =>
      eventually(async () => {
        const saved = (await world.postRow(id)).publish_state.container;
        return typeof saved === 'string' ? saved : undefined;
      }, `the container of ${id}`);
    await control('POST', `/containers/${await containerOf(bad)}/fail`, { subcode: 2207026 });
    const failedContainer = await containerOf(retried);
    await control('PATCH', '/settings', { imageProcessingMs: 100 });
    await control('POST', `/containers/${failedContainer}/fail`, { subcode: 2207053 });
    const [badRow, retriedRow] = await Promise.all([world.settled(bad), world.settled(retried)]);
    expect(badRow.status).toBe('failed');
    expect(badRow.error_message).toBe(
      'The video was refused: use MP4 or MOV (H.264/HEVC, AAC), 3 s to 15 min for reels, 3 to 60 s for stories. (Instagram: Error: Media upload has failed with error code 2207026)',
    );
    expect(retriedRow.status, retriedRow.error_message ?? '').toBe('published');
    expect(retriedRow.container_id).not.toBe(failedContainer);
  });

  it('transient errors are retried with backoff (post.retrying each time), then the post publishes', async () => {
    await control('POST', '/faults', { operation: 'instagram.media.create', kind: 'error', error: { code: -1, subcode: 2207001, message: 'An unexpected error has occurred.' }, times: 2 });
    const text = caption('Transient');
    const id = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: text });
    const row = await world.settled(id);
    expect(row.status).toBe('published');
    expect(row.retry_count).toBe(2);
    await eventually(() => (typesOf(world.eventsOf(id)).includes('post.published') ? true : undefined), 'post.published');
    expect(typesOf(world.eventsOf(id))).toEqual(['post.publishing', 'post.retrying', 'post.publishing', 'post.retrying', 'post.publishing', 'post.published']);
    const retrying = world.eventsOf(id).filter((event) => event.headers.ce_type === 'post.retrying');
    expect(retrying.map((event) => event.data.attempt)).toEqual([1, 2]);
    expect(retrying[0]?.data).toMatchObject({ maxRetries: 3, error: { category: 'transient', code: -1, subcode: 2207001, retryable: true } });
    expect(await mediaWithCaption(text)).toHaveLength(1);
  });

  it('a post that keeps failing transiently fails after max_retries with the last reason', async () => {
    await control('POST', '/faults', { operation: 'instagram.media.create', kind: 'error', error: { code: -1, subcode: 2207001, message: 'An unexpected error has occurred.' }, times: 10 });
    const id = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: caption('Always failing'), maxRetries: 2 });
    const row = await world.settled(id);
    expect(row.status).toBe('failed');
    expect(row.retry_count).toBe(2);
    expect(row.error_message).toBe('Publishing gave up after 3 attempts. Last error: Meta is temporarily unavailable; we will retry.');
    const failed = await eventually(() => world.eventsOf(id).find((event) => event.headers.ce_type === 'post.failed'), 'post.failed');
    expect(failed.data).toMatchObject({ attempts: 3, error: { category: 'transient', retryable: false } });
  });

  it('a post over the account quota waits (never fails) and publishes when the window moves on', async () => {
    await control('PATCH', '/settings', { publishQuota: 1 });
    await control('POST', '/clock', { advanceMs: 25 * HOUR });
    const first = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: caption('Within quota') });
    expect((await world.settled(first)).status).toBe('published');
    const text = caption('Over quota');
    const id = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: text });
    await eventually(async () => {
      const { rows } = await world.worker.query<{ paused_reason: string | null; publishing_limit: { quotaUsage: number; quotaTotal: number } | null }>(
        `SELECT paused_reason, publishing_limit FROM publisher.accounts WHERE social_account_id = $1`,
        [world.account.socialAccountId],
      );
      return rows[0]?.paused_reason === 'quota' && rows[0].publishing_limit?.quotaTotal === 1 ? true : undefined;
    }, 'the account to wait for its quota');
    expect((await world.postRow(id)).status).toBe('processing');
    const metrics = await publisher.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/postwire_publisher_quota_waits_total\{platform="instagram",service="publisher"\} [1-9]/);
    await control('POST', '/clock', { advanceMs: 24 * HOUR + 1_000 });
    const row = await world.settled(id);
    expect(row.status, row.error_message ?? '').toBe('published');
    expect(await mediaWithCaption(text)).toHaveLength(1);
  });

  it('the 400-containers-a-day cap (here 1) makes the post wait for the window, not fail', async () => {
    await control('POST', '/clock', { advanceMs: 25 * HOUR });
    await control('PATCH', '/settings', { containersPerDay: 1 });
    const first = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: caption('Last container today') });
    expect((await world.settled(first)).status).toBe('published');
    const text = caption('Container tomorrow');
    const id = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: text });
    await eventually(async () => {
      const { rows } = await world.worker.query<{ paused_reason: string | null }>(`SELECT paused_reason FROM publisher.accounts WHERE social_account_id = $1`, [world.account.socialAccountId]);
      return rows[0]?.paused_reason === 'quota' ? true : undefined;
    }, 'the account to wait for its container window');
    expect((await world.postRow(id)).status).toBe('processing');
    await control('POST', '/clock', { advanceMs: 24 * HOUR + 1_000 });
    const row = await world.settled(id);
    expect(row.status, row.error_message ?? '').toBe('published');
    expect(row.retry_count).toBe(0);
    expect(await mediaWithCaption(text)).toHaveLength(1);
    await control('PATCH', '/settings', { containersPerDay: 400 });
  });

  it('a rate-limited account waits as long as Meta says (5 min without an estimate), without counting a retry, then publishes', async () => {
    await control('POST', '/faults', { operation: 'instagram.media.create', kind: 'error', error: { code: 80002, message: 'Application request limit reached', isTransient: true }, times: 1 });
    const text = caption('Rate limited');
    const id = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: text });
    const pausedForMs = await eventually(async () => {
      const { rows } = await world.worker.query<{ paused_reason: string | null; paused_ms: number }>(
        `SELECT paused_reason, (extract(epoch FROM paused_until - now()) * 1000)::int AS paused_ms FROM publisher.accounts WHERE social_account_id = $1`,
        [world.account.socialAccountId],
      );
      return rows[0]?.paused_reason === 'rate-limit' ? rows[0].paused_ms : undefined;
    }, 'the account to be paused for the rate limit');
    expect(pausedForMs).toBeGreaterThan(4 * 60_000);
    expect(pausedForMs).toBeLessThanOrEqual(5 * 60_000);
    expect((await world.postRow(id)).status).toBe('processing');
    // Five minutes pass.
    await world.worker.query(`UPDATE publisher.accounts SET paused_until = now() WHERE social_account_id = $1`, [world.account.socialAccountId]);
    await world.worker.query(`UPDATE publisher.social_media_posts SET next_attempt_at = now() WHERE id = $1`, [id]);
    const row = await world.settled(id);
    expect(row.status, row.error_message ?? '').toBe('published');
    expect(row.retry_count).toBe(0);
    expect(typesOf(world.eventsOf(id))).not.toContain('post.retrying');
    expect(await mediaWithCaption(text)).toHaveLength(1);
  });

  it('a media URL that stopped answering is caught before Meta is asked: retried, then failed naming it', async () => {
    const gone = `${world.sandbox.baseUrl}/_sandbox/media/status/404`;
    const id = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: gone }], caption: caption('Gone media'), maxRetries: 1 });
    const row = await world.settled(id);
    expect(row.status).toBe('failed');
    expect(row.error_message).toBe('Publishing gave up after 2 attempts. Last error: Before publishing, the media URL answered HTTP 404.');
    expect(row.publish_state).toEqual({});
    await eventually(() => (typesOf(world.eventsOf(id)).includes('post.failed') ? true : undefined), 'post.failed');
    expect(typesOf(world.eventsOf(id))).toEqual(['post.publishing', 'post.retrying', 'post.publishing', 'post.failed']);
  });

  it('a post past its time by more than the lateness fails with "missed its window"; one within it publishes at once', async () => {
    const scheduledFor = new Date(Date.now() - 2 * HOUR);
    const late = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: caption('Too late'), scheduledFor });
    const onTime = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: caption('A bit late'), scheduledFor: new Date(Date.now() - 30 * 60_000) });
    const [lateRow, onTimeRow] = await Promise.all([world.settled(late), world.settled(onTime)]);
    expect(lateRow.status).toBe('failed');
    expect(lateRow.error_message).toContain('missed its window');
    expect(lateRow.error_message).toContain(scheduledFor.toISOString());
    expect(onTimeRow.status).toBe('published');
    await eventually(() => (typesOf(world.eventsOf(late)).includes('post.failed') ? true : undefined), 'post.failed');
    expect(typesOf(world.eventsOf(late))).toEqual(['post.failed']);
  });

  it('a token revoked while posts are queued fails them with a reconnect message and marks the account expired', async () => {
    const revoked = await world.addAccount();
    await control('POST', '/tokens/invalidate', { token: revoked.token, reason: 'password_changed' });
    const ids = [
      await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: caption('Revoked 1'), socialAccountId: revoked.socialAccountId }),
      await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: caption('Revoked 2'), socialAccountId: revoked.socialAccountId }),
    ];
    const rows = await Promise.all(ids.map((id) => world.settled(id)));
    for (const row of rows) {
      expect(row.status).toBe('failed');
      expect(row.error_message).toMatch(/[Rr]econnect the account/);
    }
    const { rows: accounts } = await world.worker.query<{ status: string }>(`SELECT status FROM publisher.accounts WHERE social_account_id = $1`, [revoked.socialAccountId]);
    expect(accounts[0]?.status).toBe('expired');
    const failed = await eventually(() => {
      const events = ids.map((id) => world.eventsOf(id).find((event) => event.headers.ce_type === 'post.failed'));
      return events.every((event) => event !== undefined) ? events : undefined;
    }, 'post.failed for both');
    for (const event of failed) expect(event?.data).toMatchObject({ error: { category: 'token', retryable: false } });
  });

  it('exports the engine metrics: outcomes, Meta calls by outcome, lags and due-but-unclaimed posts', async () => {
    const metrics = (await publisher.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/postwire_publisher_outcomes_total\{platform="instagram",post_type="feed",outcome="published",service="publisher"\} [1-9]/);
    expect(metrics).toMatch(/postwire_publisher_meta_calls_total\{method="POST",outcome="ok",service="publisher"\} [1-9]/);
    expect(metrics).toMatch(/postwire_publisher_meta_calls_total\{method="POST",outcome="client-error",service="publisher"\} [1-9]/);
    expect(metrics).toMatch(/postwire_publisher_schedule_to_publish_seconds_count\{service="publisher",platform="instagram"\} [1-9]/);
    expect(metrics).toMatch(/postwire_publisher_claim_to_publish_seconds_count\{service="publisher",platform="instagram"\} [1-9]/);
    expect(metrics).toMatch(/postwire_publisher_due_unclaimed_posts\{service="publisher"\} \d+/);
  });
});
