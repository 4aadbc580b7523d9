// Insight sync throughput under Meta's limits: N published Instagram posts over M accounts, all due at one
// instant, with the Meta sandbox answering every Graph call after a fixed latency and each account's business
// use case budget sized so that usage climbs past the slow-down threshold while the syncs run. Prints the time
// to sync all, the peak usage the service saw (it must stay under 100 %) and the Meta calls per post.
// Everything runs for real in processes of their own: the sandbox, one analytics instance (src/server.ts),
// Postgres (a database of its own) and Kafka (a topic prefix of its own).
//
//   npm run bench -w @postwire/analytics
//   BENCH_POSTS=10000 BENCH_ACCOUNTS=100 BENCH_LATENCY_MS=100 BENCH_CONCURRENCY=64 BENCH_TARGET_PERCENT=90 node bench/insight-sync.ts
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { DEFAULT_DATABASE_URL } from '@postwire/config';
import { createTokenCipher } from '@postwire/crypto';
import { connectionUrlForRole, serviceRoles } from '@postwire/db';
import { createGraphClient, graphEnvironment } from '@postwire/graph';
import { createBenchDatabase, dropDatabase, freePort, sandboxCall, startNode, startSandboxProcess, stopChild, waitForHealthy } from '@postwire/testing/processes';
import { accountTokenContext } from '../src/service.ts';

const POSTS = Number(process.env.BENCH_POSTS ?? 10_000);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 100);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
/** Where each account's business use case usage would end if every sync made exactly one call. */
const TARGET_PERCENT = Number(process.env.BENCH_TARGET_PERCENT ?? 90);
const SERVER = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const KAFKA_BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';

async function inBatches<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const item = items[next];
        next += 1;
        if (item !== undefined) await work(item);
      }
    }),
  );
}

/** Sums a series of the service's /metrics over the samples whose labels include `labels`. */
async function metric(base: string, name: string, labels: Record<string, string> = {}, pick: 'sum' | 'max' = 'sum'): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let result = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{([^}]*)\})? ([-0-9.e+]+)$/i.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/gi)].map((pair) => [pair[1], pair[2]]));
    if (!Object.entries(labels).every(([key, value]) => found[key] === value)) continue;
    result = pick === 'sum' ? result + Number(match[3]) : Math.max(result, Number(match[3]));
  }
  return result;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

// --- the sandbox ---------------------------------------------------------------------------------------
const { url: sandboxUrl } = await startSandboxProcess();
await sandboxCall(sandboxUrl, '/settings', { containersPerDay: 1_000_000, publishQuota: 1_000_000, insightsDelayMs: 0 }, 'PATCH');

// --- a database of its own ----------------------------------------------------------------------------
const name = `pw_bench_analytics_${randomBytes(3).toString('hex')}`;
const adminUrl = await createBenchDatabase(SERVER, name);
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
const keyRing = { TOKEN_ENCRYPTION_KEYS: `bench-1:${randomBytes(32).toString('base64')}`, TOKEN_ENCRYPTION_ACTIVE_KEY: 'bench-1' };
const cipher = createTokenCipher({ keys: new Map([['bench-1', Buffer.from(keyRing.TOKEN_ENCRYPTION_KEYS.split(':')[1] ?? '', 'base64')]]), activeKeyId: 'bench-1' });
const organisationId = randomUUID();
await admin.query('INSERT INTO public.organisations (id, name) VALUES ($1, $2)', [organisationId, 'Bench']);

console.log(`seeding ${ACCOUNTS} Instagram accounts and publishing ${POSTS} images in the sandbox...`);
type Seeded = { users: { id: string; pages: { id: string; instagramAccountId?: string }[] }[] };
const seeded = (await sandboxCall(sandboxUrl, '/seed', {
  users: Array.from({ length: ACCOUNTS }, (_, index) => ({ name: `Bench User ${index}`, pages: [{ name: `Bench Page ${index}`, instagram: { username: `bench.${index}`, accountType: 'BUSINESS' } }] })),
})) as Seeded;
const accounts: { id: string; igId: string; pageId: string; token: string }[] = [];
for (const user of seeded.users) {
  const page = user.pages[0];
  const igId = page?.instagramAccountId;
  if (!page || !igId) throw new Error('the sandbox seeded no Instagram account');
  const minted = (await sandboxCall(sandboxUrl, '/tokens', { kind: 'facebook-page', subjectId: user.id, pageId: page.id, longLived: true })) as { access_token: string };
  const id = randomUUID();
  accounts.push({ id, igId, pageId: page.id, token: minted.access_token });
  await admin.query(
    `INSERT INTO analytics.accounts (id, organisation_id, platform, account_type, platform_account_id, page_id, access_token, status)
     VALUES ($1, $2, 'instagram', 'business', $3, $4, $5, 'active')`,
    [id, organisationId, igId, page.id, cipher.encrypt(minted.access_token, accountTokenContext(id))],
  );
}

const graph = createGraphClient(graphEnvironment.parse({ META_SANDBOX_URL: sandboxUrl }));
const imageUrl = `${sandboxUrl}/_sandbox/media/sample.jpg?w=1080&h=1350`;
const posts = Array.from({ length: POSTS }, (_, index) => ({ postId: randomUUID(), account: accounts[index % accounts.length] }));
const published: { postId: string; accountId: string; mediaId: string }[] = [];
await inBatches(posts, 64, async ({ postId, account }) => {
  if (!account) return;
  const container = await graph.createMediaContainer(account.igId, account.token, { kind: 'image', imageUrl, caption: 'bench' });
  const media = await graph.publishMedia(account.igId, account.token, container.id);
  published.push({ postId, accountId: account.id, mediaId: media.id });
});

// The posts as post.published leaves them in the projection, with their one sync due now.
const publishedAt = new Date(Date.now() - 3_600_000);
for (let offset = 0; offset < published.length; offset += 1_000) {
  const batch = published.slice(offset, offset + 1_000);
  await admin.query(
    `INSERT INTO analytics.tracked_posts (id, organisation_id, social_account_id, platform, post_type, platform_post_id, published_at)
     SELECT post_id, $1, account_id, 'instagram', 'feed', media_id, $2 FROM unnest($3::uuid[], $4::uuid[], $5::text[]) AS b(post_id, account_id, media_id)`,
    [organisationId, publishedAt, batch.map((post) => post.postId), batch.map((post) => post.accountId), batch.map((post) => post.mediaId)],
  );
  await admin.query(
    `INSERT INTO analytics.insight_syncs (post_id, social_account_id, kind, offset_ms, due_at, next_attempt_at)
     SELECT post_id, account_id, 'scheduled', 3600000, now(), now() FROM unnest($1::uuid[], $2::uuid[]) AS b(post_id, account_id)`,
    [batch.map((post) => post.postId), batch.map((post) => post.accountId)],
  );
}

// Insights have data an hour after publishing; each account's budget is sized so one call per post ends at
// TARGET_PERCENT of it (publishing already spent two calls per post), past the 75 % where slowing down starts.
await sandboxCall(sandboxUrl, '/clock', { advanceHours: 2 });
const perAccount = Math.ceil(POSTS / ACCOUNTS);
const budget = Math.ceil((3 * perAccount * 100) / TARGET_PERCENT);
await sandboxCall(sandboxUrl, '/settings', { businessCallBudget: budget }, 'PATCH');
await sandboxCall(sandboxUrl, '/faults', { path: '^/v[0-9]', kind: 'latency', latencyMs: LATENCY_MS });
console.log(`${POSTS} posts over ${ACCOUNTS} accounts; budget ${budget} calls per account per 24 h, ${2 * perAccount} spent publishing (${Math.round((200 * perAccount) / budget)} %); Graph latency ${LATENCY_MS} ms`);

// --- one analytics instance ----------------------------------------------------------------------------
const port = await freePort();
const analyticsUrl = `http://127.0.0.1:${port}`;
const started = Date.now();
const analytics = startNode(new URL('../src/server.ts', import.meta.url), {
  ...keyRing,
  ANALYTICS_PORT: String(port),
  ANALYTICS_DATABASE_URL: connectionUrlForRole(adminUrl, serviceRoles('analytics').app),
  ANALYTICS_WORKER_DATABASE_URL: connectionUrlForRole(adminUrl, serviceRoles('analytics').worker),
  DATABASE_URL: adminUrl,
  KAFKA_BROKERS,
  KAFKA_TOPIC_PREFIX: `bench-${randomBytes(3).toString('hex')}.`,
  META_SANDBOX_URL: sandboxUrl,
  JWT_SECRET: 'bench-secret-of-at-least-thirty-two-characters',
  LOG_LEVEL: 'warn',
  ANALYTICS_SYNC_INTERVAL_MS: '100',
  ANALYTICS_SYNC_BATCH_SIZE: '500',
  ANALYTICS_SYNC_CONCURRENCY: String(CONCURRENCY),
  ANALYTICS_META_MAX_CALLS_PER_SECOND: '1000',
  ANALYTICS_USAGE_MAX_SLOW_DOWN_MS: '2000',
});
await waitForHealthy(`${analyticsUrl}/healthz`, 'the analytics service');
let done = 0;
let lastReport = 0;
for (;;) {
  const rows = await admin.query<{ status: string; count: string }>('SELECT status, count(*) FROM analytics.insight_syncs GROUP BY status');
  const byStatus = Object.fromEntries(rows.rows.map((row) => [row.status, Number(row.count)]));
  done = POSTS - (byStatus.due ?? 0);
  if (done >= POSTS) break;
  if (Date.now() - lastReport > 10_000) {
    lastReport = Date.now();
    console.log(`  ${seconds(Date.now() - started)}: ${JSON.stringify(byStatus)}`);
  }
  if (Date.now() - started > 30 * 60_000) throw new Error('not done after 30 minutes');
  await sleep(200);
}
const elapsed = Date.now() - started;
const snapshots = Number((await admin.query<{ count: string }>('SELECT count(*) FROM analytics.social_media_analytics_snapshots')).rows[0]?.count ?? 0);
const calls = await metric(analyticsUrl, 'postwire_analytics_meta_calls_total');
const rateLimited = await metric(analyticsUrl, 'postwire_analytics_meta_calls_total', { outcome: 'rate-limited' });
const businessPeak = await metric(analyticsUrl, 'postwire_analytics_meta_usage_peak_percent', { header: 'business' }, 'max');
const appPeak = await metric(analyticsUrl, 'postwire_analytics_meta_usage_peak_percent', { header: 'app' }, 'max');
const slowedSeconds = await metric(analyticsUrl, 'postwire_analytics_limit_wait_seconds_total', { reason: 'slow-down' });
const outcomes = (await admin.query<{ status: string; count: string }>('SELECT status, count(*) FROM analytics.insight_syncs GROUP BY status')).rows;

console.log('');
console.log(`synced ${POSTS} posts (${snapshots} snapshots; ${outcomes.map((row) => `${row.status} ${row.count}`).join(', ')}) in ${seconds(elapsed)} (${(POSTS / (elapsed / 1000)).toFixed(1)} posts/s, service start included)`);
console.log(`peak usage seen: business use case ${businessPeak} %, app ${appPeak} % (limit 100 %); rate-limit errors: ${rateLimited}`);
console.log(`Meta calls per post: ${(calls / POSTS).toFixed(2)}; time spent slowed down by usage: ${seconds(slowedSeconds * 1000)} (summed over ${CONCURRENCY} lanes)`);

await stopChild(analytics);
await admin.end();
await dropDatabase(SERVER, name);
process.exit(0);
