import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { uniqueName } from '@postwire/testing';
import { type World, buildPublisher, createWorld, eventually, sandboxControl } from './engine-helpers.ts';

const SERVICE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** A publisher as its own process (`node src/server.ts`), so a test can kill it (SIGKILL: no graceful close). */
function spawnPublisher(environment: Record<string, string>): ChildProcess {
  // Topics and consumer groups of its own: a killed member would hold the shared groups until its session ends.
  const prefix = `${environment.KAFKA_TOPIC_PREFIX ?? ''}${uniqueName('crash')}.`;
  const child = spawn(process.execPath, ['src/server.ts'], {
    cwd: SERVICE_DIR,
    env: { ...process.env, ...environment, KAFKA_TOPIC_PREFIX: prefix, PUBLISHER_PORT: '0', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

describe('publishing engine: crashes and several instances never publish a post twice', () => {
  let world: World;
  const running: FastifyInstance[] = [];
  const children: ChildProcess[] = [];
  const control = <T = Record<string, unknown>>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown) => sandboxControl<T>(world.sandbox.baseUrl, method, path, body);
  const mediaWithCaption = async (text: string) => (await world.publishedMedia()).filter((item) => item.caption === text);
  const start = async (overrides: Record<string, string> = {}) => {
    const { app } = await buildPublisher(world.environment(overrides));
    running.push(app);
    return app;
  };

  beforeAll(async () => {
    world = await createWorld('engine_crash');
  });
  beforeEach(async () => {
    await control('DELETE', '/faults');
    await control('PATCH', '/settings', { imageProcessingMs: 100, videoProcessingMs: 200, publishQuota: 10_000 });
  });
  afterAll(async () => {
    for (const child of children) await kill(child);
    for (const app of running) await app.close();
    await world?.close();
  });

  it('a publisher killed right after creating the container: a fresh instance publishes that container, once', async () => {
    await control('PATCH', '/settings', { imageProcessingMs: 10 * 60_000 });
    const child = spawnPublisher(world.environment());
    children.push(child);
    const text = 'Killed after the container';
    const id = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: text });
    const container = await eventually(
      async () => {
        const saved = (await world.postRow(id)).publish_state.container;
        return typeof saved === 'string' ? saved : undefined;
      },
      'the container id to be saved',
      { timeoutMs: 60_000 },
    );
    await kill(child);
    await control('POST', '/clock', { advanceMs: 10 * 60_000 });
    await start();
    const row = await world.settled(id);
    expect(row.status, row.error_message ?? '').toBe('published');
    expect(row.container_id).toBe(container);
    expect(await mediaWithCaption(text)).toEqual([expect.objectContaining({ id: row.platform_post_id, containerId: container })]);
  });

  it('a publisher killed after media_publish was sent (and applied): a fresh instance reconciles and publishes nothing again', async () => {
    // Meta applies the publish, then the answer never comes: the process dies while it waits.
    await control('POST', '/faults', { operation: 'instagram.media-publish', kind: 'timeout-after-apply', holdMs: 120_000, times: 1 });
    const child = spawnPublisher(world.environment({ GRAPH_TIMEOUT_MS: '60000', PUBLISHER_ENGINE_ENABLED: 'true' }));
    children.push(child);
    for (const app of running) await app.close();
    running.length = 0;
    const text = 'Killed after media_publish';
    const id = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: text, firstComment: 'First!' });
    await eventually(
      async () => {
        const row = await world.postRow(id);
        return typeof row.publish_state.publishSentAt === 'string' && (await mediaWithCaption(text)).length === 1 ? true : undefined;
      },
      'media_publish to be sent and applied',
      { timeoutMs: 60_000 },
    );
    await kill(child);
    await control('DELETE', '/faults');
    await start();
    const row = await world.settled(id);
    expect(row.status, row.error_message ?? '').toBe('published');
    const media = await mediaWithCaption(text);
    expect(media).toEqual([expect.objectContaining({ id: row.platform_post_id, comments: ['First!'] })]);
  });

  it('a post due at a precise moment is claimed at that moment, not at the next timer pass', async () => {
    for (const app of running) await app.close();
    running.length = 0;
    await start({ PUBLISHER_CLAIM_INTERVAL_MS: '3000' });
    const scheduledFor = new Date(Date.now() + 4_000);
    const id = await world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: 'On the dot', scheduledFor });
    const row = await world.settled(id);
    expect(row.status, row.error_message ?? '').toBe('published');
    const lagMs = (row.published_at?.getTime() ?? Infinity) - scheduledFor.getTime();
    expect(lagMs).toBeGreaterThanOrEqual(0);
    // The post's own Meta calls against the local sandbox take a few ms each; a timer-only engine would lag by up to 3 s.
    expect(lagMs).toBeLessThan(1_500);
  });

  it('claims in turns across organisations: a small organisation is not stuck behind a large one\'s backlog', async () => {
    for (const app of running) await app.close();
    running.length = 0;
    // Containers ready at once: each post is one step, so claim order is publish order.
    await control('PATCH', '/settings', { imageProcessingMs: 0 });
    const small = { organisationId: randomUUID(), userId: randomUUID() };
    await world.admin.query(`INSERT INTO public.organisations (id, name) VALUES ($1, 'small')`, [small.organisationId]);
    await world.admin.query(`INSERT INTO public.users (id, organisation_id, email) VALUES ($1, $2, 'small@example.test')`, [small.userId, small.organisationId]);
    const smallAccount = await world.addAccount({ organisationId: small.organisationId });
    const largeAccounts = await Promise.all(Array.from({ length: 4 }, () => world.addAccount()));
    const large = await Promise.all(
      largeAccounts.map((account, index) =>
        world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: `Backlog ${index}`, socialAccountId: account.socialAccountId, scheduledFor: new Date(Date.now() - 20_000) }),
      ),
    );
    const late = await world.insertPost(
      { postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption: 'Small one', socialAccountId: smallAccount.socialAccountId, scheduledFor: new Date(Date.now() - 5_000) },
      small.organisationId,
      small.userId,
    );
    // Two slots: the first pass takes the large organisation's oldest post and the small one's, although four of
    // the large one's are older; the rest of the backlog waits for free slots.
    await start({ PUBLISHER_CONCURRENCY: '2' });
    const rows = await Promise.all([late, ...large].map((id) => world.settled(id)));
    for (const row of rows) expect(row.status, row.error_message ?? '').toBe('published');
    const publishedAt = rows.map((row) => row.published_at?.getTime() ?? Infinity);
    const smallAt = publishedAt[0] ?? Infinity;
    // In due order alone it would come after all four; in turns, at most the one started with it is earlier.
    expect(publishedAt.slice(1).filter((at) => at < smallAt).length).toBeLessThanOrEqual(1);
  });

  it('two instances and many posts over several accounts: every post published exactly once, never two claims on one account', async () => {
    for (const app of running) await app.close();
    running.length = 0;
    const accounts = [world.account, ...(await Promise.all(Array.from({ length: 5 }, () => world.addAccount())))];
    const first = await start({ PUBLISHER_INSTANCE_ID: 'instance-a', PUBLISHER_CONCURRENCY: '4' });
    const second = await start({ PUBLISHER_INSTANCE_ID: 'instance-b', PUBLISHER_CONCURRENCY: '4' });
    let overlaps = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const { rows } = await world.worker.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM (
             SELECT social_account_id FROM publisher.social_media_posts WHERE claimed_until > now() GROUP BY social_account_id HAVING count(*) > 1
           ) doubled`,
        );
        overlaps += rows[0]?.n ?? 0;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const captions = Array.from({ length: 36 }, (_, index) => `Race ${index}`);
    const ids = await Promise.all(
      captions.map((caption, index) =>
        world.insertPost({ postType: 'feed', media: [{ mediaType: 'image', url: world.image() }], caption, socialAccountId: accounts[index % accounts.length]?.socialAccountId ?? '' }),
      ),
    );
    const rows = await Promise.all(ids.map((id) => world.settled(id, 60_000)));
    watching = false;
    await watcher;
    expect(rows.map((row) => row.status)).toEqual(ids.map(() => 'published'));
    const media = await world.publishedMedia();
    for (const caption of captions) expect(media.filter((item) => item.caption === caption), caption).toHaveLength(1);
    expect(overlaps).toBe(0);
    const claimsOf = async (app: FastifyInstance) => Number(/postwire_publisher_claims_total\{[^}]*\} (\d+)/.exec((await app.inject({ method: 'GET', url: '/metrics' })).body)?.[1] ?? 0);
    expect(await claimsOf(first)).toBeGreaterThan(0);
    expect(await claimsOf(second)).toBeGreaterThan(0);
  });
});
