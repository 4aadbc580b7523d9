import { randomUUID } from 'node:crypto';
import { encodeEvent } from '@postwire/contracts';
import { Registry } from 'prom-client';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type EventProducerOptions, type KafkaClient, createEventProducer, createKafkaClient, createKafkaMetrics, provisionTopics } from '../src/index.ts';
import { logger, publishedData, readTopic, testPostTopic } from './helpers.ts';

type TestTopic = ReturnType<typeof testPostTopic>;

const brokers = inject('kafkaBrokers');
const source = '/postwire/test';
let client: KafkaClient;

beforeAll(() => {
  client = createKafkaClient({ brokers, clientId: 'kafka-producer-int-test', logger });
});

async function prepareTopic(partitions = 1): Promise<TestTopic> {
  const topic = testPostTopic();
  await provisionTopics(client, { topics: [topic.name], partitions });
  return topic;
}

async function connectedProducer(options: Partial<EventProducerOptions> = {}) {
  const registry = new Registry();
  const producer = createEventProducer(client, { source, metrics: createKafkaMetrics(registry), ...options });
  await producer.connect();
  /** How many produce requests went out, and how many events they carried. */
  const requests = async () => {
    const metric = (await registry.getMetricsAsJSON()).find((entry) => entry.name === 'postwire_events_produced_batch_messages');
    const value = (suffix: string) =>
      metric?.values.find((entry) => (entry as { metricName?: string }).metricName === `postwire_events_produced_batch_messages${suffix}`)?.value ?? 0;
    return { count: value('_count'), events: value('_sum') };
  };
  return { producer, requests };
}

const event = (accountId: string, sequence: number) => ({
  type: 'post.published' as const,
  data: publishedData(accountId, sequence),
  metadata: { organisationId: randomUUID() },
});

describe('producer batching', () => {
  it("sends concurrent callers' events in a few requests, each account's events in the order they were published", async () => {
    const topic = await prepareTopic(3);
    const { producer, requests } = await connectedProducer({ batch: { lingerMs: 5 } });
    const accounts = [randomUUID(), randomUUID(), randomUUID()];
    const calls = Array.from({ length: 300 }, (_, sequence) => producer.publish(topic, [event(accounts[sequence % 3] ?? '', sequence)]));
    await Promise.all(calls);
    const sent = await requests();
    await producer.disconnect();

    expect(sent.events).toBe(300);
    expect(sent.count).toBeLessThan(30);
    const messages = await readTopic(brokers, topic.name, 300);
    for (const account of accounts) {
      const sequences = messages
        .filter((message) => message.key?.toString() === account)
        .map((message) => Number((JSON.parse(String(message.value)) as { platformPostId: string }).platformPostId.replace('media-', '')));
      expect(sequences).toHaveLength(100);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    }
  });

  it('with linger 0, sends every call in a request of its own', async () => {
    const topic = await prepareTopic();
    const { producer, requests } = await connectedProducer({ batch: { lingerMs: 0 } });
    const accountId = randomUUID();
    await Promise.all(Array.from({ length: 20 }, (_, sequence) => producer.publish(topic, [event(accountId, sequence)])));
    const sent = await requests();
    await producer.disconnect();

    expect(sent).toEqual({ count: 20, events: 20 });
    expect(await readTopic(brokers, topic.name, 20)).toHaveLength(20);
  });

  it('fails the callers of a batch the broker refuses, each with the error, and sends the batches around it', async () => {
    const topic = await prepareTopic();
    const { producer } = await connectedProducer({ batch: { lingerMs: 5 }, retries: 0 });
    const accountId = randomUUID();
    const small = (sequence: number) => encodeEvent(topic, event(accountId, sequence), { source });
    // Beyond the broker's message.max.bytes (1 MiB by default): refused with MESSAGE_TOO_LARGE, not retried.
    const oversized = { ...small(2), message: { ...small(2).message, value: 'x'.repeat(1_200_000) } };
    const outcomes = await Promise.allSettled([
      producer.sendEncoded([small(1)]),
      producer.sendEncoded([oversized]),
      producer.sendEncoded([small(3)]),
    ]);
    await producer.disconnect();

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const messages = await readTopic(brokers, topic.name, 2);
    expect(messages.map((message) => (JSON.parse(String(message.value)) as { platformPostId: string }).platformPostId)).toEqual(['media-1', 'media-3']);
  });

  it('fails every caller whose events shared the failed request, and only them', async () => {
    const topic = await prepareTopic();
    const missing = testPostTopic(); // never provisioned, and the broker creates no topics
    const { producer } = await connectedProducer({ batch: { lingerMs: 20 }, retries: 0 });
    const accountId = randomUUID();
    const outcomes = await Promise.allSettled([
      producer.publish(missing, [event(accountId, 1)]),
      producer.publish(topic, [event(accountId, 2)]),
      producer.publish(missing, [event(accountId, 3)]),
    ]);
    await producer.disconnect();

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'fulfilled', 'rejected']);
    const [first, , third] = outcomes;
    expect(first?.status === 'rejected' && third?.status === 'rejected' && first.reason === third.reason).toBe(true);
  });

  it('sends what is still lingering before it disconnects', async () => {
    const topic = await prepareTopic();
    const { producer } = await connectedProducer({ batch: { lingerMs: 60_000 } });
    const accountId = randomUUID();
    const call = producer.publish(topic, [event(accountId, 1)]);
    await producer.disconnect();

    await expect(call).resolves.toHaveLength(1);
    expect(await readTopic(brokers, topic.name, 1)).toHaveLength(1);
  });
});
