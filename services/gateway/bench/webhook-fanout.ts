// Webhook fan-out latency: EVENTS post events of one organisation, produced to Kafka at RATE per second,
// each delivered to ENDPOINTS registered endpoints (local receivers, in a process of their own: receivers.ts). Latency is measured from just before
// the event is handed to the producer to the moment its receiver has read the whole request.
// Everything runs for real: the gateway as its own process (src/server.ts, INSTANCES of them), Postgres
// (a database of its own) and Kafka (a topic prefix of its own).
//
//   node bench/webhook-fanout.ts
//   BENCH_EVENTS=1000 BENCH_ENDPOINTS=10 BENCH_RATE=200 BENCH_INSTANCES=1 node bench/webhook-fanout.ts
//   BENCH_RATE=0 (all events at once); BENCH_CPU_PROFILE=/tmp/dir writes each gateway's CPU profile there
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { signDevelopmentToken } from '@postwire/auth';
import { DEFAULT_DATABASE_URL } from '@postwire/config';
import { type OutgoingEvent, postEvents } from '@postwire/contracts';
import { connectionUrlForRole, serviceRoles } from '@postwire/db';
import { type ServiceLogger, createEventProducer, createKafkaClient } from '@postwire/kafka';
import { cpuMs, createBenchDatabase, dropDatabase, freePort, startNode, stopAll, stopChild, waitForHealthy } from '@postwire/testing/processes';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000);
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 10);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 1);
const SERVER = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const KAFKA_BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const JWT_SECRET = 'webhook-bench-shared-secret-32-characters';

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

// --- a database of its own ---------------------------------------------------------------------------
const database = `pw_bench_webhooks_${randomBytes(4).toString('hex')}`;
const adminUrl = await createBenchDatabase(SERVER, database);
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
const organisationId = randomUUID();
const userId = randomUUID();
await admin.query('INSERT INTO organisations (id, name) VALUES ($1, $2)', [organisationId, 'Bench']);
await admin.query('INSERT INTO users (id, organisation_id, email) VALUES ($1, $2, $3)', [userId, organisationId, 'bench@postwire.test']);
const token = await signDevelopmentToken({ secret: JWT_SECRET, userId, organisationId });

// --- receivers, in a process of their own ------------------------------------------------------------
const producedAt = new Map<string, number>();
const latencies: number[] = [];
const seen = new Set<string>();
let duplicates = 0;
const now = () => performance.timeOrigin + performance.now();
const receiverProcess = fork(fileURLToPath(new URL('./receivers.ts', import.meta.url)), { env: { ...process.env, BENCH_ENDPOINTS: String(ENDPOINTS) } });
// Forked (it reports over IPC), so not one of startNode's children: killed with this process all the same.
process.on('exit', () => receiverProcess.kill('SIGKILL'));
const receiverUrls = await new Promise<string[]>((resolve) => {
  receiverProcess.on('message', (message: { urls?: string[]; received?: [number, string, number][] }) => {
    if (message.urls) resolve(message.urls);
    for (const [index, id, at] of message.received ?? []) {
      const key = `${index}:${id}`;
      if (seen.has(key)) duplicates += 1;
      else {
        seen.add(key);
        const started = producedAt.get(id);
        if (started !== undefined) latencies.push(at - started);
      }
    }
  });
});

// --- the gateway -----------------------------------------------------------------------------------------
const topicPrefix = `bench-webhooks-${randomBytes(3).toString('hex')}.`;
const gateways: string[] = [];
const gatewayPids: (number | undefined)[] = [];
// One key ring for every instance: any of them decrypts the secrets another stored.
const keyRing = `bench-1:${randomBytes(32).toString('base64')}`;
for (let instance = 0; instance < INSTANCES; instance += 1) {
  const port = await freePort();
  const profile = process.env.BENCH_CPU_PROFILE ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : [];
  const child = startNode(
    new URL('../src/server.ts', import.meta.url),
    {
      GATEWAY_PORT: String(port),
      GATEWAY_METRICS_PORT: String(await freePort()),
      GATEWAY_INSTANCE_ID: `bench-${instance}-${randomBytes(3).toString('hex')}`,
      GATEWAY_DATABASE_URL: connectionUrlForRole(adminUrl, serviceRoles('gateway').app),
      GATEWAY_WORKER_DATABASE_URL: connectionUrlForRole(adminUrl, serviceRoles('gateway').worker),
      GATEWAY_WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      JWT_SECRET,
      TOKEN_ENCRYPTION_KEYS: keyRing,
      TOKEN_ENCRYPTION_ACTIVE_KEY: 'bench-1',
      KAFKA_BROKERS,
      KAFKA_TOPIC_PREFIX: topicPrefix,
      LOG_LEVEL: 'warn',
    },
    profile,
  );
  gatewayPids.push(child.pid);
  gateways.push(`http://127.0.0.1:${port}`);
}
for (const base of gateways) await waitForHealthy(`${base}/readyz`, base);
for (const url of receiverUrls) {
  const answer = await fetch(`${gateways[0]}/v1/webhooks/endpoints`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url, eventTypes: ['post.published'] }),
  });
  if (answer.status !== 201) throw new Error(`endpoint not registered: ${answer.status} ${await answer.text()}`);
}

// --- produce -------------------------------------------------------------------------------------------
// Only errors matter here, on stderr.
const logger: ServiceLogger = {
  error: (...line: unknown[]) => console.error(...line),
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  child: () => logger,
};
const producer = createEventProducer(createKafkaClient({ brokers: KAFKA_BROKERS.split(','), topicPrefix, clientId: 'bench-producer', logger }), { source: '/postwire/publisher' });
await producer.connect();
const event = (): OutgoingEvent<typeof postEvents> & { metadata: { id: string; organisationId: string } } => ({
  type: 'post.published',
  data: {
    postId: randomUUID(),
    socialAccountId: randomUUID(),
    platform: 'instagram',
    postType: 'feed',
    contentId: null,
    platformPostId: '17900000000000001',
    platformUrl: null,
    mediaCount: 1,
    publishedAt: new Date().toISOString(),
  },
  metadata: { organisationId, id: randomUUID() },
});
// CPU of each process from /proc (Postgres: this database's backends), less what it spends idle per second.
async function cpuSnapshot(): Promise<Record<string, number>> {
  const backends = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
  const own = process.cpuUsage();
  return {
    gateway: gatewayPids.reduce((sum: number, pid) => sum + cpuMs(pid), 0),
    receivers: cpuMs(receiverProcess.pid),
    postgres: backends.rows.reduce((sum, row) => sum + cpuMs(row.pid), 0),
    bench: (own.user + own.system) / 1000, // producing, and the receivers' reports
  };
}
const idleFrom = await cpuSnapshot();
const idleStarted = performance.now();
await sleep(3_000);
const idleTo = await cpuSnapshot();
const idleSeconds = (performance.now() - idleStarted) / 1000;
const cpuBefore = await cpuSnapshot();

// Ticks of 20 ms with RATE/50 events each, or of 1000/RATE ms with one event below 50/s (all at once when RATE is 0).
const perTick = RATE <= 0 ? EVENTS : Math.max(1, Math.round(RATE / 50));
const tickMs = RATE <= 0 ? 0 : Math.max(20, 1000 / RATE);
const started = performance.now();
for (let sent = 0; sent < EVENTS; ) {
  const tick = performance.now();
  const batch = Array.from({ length: Math.min(perTick, EVENTS - sent) }, event);
  for (const item of batch) producedAt.set(item.metadata.id, now());
  await producer.publish(postEvents, batch);
  sent += batch.length;
  if (RATE > 0) await sleep(Math.max(0, tickMs - (performance.now() - tick)));
}
const producedIn = performance.now() - started;
const expected = EVENTS * ENDPOINTS;
const deadline = Date.now() + 120_000;
while (latencies.length < expected && Date.now() < deadline) await sleep(50);
const allIn = performance.now() - started;
const cpuAfter = await cpuSnapshot();

const sorted = [...latencies].sort((a, b) => a - b);
const ms = (value: number) => `${value.toFixed(0)} ms`;
console.log(
  [
    `webhook fan-out: ${EVENTS} events x ${ENDPOINTS} endpoints, ${INSTANCES} gateway instance(s), produced at ${RATE > 0 ? `${RATE}/s` : 'once'} ` +
      `(took ${(producedIn / 1000).toFixed(2)} s: ${((EVENTS * 1000) / producedIn).toFixed(0)} events/s)`,
    `delivered ${latencies.length}/${expected} (duplicates ${duplicates}) in ${(allIn / 1000).toFixed(2)} s`,
    `latency produced -> received: p50 ${ms(percentile(sorted, 50))}, p95 ${ms(percentile(sorted, 95))}, p99 ${ms(percentile(sorted, 99))}, max ${ms(sorted.at(-1) ?? NaN)}`,
  ].join('\n'),
);

const perDelivery = Object.keys(cpuAfter).map((name) => {
  const idle = (((idleTo[name] ?? 0) - (idleFrom[name] ?? 0)) / idleSeconds) * (allIn / 1000);
  return `${name} ${(Math.max(0, (cpuAfter[name] ?? 0) - (cpuBefore[name] ?? 0) - idle) / Math.max(1, latencies.length)).toFixed(3)}`;
});
console.log(`  CPU ms per delivery (less idle): ${perDelivery.join(', ')}`);

// Where the time went, from the gateway's own records: event -> delivery queued (Kafka, fan-out
// transaction) and queued -> first attempt started (the worker's queue).
const stages = await admin.query<{ stage: string; p50: number; p99: number }>(`
  SELECT 'event -> queued' AS stage,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.created_at - d.event_time) * 1000) AS p50,
         percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM d.created_at - d.event_time) * 1000) AS p99
    FROM gateway.webhook_deliveries d
  UNION ALL
  SELECT 'queued -> attempt started',
         percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.started_at - d.created_at) * 1000),
         percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM a.started_at - d.created_at) * 1000)
    FROM gateway.webhook_deliveries d JOIN gateway.webhook_delivery_attempts a ON a.delivery_id = d.id AND a.attempt = 1
  UNION ALL
  SELECT 'attempt duration', percentile_cont(0.5) WITHIN GROUP (ORDER BY a.duration_ms), percentile_cont(0.99) WITHIN GROUP (ORDER BY a.duration_ms)
    FROM gateway.webhook_delivery_attempts a`);
const statuses = await admin.query<{ status: string; count: string; attempts: string }>(
  'SELECT status, count(*) AS count, sum(attempts) AS attempts FROM gateway.webhook_deliveries GROUP BY status ORDER BY status',
);
const inbox = await admin.query<{ count: string }>('SELECT count(*) AS count FROM gateway.inbox');
console.log(`  deliveries: ${statuses.rows.map((row) => `${row.status} ${row.count} (${row.attempts} attempts)`).join(', ')}; inbox ${inbox.rows[0]?.count ?? 0} events`);
const errors = await admin.query<{ error: string; count: string }>(
  'SELECT error, count(*) AS count FROM gateway.webhook_delivery_attempts WHERE NOT succeeded GROUP BY error ORDER BY count(*) DESC LIMIT 5',
);
for (const row of errors.rows) console.log(`  failed attempts: ${row.count} x ${row.error}`);
for (const row of stages.rows) console.log(`  ${row.stage}: p50 ${ms(Number(row.p50))}, p99 ${ms(Number(row.p99))}`);

// --- clean up --------------------------------------------------------------------------------------------
await producer.disconnect();
await Promise.all([stopAll(), stopChild(receiverProcess)]);
await admin.end();
await dropDatabase(SERVER, database);
if (latencies.length < expected) process.exitCode = 1;
