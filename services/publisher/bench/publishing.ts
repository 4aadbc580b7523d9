// Publishing throughput and lag: N posts over M Instagram accounts, all due at one instant, with the Meta
// sandbox answering every Graph call after a fixed latency; then a lone post on an idle system.
// Everything runs for real in processes of their own: the sandbox, one or two publisher instances
// (src/server.ts), Postgres (a database of its own) and Kafka (a topic prefix of its own).
//
//   node bench/publishing.ts
//   BENCH_POSTS=10000 BENCH_ACCOUNTS=1000 BENCH_LATENCY_MS=100 BENCH_CONCURRENCY=128 BENCH_INSTANCES=1,2 BENCH_LONE=20
import { type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { DEFAULT_DATABASE_URL } from '@postwire/config';
import { columnContext, createTokenCipher } from '@postwire/crypto';
import { connectionUrlForRole, serviceRoles } from '@postwire/db';
import { cpuMs, cpuMsByCommand, createBenchDatabase, dropDatabase, sandboxCall, startNode, startSandboxProcess, stopAll, stopChild } from '@postwire/testing/processes';

const POSTS = Number(process.env.BENCH_POSTS ?? 10_000);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 1_000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 128);
const INSTANCES = (process.env.BENCH_INSTANCES ?? '1,2').split(',').map(Number);
const LONE_RUNS = Number(process.env.BENCH_LONE ?? 20);
const SERVER = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const KAFKA_BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';

type CpuSample = Record<'publisher' | 'sandbox' | 'postgres' | 'kafka', number>;
function cpuSample(publishers: readonly ChildProcess[]): CpuSample {
  return {
    publisher: publishers.reduce((sum, child) => sum + cpuMs(child.pid), 0),
    sandbox: cpuMs(sandbox.pid),
    postgres: cpuMsByCommand('postgres'),
    kafka: cpuMsByCommand('java'),
  };
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

// --- the sandbox, with every Graph call answered after LATENCY_MS ---------------------------------------
const { url: sandboxUrl, child: sandbox } = await startSandboxProcess({ META_SANDBOX_SEED: 'true' });
await sandboxCall(sandboxUrl, '/settings', { containersPerDay: 1_000_000, publishQuota: 1_000 }, 'PATCH');
await sandboxCall(sandboxUrl, '/reset', { seed: true });

// --- a database of its own, with the accounts projected as account events would leave them ---------------
const name = `pw_bench_publishing_${randomBytes(3).toString('hex')}`;
const adminUrl = await createBenchDatabase(SERVER, name);
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
const keyRing = { TOKEN_ENCRYPTION_KEYS: `bench-1:${randomBytes(32).toString('base64')}`, TOKEN_ENCRYPTION_ACTIVE_KEY: 'bench-1' };
const cipher = createTokenCipher({ keys: new Map([['bench-1', Buffer.from(keyRing.TOKEN_ENCRYPTION_KEYS.split(':')[1] ?? '', 'base64')]]), activeKeyId: 'bench-1' });

const organisationId = randomUUID();
const userId = randomUUID();
await admin.query('INSERT INTO public.organisations (id, name) VALUES ($1, $2)', [organisationId, 'Bench']);
await admin.query('INSERT INTO public.users (id, organisation_id, email) VALUES ($1, $2, $3)', [userId, organisationId, 'bench@example.test']);

console.log(`seeding ${ACCOUNTS} Instagram accounts in the sandbox and the publisher's projection...`);
type Seeded = { users: { id: string; pages: { id: string; instagramAccountId?: string }[] }[] };
const seeded = (await sandboxCall(sandboxUrl, '/seed', {
  users: Array.from({ length: ACCOUNTS }, (_, index) => ({
    name: `Bench User ${index}`,
    pages: [{ name: `Bench Page ${index}`, instagram: { username: `bench.${index}`, accountType: 'BUSINESS' } }],
  })),
})) as Seeded;
const accounts: { id: string; igId: string }[] = [];
for (const user of seeded.users) {
  const page = user.pages[0];
  const igId = page?.instagramAccountId;
  if (!page || !igId) throw new Error('the sandbox seeded no Instagram account');
  const minted = (await sandboxCall(sandboxUrl, '/tokens', { kind: 'facebook-page', subjectId: user.id, pageId: page.id })) as { access_token: string };
  const id = randomUUID();
  accounts.push({ id, igId });
  await admin.query(
    `INSERT INTO publisher.accounts (social_account_id, organisation_id, platform, account_type, platform_account_id, page_id, username,
       status, capabilities, access_token, last_event_at)
     VALUES ($1, $2, 'instagram', 'business', $3, $4, $5, 'active', '{"feed":true,"stories":true,"reels":true}', $6, now())`,
    [id, organisationId, igId, page.id, `bench.${accounts.length}`, cipher.encrypt(minted.access_token, columnContext('publisher.accounts', id, 'access_token'))],
  );
}
await sandboxCall(sandboxUrl, '/faults', { path: '^/v[0-9]', kind: 'latency', latencyMs: LATENCY_MS });
const graphCalls = async () => ((await (await fetch(`${sandboxUrl}/_sandbox/faults`)).json()) as { faults?: { hits: number }[] } | { hits: number }[]);
async function countCalls(): Promise<number> {
  const listed = await graphCalls();
  const faults = Array.isArray(listed) ? listed : (listed.faults ?? []);
  return faults.reduce((sum, fault) => sum + fault.hits, 0);
}

const imageUrl = `${sandboxUrl}/_sandbox/media/sample.jpg?w=1080&h=1350`;
async function queuePosts(count: number, dueAt: Date): Promise<void> {
  for (let offset = 0; offset < count; offset += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, count - offset) }, (_, index) => accounts[(offset + index) % accounts.length]?.id ?? '');
    await admin.query(
      `WITH inserted AS (
         INSERT INTO publisher.social_media_posts (organisation_id, social_account_id, created_by, content_type, content_url, caption,
           post_type, platform, status, scheduled_for)
         SELECT $1, account_id, $2, 'image', $3, 'Bench post ' || ordinality, 'feed', 'instagram', 'queued', $4
         FROM unnest($5::uuid[]) WITH ORDINALITY AS batch(account_id, ordinality)
         RETURNING id)
       INSERT INTO publisher.post_media (post_id, organisation_id, position, media_type, url)
       SELECT id, $1, 0, 'image', $3 FROM inserted`,
      [organisationId, userId, imageUrl, dueAt, batch],
    );
  }
}

function publisherEnvironment(prefix: string): Record<string, string> {
  return {
    ...keyRing,
    PUBLISHER_PORT: '0',
    PUBLISHER_DATABASE_URL: connectionUrlForRole(adminUrl, serviceRoles('publisher').app),
    PUBLISHER_WORKER_DATABASE_URL: connectionUrlForRole(adminUrl, serviceRoles('publisher').worker),
    DATABASE_URL: adminUrl,
    KAFKA_BROKERS,
    KAFKA_TOPIC_PREFIX: prefix,
    META_SANDBOX_URL: sandboxUrl,
    JWT_SECRET: 'bench-secret-of-at-least-thirty-two-characters',
    LOG_LEVEL: 'warn',
    PUBLISHER_CONCURRENCY: String(CONCURRENCY),
    PUBLISHER_MEDIA_ALLOW_PRIVATE: 'true',
    PUBLISHER_MEDIA_ALLOW_HTTP: 'true',
  };
}

type Lags = { count: number; firstDue: number; lastPublished: number; lags: number[] };
async function lags(): Promise<Lags> {
  const rows = await admin.query<{ due: Date; published: Date }>(
    `SELECT scheduled_for AS due, published_at AS published FROM publisher.social_media_posts WHERE status = 'published'`,
  );
  const lags = rows.rows.map((row) => row.published.getTime() - row.due.getTime()).sort((a, b) => a - b);
  return {
    count: rows.rows.length,
    firstDue: Math.min(...rows.rows.map((row) => row.due.getTime())),
    lastPublished: Math.max(...rows.rows.map((row) => row.published.getTime())),
    lags,
  };
}

async function counts(): Promise<Record<string, number>> {
  const rows = await admin.query<{ status: string; count: string }>('SELECT status, count(*) FROM publisher.social_media_posts GROUP BY status');
  return Object.fromEntries(rows.rows.map((row) => [row.status, Number(row.count)]));
}

const postsPerAccount = Math.ceil(POSTS / ACCOUNTS);
const results: string[] = [];
let callsPerPost = NaN;
for (const instances of INSTANCES) {
  await admin.query('TRUNCATE publisher.social_media_posts CASCADE');
  const prefix = `bench-${randomBytes(3).toString('hex')}.`;
  const publishers = Array.from({ length: instances }, () => startNode(new URL('../src/server.ts', import.meta.url), publisherEnvironment(prefix)));
  await sleep(3_000);
  const callsBefore = await countCalls();
  const dueAt = new Date(Date.now() + 2_000);
  await queuePosts(POSTS, dueAt);
  console.log(`${instances} instance(s): ${POSTS} posts over ${ACCOUNTS} accounts due at ${dueAt.toISOString()}`);
  await sleep(Math.max(0, dueAt.getTime() - Date.now()));
  const cpuBefore = cpuSample(publishers);
  const deadline = Date.now() + 30 * 60 * 1000;
  for (;;) {
    const now = await counts();
    if ((now.published ?? 0) + (now.failed ?? 0) >= POSTS) break;
    if (Date.now() > deadline) throw new Error(`not done after 30 minutes: ${JSON.stringify(now)}`);
    await sleep(1_000);
  }
  const cpuAfter = cpuSample(publishers);
  const wallMs = Date.now() - dueAt.getTime();
  const finished = await counts();
  const measured = await lags();
  callsPerPost = ((await countCalls()) - callsBefore) / POSTS;
  await Promise.all(publishers.map((publisher) => stopChild(publisher)));
  const total = measured.lastPublished - dueAt.getTime();
  results.push(
    `${instances} instance(s): all ${measured.count} published (${finished.failed ?? 0} failed) in ${seconds(total)}; ` +
      `${(measured.count / (total / 1000)).toFixed(0)} posts/s; lag p50 ${seconds(percentile(measured.lags, 50))} ` +
      `p99 ${seconds(percentile(measured.lags, 99))} max ${seconds(measured.lags.at(-1) ?? NaN)}; ${callsPerPost.toFixed(2)} Graph calls per post; ` +
      `ideal ${seconds(ideal(instances))}, ratio ${(total / ideal(instances)).toFixed(2)}`,
  );
  const spent = Object.fromEntries(Object.entries(cpuAfter).map(([name, ms]) => [name, ms - cpuBefore[name as keyof CpuSample]]));
  const busy = Object.values(spent).reduce((sum, ms) => sum + ms, 0);
  results.push(
    `  CPU per post: ${Object.entries(spent).map(([name, ms]) => `${name} ${(ms / POSTS).toFixed(1)} ms`).join(', ')}; ` +
      `${(busy / 1000).toFixed(0)} CPU-s in ${(wallMs / 1000).toFixed(0)} s on ${availableParallelism()} cores = ${((100 * busy) / (wallMs * availableParallelism())).toFixed(0)} % busy`,
  );
  console.log(results.slice(-2).join('\n'));
}

function ideal(instances: number): number {
  const perPost = callsPerPost * LATENCY_MS;
  return Math.max((POSTS * perPost) / (CONCURRENCY * instances), postsPerAccount * perPost);
}

// --- a lone post on an idle system ------------------------------------------------------------------------
await admin.query('TRUNCATE publisher.social_media_posts CASCADE');
const prefix = `bench-${randomBytes(3).toString('hex')}.`;
const lone = startNode(new URL('../src/server.ts', import.meta.url), publisherEnvironment(prefix));
await sleep(3_000);
const loneLags: number[] = [];
for (let run = 0; run < LONE_RUNS; run += 1) {
  await admin.query('TRUNCATE publisher.social_media_posts CASCADE');
  const dueAt = new Date(Date.now() + 500 + Math.random() * 500);
  await queuePosts(1, dueAt);
  for (;;) {
    const measured = await lags();
    if (measured.count === 1) {
      loneLags.push(measured.lags[0] ?? NaN);
      break;
    }
    await sleep(20);
  }
}
await stopChild(lone);
loneLags.sort((a, b) => a - b);

console.log('\nPublishing benchmark');
console.log(`  ${POSTS} posts over ${ACCOUNTS} accounts (${postsPerAccount} per account, one at a time per account), Graph latency ${LATENCY_MS} ms,`);
console.log(`  concurrency ${CONCURRENCY} posts in flight per instance, ${callsPerPost.toFixed(2)} Graph calls per post (measured at the sandbox)`);
console.log('  ideal = max(posts x calls/post x latency / (concurrency x instances), posts/account x calls/post x latency)');
for (const line of results) console.log(`  ${line}`);
console.log(
  `  lone post (${LONE_RUNS} runs, idle system): lag p50 ${seconds(percentile(loneLags, 50))} p99 ${seconds(percentile(loneLags, 99))} ` +
    `(the post's own ${callsPerPost.toFixed(0)} calls take ${seconds(callsPerPost * LATENCY_MS)} of it)`,
);
await admin.end();
await stopAll();
await dropDatabase(SERVER, name);
