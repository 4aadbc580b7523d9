// The gateway's request path under load, beside a bare Fastify route answering the same JSON, in one run on
// one machine. Everything runs for real in processes of its own: the gateway and the services it forwards to
// (src/server.ts of each), a bare Fastify server (bench/bare-server.ts), Postgres (a database of its own) and
// Kafka (a topic prefix of its own). autocannon drives them from this process.
//
//   npm run bench -w @postwire/gateway
//   BENCH_SECONDS=8 BENCH_CONNECTIONS=50 BENCH_LOG_LEVEL=info BENCH_PROFILE=/tmp/profiles node bench/read-path.ts
//   BENCH_ONLY='bare,GET /v1/me' node bench/read-path.ts
//     (a subset of: bare, GET /v1/me, accounts direct, GET /v1/accounts, publisher direct, GET /v1/posts, POST /v1/posts)
//
// BENCH_PROFILE names a directory: the gateway, the accounts service and the publisher then run with --cpu-prof and leave
// their .cpuprofile files there when the run ends (open them in Chrome DevTools or speedscope).
import { type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import pg from 'pg';
import { signDevelopmentToken } from '@postwire/auth';
import { DEFAULT_DATABASE_URL } from '@postwire/config';
import { everyRateLimitAt } from '../src/config.ts';
import { columnContext, createTokenCipher } from '@postwire/crypto';
import { GATEWAY_ROLE, connectionUrlForRole, serviceRoles } from '@postwire/db';
import { ExitedError, cpuMs, createBenchDatabase, dropDatabase, freePort, killAll, startNode, stopAll, waitForHealthy } from '@postwire/testing/processes';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
// The stack's default level is info: Fastify logs two lines per request.
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
const PROFILE_DIR = process.env.BENCH_PROFILE;
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : undefined;
const SERVER = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const KAFKA_BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const JWT_SECRET = 'bench-secret-of-at-least-thirty-two-characters';
// Half the issue's targets (2,000 POST/s and 5,000 GET/s): p99 must stay under 50 ms there.
const HALF_TARGET = { get: 2_500, post: 1_000 };

const processNames = new Map<ChildProcess, string>();
function start(entry: string, env: Record<string, string>, profile: boolean, label = entry): ChildProcess {
  const flags = profile && PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const child = startNode(new URL(entry, import.meta.url), env, flags);
  processNames.set(child, label);
  return child;
}

/**
 * A service started and waited for; started again (three tries) when it exits first: on a loaded machine a
 * topic the service has just created is not always served at once, and kafkajs then fails its start.
 */
async function startReady(entry: string, env: Record<string, string>, label: string, readyUrl: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    const child = start(entry, env, true, label);
    try {
      await waitForHealthy(readyUrl, label, { child });
      return;
    } catch (error) {
      if (!(error instanceof ExitedError) || attempt === 3) throw error;
      processNames.delete(child);
      console.log(`${label} exited while starting; starting it again`);
    }
  }
}

// --- a database of its own: one organisation, its member, a few connected accounts ------------------------
const name = `pw_bench_gateway_${randomBytes(3).toString('hex')}`;
const adminUrl = await createBenchDatabase(SERVER, name);
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
type Figures = {
  readonly name: string;
  readonly requests: number;
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly rate?: number;
  /** Non-2xx answers by status, e.g. "503x12". */
  readonly statuses: string;
  /** CPU ms per request by process: gateway, accounts, publisher, bare, postgres (this database's backends), autocannon. */
  readonly cpu: Record<string, number>;
};
const figures: Figures[] = [];
const idlePerSecond = new Map<string, number>();
const rated: Figures[] = [];
let produceBatches: { readonly requests: number; readonly events: number } | undefined;
// Whatever happens, the processes stop and the database goes.
try {
  const organisationId = randomUUID();
  const userId = randomUUID();
  await admin.query('INSERT INTO public.organisations (id, name) VALUES ($1, $2)', [organisationId, 'Bench']);
  await admin.query('INSERT INTO public.users (id, organisation_id, email) VALUES ($1, $2, $3)', [userId, organisationId, 'bench@example.test']);
  for (let index = 0; index < 5; index += 1) {
    await admin.query(
      `INSERT INTO accounts.social_media_accounts (id, organisation_id, platform, account_type, platform_account_id, username, access_token)
       VALUES ($1, $2, 'instagram', 'business', $3, $4, 'enc:v1:k1:AAAAAAAAAAAAAAAA:c2VjcmV0:AAAAAAAAAAAAAAAAAAAAAA')`,
      [randomUUID(), organisationId, `1784140000000${index}`, `bench.${index}`],
    );
  }

  // The publisher's projection of one of them, with a few posts to list.
  const keyBytes = randomBytes(32);
  const keyRing = { TOKEN_ENCRYPTION_KEYS: `bench-1:${keyBytes.toString('base64')}`, TOKEN_ENCRYPTION_ACTIVE_KEY: 'bench-1' };
  const cipher = createTokenCipher({ keys: new Map([['bench-1', keyBytes]]), activeKeyId: 'bench-1' });
  const publisherAccountId = randomUUID();
  await admin.query(
    `INSERT INTO publisher.accounts (social_account_id, organisation_id, platform, account_type, platform_account_id, page_id, username,
       status, capabilities, access_token, last_event_at)
     VALUES ($1, $2, 'instagram', 'business', '17841400000000099', '100000000000099', 'bench.publisher', 'active',
       '{"feed":true,"stories":true,"reels":true}', $3, now())`,
    [publisherAccountId, organisationId, cipher.encrypt('bench-token', columnContext('publisher.accounts', publisherAccountId, 'access_token'))],
  );
  const imageUrl = 'https://cdn.example.com/bench.jpg';
  await admin.query(
    `WITH inserted AS (
       INSERT INTO publisher.social_media_posts (organisation_id, social_account_id, created_by, content_type, content_url, caption,
         post_type, platform, status, scheduled_for)
       SELECT $1, $2, $3, 'image', $4, 'Bench post ' || n, 'feed', 'instagram', 'queued', now() + interval '1 day'
       FROM generate_series(1, 10) AS n
       RETURNING id)
     INSERT INTO publisher.post_media (post_id, organisation_id, position, media_type, url)
     SELECT id, $1, 0, 'image', $4 FROM inserted`,
    [organisationId, publisherAccountId, userId, imageUrl],
  );

  // --- the processes ------------------------------------------------------------------------------------------
  const prefix = `bench-gw-${randomBytes(3).toString('hex')}.`;
  // Nothing here calls Meta: the sandbox URL only has to be well-formed.
  const shared = { ...keyRing, JWT_SECRET, KAFKA_BROKERS, KAFKA_TOPIC_PREFIX: prefix, META_SANDBOX_URL: 'http://127.0.0.1:9', LOG_LEVEL, DATABASE_URL: adminUrl };
  const [barePort, accountsPort, publisherPort, gatewayPort, metricsPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];

  const bareUrl = `http://127.0.0.1:${barePort}`;
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  start('./bare-server.ts', { BARE_PORT: String(barePort), BARE_USER_ID: userId, BARE_ORGANISATION_ID: organisationId }, false, 'bare');
  await Promise.all([
    waitForHealthy(`${bareUrl}/healthz`, 'the bare server'),
    startReady(
      '../../accounts/src/server.ts',
      {
        ...shared,
        ACCOUNTS_PORT: String(accountsPort),
        ACCOUNTS_DATABASE_URL: connectionUrlForRole(adminUrl, serviceRoles('accounts').app),
        ACCOUNTS_WORKER_DATABASE_URL: connectionUrlForRole(adminUrl, serviceRoles('accounts').worker),
      },
      'accounts',
      `http://127.0.0.1:${accountsPort}/readyz`,
    ),
    startReady(
      '../../publisher/src/server.ts',
      {
        ...shared,
        PUBLISHER_PORT: String(publisherPort),
        PUBLISHER_DATABASE_URL: connectionUrlForRole(adminUrl, serviceRoles('publisher').app),
        PUBLISHER_WORKER_DATABASE_URL: connectionUrlForRole(adminUrl, serviceRoles('publisher').worker),
      },
      'publisher',
      `http://127.0.0.1:${publisherPort}/readyz`,
    ),
    startReady(
      '../src/server.ts',
      {
        ...shared,
        GATEWAY_PORT: String(gatewayPort),
        GATEWAY_METRICS_PORT: String(metricsPort),
        GATEWAY_DATABASE_URL: connectionUrlForRole(adminUrl, GATEWAY_ROLE),
        GATEWAY_ACCOUNTS_URL: `http://127.0.0.1:${accountsPort}`,
        GATEWAY_PUBLISHER_URL: `http://127.0.0.1:${publisherPort}`,
        GATEWAY_INSTANCE_ID: `bench-${randomBytes(3).toString('hex')}`,
        // The limiter's cost is measured; its refusals would not be.
        ...everyRateLimitAt(10_000_000),
      },
      'gateway',
      `${gatewayUrl}/readyz`,
    ),
  ]);

  const token = await signDevelopmentToken({ secret: JWT_SECRET, userId, organisationId, expiresIn: '2h' });
  const authorization = `Bearer ${token}`;
  for (const path of ['/v1/me', '/v1/accounts', '/v1/posts']) {
    const answer = await fetch(`${gatewayUrl}${path}`, { headers: { authorization } });
    if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status} ${await answer.text()}`);
  }
  // A draft: accepted at once (202 with respond-async), no Graph call ever follows.
  const postBody = JSON.stringify({ socialAccountId: publisherAccountId, platform: 'instagram', postType: 'feed', media: [{ position: 0, mediaType: 'image', url: imageUrl }], caption: 'Bench draft' });
  const postHeaders = { authorization, 'content-type': 'application/json', prefer: 'respond-async' };
  const created = await fetch(`${gatewayUrl}/v1/posts`, { method: 'POST', headers: postHeaders, body: postBody });
  if (created.status !== 202) throw new Error(`POST /v1/posts: ${created.status} ${await created.text()}`);

  // --- the runs -------------------------------------------------------------------------------------------------
  type Target = { readonly key: string; readonly name: string; readonly url: string; readonly method?: 'GET' | 'POST'; readonly headers?: Record<string, string>; readonly body?: string };

  async function backends(): Promise<number[]> {
    const rows = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    return rows.rows.map((row) => row.pid);
  }
  function cpuSnapshot(postgres: readonly number[]): Map<string, number> {
    const snapshot = new Map<string, number>();
    for (const [child, label] of processNames) snapshot.set(label, cpuMs(child.pid));
    snapshot.set('postgres', postgres.reduce((sum, pid) => sum + cpuMs(pid), 0));
    const own = process.cpuUsage();
    snapshot.set('autocannon', (own.user + own.system) / 1000);
    return snapshot;
  }

  async function run(target: Target, options: { readonly seconds: number; readonly rate?: number }): Promise<Figures> {
    const postgresBefore = await backends();
    const before = cpuSnapshot(postgresBefore);
    const result = await autocannon({
      url: target.url,
      method: target.method ?? 'GET',
      headers: target.headers ?? {},
      ...(target.body === undefined ? {} : { body: target.body }),
      connections: CONNECTIONS,
      duration: options.seconds,
      ...(options.rate === undefined ? {} : { overallRate: options.rate }),
    });
    // Backends that came during the run count from their start; those that left are lost (the pools keep theirs).
    const after = cpuSnapshot([...new Set([...postgresBefore, ...(await backends())])]);
    const total = result.requests.total || 1;
    const idle = (label: string) => (idlePerSecond.get(label) ?? 0) * options.seconds;
    const cpu = Object.fromEntries([...after].map(([label, ms]) => [label, Math.max(0, ms - (before.get(label) ?? 0) - idle(label)) / total]));
    const statuses = Object.entries(result.statusCodeStats)
      .filter(([status]) => !status.startsWith('2'))
      .map(([status, { count }]) => `${status}x${count}`)
      .join(' ');
    return {
      cpu,
      statuses,
      name: target.name,
      requests: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      ...(options.rate === undefined ? {} : { rate: options.rate }),
    };
  }

  const targets = ([
    { key: 'bare', name: 'bare Fastify, same JSON', url: `${bareUrl}/v1/me` },
    { key: 'GET /v1/me', name: 'gateway GET /v1/me (auth only)', url: `${gatewayUrl}/v1/me`, headers: { authorization } },
    // The owners' read APIs on their own, then through the gateway: what the second hop adds.
    { key: 'accounts direct', name: 'accounts GET /v1/accounts (direct, RLS read)', url: `http://127.0.0.1:${accountsPort}/v1/accounts`, headers: { authorization } },
    { key: 'GET /v1/accounts', name: 'gateway GET /v1/accounts (forwarded, RLS read)', url: `${gatewayUrl}/v1/accounts`, headers: { authorization } },
    { key: 'publisher direct', name: 'publisher GET /v1/posts (direct, RLS read)', url: `http://127.0.0.1:${publisherPort}/v1/posts`, headers: { authorization } },
    // Before the POSTs: the list reads the ten seeded posts, not the drafts the POSTs leave.
    { key: 'GET /v1/posts', name: 'gateway GET /v1/posts (forwarded, RLS read)', url: `${gatewayUrl}/v1/posts`, headers: { authorization } },
    { key: 'POST /v1/posts', name: 'gateway POST /v1/posts (Prefer: respond-async)', url: `${gatewayUrl}/v1/posts`, method: 'POST', headers: postHeaders, body: postBody },
  ] satisfies Target[]).filter((target: Target) => !ONLY || ONLY.has(target.key));

  // What each process spends with no requests at all (consumers, timers, workers), per second: taken off below.
  {
    const postgres = await backends();
    const before = cpuSnapshot(postgres);
    await sleep(5_000);
    const after = cpuSnapshot(postgres);
    for (const [label, ms] of after) idlePerSecond.set(label, label === 'autocannon' ? 0 : (ms - (before.get(label) ?? 0)) / 5);
  }
  for (const target of targets) {
    await run(target, { seconds: 2 }); // warm-up: JIT, pools, caches
    figures.push(await run(target, { seconds: SECONDS }));
    console.log(`measured ${target.name}`);
    // The posts routes again at half their target rates (p99 must stay under 50 ms there), before the next route.
    if (target.url.endsWith('/v1/posts')) {
      rated.push(await run(target, { seconds: SECONDS, rate: target.method === 'POST' ? HALF_TARGET.post : HALF_TARGET.get }));
      console.log(`measured ${target.name} at ${rated.at(-1)?.rate} req/s`);
    }
  }
  if (targets.some((target) => target.method === 'POST')) {
    // How the gateway's producer batched the POSTs' request events (packages/kafka's batcher), over every POST run.
    const exposition = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const total = (suffix: string) =>
      [...exposition.matchAll(new RegExp(`^postwire_events_produced_batch_messages_${suffix}\\{[^}]*post-requests[^}]*\\} (\\d+)`, 'gm'))].reduce((sum, match) => sum + Number(match[1]), 0);
    produceBatches = { requests: total('count'), events: total('sum') };
  }
  // SIGINT lets Node write its CPU profile on the way out (close-with-grace then exits cleanly).
  await stopAll('SIGINT');
} finally {
  killAll();
  await admin.end();
  await dropDatabase(SERVER, name);
}

const bareFigures = figures.find((entry) => entry.name === 'bare Fastify, same JSON');
const pad = (text: string, width: number) => text.padEnd(width);
console.log(`\nGateway request path: autocannon, ${CONNECTIONS} connections, ${SECONDS} s per route (after 2 s of warm-up), LOG_LEVEL=${LOG_LEVEL}`);
console.log(`${pad('route', 50)} ${pad('req/s', 9)} ${pad('p50', 7)} ${pad('p99', 7)} ${pad('vs bare', 8)} non-2xx/errors`);
for (const entry of figures) {
  const ratio = bareFigures ? (entry.requests / bareFigures.requests).toFixed(2) : '-';
  console.log(`${pad(entry.name, 50)} ${pad(entry.requests.toFixed(0), 9)} ${pad(`${entry.p50} ms`, 7)} ${pad(`${entry.p99} ms`, 7)} ${pad(ratio, 8)} ${entry.non2xx}/${entry.errors} ${entry.statuses}`);
}
for (const entry of rated) {
  console.log(`${pad(`${entry.name} at ${entry.rate} req/s`, 50)} ${pad(entry.requests.toFixed(0), 9)} ${pad(`${entry.p50} ms`, 7)} ${pad(`${entry.p99} ms`, 7)} ${pad('', 8)} ${entry.non2xx}/${entry.errors} ${entry.statuses}`);
}
console.log('\nCPU ms per request, by process (user + system from /proc, less what each spends idle; 2 cores x 1000 ms / sum bounds req/s)');
console.log(`idle, ms of CPU per second: ${[...idlePerSecond].map(([label, ms]) => `${label} ${ms.toFixed(0)}`).join(', ')}`);
const cpuColumns = ['gateway', 'accounts', 'publisher', 'postgres', 'autocannon', 'bare'];
console.log(`${pad('route', 50)} ${cpuColumns.map((column) => pad(column, 10)).join(' ')} ${pad('sum', 6)} bound`);
for (const entry of [...figures, ...rated]) {
  const values = cpuColumns.map((column) => entry.cpu[column] ?? 0);
  const sum = values.reduce((total, value) => total + value, 0);
  const label = entry.rate === undefined ? entry.name : `${entry.name} at ${entry.rate} req/s`;
  console.log(`${pad(label, 50)} ${values.map((value) => pad(value.toFixed(3), 10)).join(' ')} ${pad(sum.toFixed(2), 6)} ${(2000 / sum).toFixed(0)} req/s`);
}
if (produceBatches) {
  const { requests, events } = produceBatches;
  console.log(`\nPOST request events produced by the gateway: ${events} in ${requests} produce requests (${(events / Math.max(1, requests)).toFixed(1)} per request)`);
}
if (PROFILE_DIR) console.log(`\nCPU profiles of the gateway, the accounts service and the publisher (one file per process id): ${PROFILE_DIR}`);
