// The producer alone, as a request path uses it: CALLERS concurrent callers, each publishing one event at a
// time (awaiting its acks) for BENCH_SECONDS, once per linger in BENCH_LINGERS. Prints events/s, each
// call's latency, this process's CPU per event and the events per produce request.
//   node packages/kafka/bench/produce-batching.ts      (KAFKA_BROKERS, default 127.0.0.1:9092)
//   BENCH_CALLERS=50 BENCH_SECONDS=5 BENCH_LINGERS=0,2,5
import { randomUUID } from 'node:crypto';
import { postEvents } from '@postwire/contracts';
import { Registry } from 'prom-client';
import { type ServiceLogger, createEventProducer, createKafkaClient, createKafkaMetrics, provisionTopics } from '../src/index.ts';

const CALLERS = Number(process.env.BENCH_CALLERS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const LINGERS = (process.env.BENCH_LINGERS ?? '0,2,5').split(',').map(Number);
const logger: ServiceLogger = { error: (...line: unknown[]) => console.error(...line), warn: () => undefined, info: () => undefined, debug: () => undefined, child: () => logger };
const client = createKafkaClient({
  brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  clientId: 'produce-batching',
  logger,
  topicPrefix: `bench-produce-${Date.now().toString(36)}.`,
});
await provisionTopics(client, { topics: [postEvents.name], partitions: 3 });
const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const organisationId = randomUUID();
const event = () => ({
  type: 'post.published' as const,
  data: {
    postId: randomUUID(),
    socialAccountId: randomUUID(),
    platform: 'instagram' as const,
    postType: 'feed' as const,
    contentId: null,
    platformPostId: '17900000000000001',
    platformUrl: null,
    mediaCount: 1,
    publishedAt: new Date().toISOString(),
  },
  metadata: { organisationId },
});

console.log(`${CALLERS} callers, ${SECONDS} s per linger`);
for (const lingerMs of LINGERS) {
  const registry = new Registry();
  const producer = createEventProducer(client, { source: '/postwire/bench', metrics: createKafkaMetrics(registry), batch: { lingerMs } });
  await producer.connect();
  await producer.publish(postEvents, [event()]);
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  const until = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (performance.now() < until) {
        const called = performance.now();
        await producer.publish(postEvents, [event()]);
        latencies.push(performance.now() - called);
      }
    }),
  );
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const batches = (await registry.getMetricsAsJSON()).find((metric) => metric.name === 'postwire_events_produced_batch_messages');
  const value = (suffix: string) => batches?.values.find((entry) => (entry as { metricName?: string }).metricName?.endsWith(suffix))?.value ?? 0;
  await producer.disconnect();
  const sorted = latencies.sort((a, b) => a - b);
  console.log(
    `linger ${lingerMs} ms: ${((latencies.length * 1000) / elapsed).toFixed(0)} events/s, p50 ${percentile(sorted, 50).toFixed(1)} ms, ` +
      `p99 ${percentile(sorted, 99).toFixed(1)} ms, CPU ${((used.user + used.system) / 1000 / latencies.length).toFixed(3)} ms/event, ` +
      `${(value('_sum') / Math.max(1, value('_count'))).toFixed(1)} events per request`,
  );
}
