// Outbox -> Kafka -> inbox, end to end, on real Postgres and Kafka. Three threads stand for three
// processes: the writing service (bench/writer.ts), its outbox relay (bench/relay.ts) and, here, the
// consuming service with its idempotent handler.
//   npm run bench -w @postwire/outbox
// Settings (environment): KAFKA_BROKERS (127.0.0.1:9092), DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres;
// the bench uses the database postwire_bench on that server), BENCH_RATE (1000 events/s),
// BENCH_SECONDS (10), BENCH_TOTAL (50000), BENCH_TX_SIZE (100), BENCH_WRITERS (4), BENCH_PARTITIONS (3).
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { createEventReader } from '@postwire/contracts';
import { connectionUrlForRole, createDatabasePool, migrateAll, prepareDatabase, serviceRoles, sql } from '@postwire/db';
import { createEventConsumer, createKafkaClient, provisionTopics } from '@postwire/kafka';
import { pino } from 'pino';
import { createIdempotentHandler } from '../src/index.ts';
import { type BenchSetup, type WriterCommand, type WriterReport, benchTopic, now } from './shared.ts';

const env = process.env;
const brokers = (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const server = new URL(env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
server.pathname = '/postwire_bench';
const adminUrl = server.toString();
const rate = Number(env.BENCH_RATE ?? 1_000);
const seconds = Number(env.BENCH_SECONDS ?? 10);
const total = Number(env.BENCH_TOTAL ?? 50_000);
const transactionSize = Number(env.BENCH_TX_SIZE ?? 100);
const writers = Number(env.BENCH_WRITERS ?? 4);
const partitions = Number(env.BENCH_PARTITIONS ?? 3);
const logger = pino({ level: env.LOG_LEVEL ?? 'warn' });

await prepareDatabase(adminUrl);
await migrateAll(adminUrl, 'up');
const admin = await createDatabasePool(adminUrl, { maximumPoolSize: 1 });
await admin.query(sql.unsafe`TRUNCATE publisher.outbox, publisher.inbox`);
await admin.end();
const workerUrl = connectionUrlForRole(adminUrl, serviceRoles('publisher').worker);
const setup: BenchSetup = { workerUrl, brokers, topicName: `bench.post-events.${Date.now().toString(36)}.v1` };
const topic = benchTopic(setup.topicName);
const client = createKafkaClient({ brokers, clientId: 'outbox-bench', logger });
await provisionTopics(client, { topics: [topic.name], partitions });

const pool = await createDatabasePool(workerUrl, { maximumPoolSize: partitions + 1, applicationName: 'bench-consumer' });
const committedAt = new Map<string, number>();
const handledAt = new Map<string, number>();
const producedAt = new Map<string, number>();
const groupId = `bench-${randomUUID()}`;
const consumer = createEventConsumer(client, {
  groupId,
  reader: createEventReader(topic),
  logger,
  maxBatchSize: 1_000,
  maxWaitTimeMs: 100,
  partitionsConsumedConcurrently: partitions,
  handler: createIdempotentHandler<typeof topic>(pool, { schema: 'publisher', consumer: groupId }, async (event) => {
    handledAt.set(event.metadata.id, now());
    producedAt.set(event.metadata.id, Number(event.position.timestamp));
  }),
});
await consumer.start();

const relay = new Worker(new URL('./relay.ts', import.meta.url), { workerData: setup });
await once(relay, 'message');
const writer = new Worker(new URL('./writer.ts', import.meta.url), { workerData: setup });
let finished: ((report: { events: number; seconds: number }) => void) | undefined;
writer.on('message', (report: WriterReport) => {
  if (report.kind === 'committed') report.ids.forEach((id, index) => committedAt.set(id, report.at[index] ?? Number.NaN));
  else finished?.(report);
});
const run = (command: WriterCommand) =>
  new Promise<{ events: number; seconds: number }>((resolve) => {
    finished = resolve;
    writer.postMessage(command);
  });
await sleep(2_000);

async function allHandled(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (handledAt.size < committedAt.size || committedAt.size === 0) {
    if (Date.now() > deadline) throw new Error(`only ${handledAt.size} of ${committedAt.size} events reached the handler`);
    await sleep(10);
  }
}
const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const round = (value: number) => Math.round(value * 10) / 10;

// Phase 1: paced, one event per transaction; latency from commit to the consumer's handler.
const paced = await run({ phase: 'paced', rate, seconds });
await allHandled(60_000);
const latencies = [...committedAt].map(([id, at]) => (handledAt.get(id) ?? Number.NaN) - at).sort((a, b) => a - b);
// Kafka's CreateTime is set by the relay's producer just before sending: it splits the path in two.
const relayStage = [...committedAt].map(([id, at]) => (producedAt.get(id) ?? Number.NaN) - at).sort((a, b) => a - b);
const kafkaStage = [...committedAt]
  .map(([id]) => (handledAt.get(id) ?? Number.NaN) - (producedAt.get(id) ?? Number.NaN))
  .sort((a, b) => a - b);

// Phase 2: as fast as the writers go, transactions of `transactionSize` events.
committedAt.clear();
handledAt.clear();
const burstStart = now();
const burst = await run({ phase: 'burst', total, transactionSize, writers });
await allHandled(120_000);
const lastHandled = Math.max(...handledAt.values());
const burstSeconds = (lastHandled - burstStart) / 1_000;

console.log(
  JSON.stringify(
    {
      latency: {
        rateTarget: rate,
        rateAchieved: Math.round(paced.events / paced.seconds),
        events: latencies.length,
        p50Ms: round(percentile(latencies, 50)),
        p95Ms: round(percentile(latencies, 95)),
        p99Ms: round(percentile(latencies, 99)),
        maxMs: round(latencies.at(-1) ?? Number.NaN),
        commitToSendP50Ms: round(percentile(relayStage, 50)),
        commitToSendP99Ms: round(percentile(relayStage, 99)),
        sendToHandlerP50Ms: round(percentile(kafkaStage, 50)),
        sendToHandlerP99Ms: round(percentile(kafkaStage, 99)),
      },
      throughput: {
        events: total,
        transactionSize,
        writers,
        writeEventsPerSecond: Math.round(burst.events / burst.seconds),
        endToEndEventsPerSecond: Math.round(total / burstSeconds),
        seconds: round(burstSeconds),
      },
      setup: { partitions, relayBatch: 1_000, consumerBatch: 1_000, brokers },
    },
    null,
    2,
  ),
);

writer.postMessage({ phase: 'exit' } satisfies WriterCommand);
relay.postMessage('stop');
await Promise.all([once(writer, 'exit'), once(relay, 'exit')]);
await consumer.stop();
await pool.end();
