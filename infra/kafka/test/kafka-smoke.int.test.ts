import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import type {} from '@postwire/testing';

// Proves that the pinned broker (Kafka 4.1.x, KRaft) works with kafkajs 2.2.4 for what Postwire
// needs from it: creating topics, producing with acks from all in-sync replicas, consuming in a group.
describe('local Kafka broker with kafkajs', () => {
  const kafka = new Kafka({ brokers: inject('kafkaBrokers'), clientId: 'kafka-smoke', logLevel: logLevel.NOTHING });
  let admin: Admin;
  let producer: Producer;

  beforeAll(async () => {
    admin = kafka.admin();
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await Promise.all([admin.connect(), producer.connect()]);
  });

  afterAll(async () => {
    await Promise.all([admin.disconnect(), producer.disconnect()]);
  });

  it('creates a topic with the requested partition count', async () => {
    const topic = `smoke.create.${randomUUID()}`;
    const created = await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
    expect(created).toBe(true);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(4);
  });

  it('does not create topics implicitly', async () => {
    const topic = `smoke.absent.${randomUUID()}`;
    const impatient = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 1, initialRetryTime: 100 } });
    await impatient.connect();
    await expect(impatient.send({ topic, acks: -1, messages: [{ value: 'x' }] })).rejects.toThrow();
    await impatient.disconnect();
    const topics = await admin.listTopics();
    expect(topics).not.toContain(topic);
  });

  it('delivers produced messages to a consumer group, in order per key', async () => {
    const topic = `smoke.group.${randomUUID()}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const sent = Array.from({ length: 30 }, (_, index) => ({ key: `key-${index % 3}`, value: `${index}` }));
    await producer.send({ topic, acks: -1, messages: sent });

    const groupId = `smoke-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: { key: string; value: string }[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`received ${received.length} of ${sent.length}`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          received.push({ key: String(message.key), value: String(message.value) });
          if (received.length === sent.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();

    expect(received).toHaveLength(sent.length);
    for (const key of ['key-0', 'key-1', 'key-2']) {
      const expected = sent.filter((message) => message.key === key).map((message) => message.value);
      expect(received.filter((message) => message.key === key).map((message) => message.value)).toEqual(expected);
    }
    // The group committed its position: a restarted member would not read these messages again.
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const total = committed?.partitions.reduce((sum, partition) => sum + Number(partition.offset), 0);
    expect(total).toBe(sent.length);
  });
});
