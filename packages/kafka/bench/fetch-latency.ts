// The floor under any consumer: plain kafkajs, send -> eachBatch, no database, no contracts.
//   node packages/kafka/bench/fetch-latency.ts      (KAFKA_BROKERS, default 127.0.0.1:9092)
// Also prints how long kafkajs's loop takes between a fetch response and the next fetch request.
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { applyRequestQueueFix } from '../src/index.ts';

applyRequestQueueFix();
const kafka = new Kafka({ brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), clientId: 'fetch-latency', logLevel: logLevel.NOTHING });
const topic = `bench.fetch-latency.${Date.now().toString(36)}`;
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
const producer = kafka.producer({ maxInFlightRequests: 1, allowAutoTopicCreation: false });
await producer.connect();
const consumer = kafka.consumer({ groupId: topic, maxWaitTimeInMs: 100 });
const responses: number[] = [];
const gaps: number[] = [];
consumer.on(consumer.events.REQUEST, (event) => {
  if (event.payload.apiName !== 'Fetch') return;
  const last = responses.at(-1);
  if (last !== undefined) gaps.push(event.payload.sentAt - last);
  responses.push(event.payload.sentAt + event.payload.duration);
});
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
const latencies: number[] = [];
// BENCH_AUTOCOMMIT=1 restores kafkajs's default: an OffsetCommit after every batch, awaited before the next fetch.
await consumer.run({
  autoCommit: process.env.BENCH_AUTOCOMMIT === '1',
  partitionsConsumedConcurrently: 3,
  eachBatch: async ({ batch }) => {
    for (const message of batch.messages) latencies.push(Date.now() - Number(message.timestamp));
  },
});
await sleep(3_000);
for (let index = 0; index < 2_000; index += 1) {
  await producer.send({ topic, acks: -1, messages: [{ key: String(index % 50), value: 'x' }] });
  await sleep(1);
}
await sleep(1_000);
const at = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.floor((p / 100) * values.length)];
console.log({
  sendToEachBatchMs: { p50: at(latencies, 50), p99: at(latencies, 99), count: latencies.length },
  fetchResponseToNextFetchMs: { p50: at(gaps, 50), p99: at(gaps, 99) },
});
await consumer.disconnect();
await producer.disconnect();
await admin.deleteTopics({ topics: [topic] });
await admin.disconnect();
