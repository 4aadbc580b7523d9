import { randomUUID } from 'node:crypto';
import {
  ContractViolationError,
  DEAD_LETTER_HEADERS,
  type LegacyTopic,
  createEventReader,
  deadLetterTopicName,
  encodeEvent,
  postEventsV0,
  toHeaders,
} from '@postwire/contracts';
import { uniqueName } from '@postwire/testing';
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type ConsumedEvent,
  type DeadLetterFailure,
  type EventConsumer,
  type KafkaClient,
  NonRetryableError,
  createEventConsumer,
  createEventProducer,
  createKafkaClient,
  createKafkaMetrics,
  provisionTopics,
} from '../src/index.ts';
import { logger, publishedData, readTopic, testPostTopic, until } from './helpers.ts';

type TestTopic = ReturnType<typeof testPostTopic>;

const brokers = inject('kafkaBrokers');
const source = '/postwire/test';
let client: KafkaClient;
const raw = new Kafka({ brokers, clientId: 'raw-test-producer', logLevel: logLevel.NOTHING });
const rawProducer = raw.producer({ allowAutoTopicCreation: false });
const consumers: EventConsumer[] = [];

beforeAll(async () => {
  client = createKafkaClient({ brokers, clientId: 'kafka-int-test', logger });
  await rawProducer.connect();
});

afterAll(async () => {
  await Promise.all(consumers.map((consumer) => consumer.stop().catch(() => undefined)));
  await rawProducer.disconnect();
});

async function prepareTopic(partitions = 1): Promise<TestTopic> {
  const topic = testPostTopic();
  await provisionTopics(client, { topics: [topic.name], partitions });
  return topic;
}

function encoded(topic: TestTopic, accountId: string, sequence: number) {
  return encodeEvent(
    topic,
    { type: 'post.published', data: publishedData(accountId, sequence), metadata: { organisationId: randomUUID() } },
    { source },
  );
}

function startConsumer(
  topic: TestTopic,
  handle: (event: ConsumedEvent<TestTopic>) => Promise<void>,
  overrides: {
    maxAttempts?: number;
    metrics?: ReturnType<typeof createKafkaMetrics>;
    groupId?: string;
    onDeadLetter?: (event: ConsumedEvent<TestTopic>, failure: DeadLetterFailure) => Promise<void>;
  } = {},
) {
  const consumer = createEventConsumer(client, {
    groupId: overrides.groupId ?? uniqueName('group'),
    reader: createEventReader(topic),
    handler: { handle },
    logger,
    metrics: overrides.metrics,
    maxAttempts: overrides.maxAttempts ?? 3,
    backoff: { initialDelayMs: 10, maxDelayMs: 50 },
    maxWaitTimeMs: 100,
    ...(overrides.onDeadLetter ? { onDeadLetter: overrides.onDeadLetter } : {}),
  });
  consumers.push(consumer);
  return consumer;
}

describe('topic provisioning', () => {
  it('creates each topic and its dead-letter topic with the partition count, and is safe to repeat', async () => {
    const topic = `${uniqueName('test.provision')}.v1`;
    const first = await provisionTopics(client, { topics: [topic], partitions: 4 });
    const again = await provisionTopics(client, { topics: [topic], partitions: 4 });

    expect(first.created).toEqual([topic, deadLetterTopicName(topic)]);
    expect(again).toEqual({ created: [], existing: [topic, deadLetterTopicName(topic)], mismatched: [] });
    const admin = raw.admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: [topic, deadLetterTopicName(topic)] });
    await admin.disconnect();
    expect(metadata.topics.map((entry) => entry.partitions.length)).toEqual([4, 4]);
  });
});

describe('contract validation on produce', () => {
  it('refuses to publish an event that breaks its contract; nothing reaches the topic', async () => {
    const topic = await prepareTopic();
    const producer = createEventProducer(client, { source });
    await producer.connect();
    const accountId = randomUUID();
    const invalid = {
      type: 'post.published' as const,
      data: { ...publishedData(accountId, 1), platformPostId: '' },
      metadata: { organisationId: randomUUID() },
    };
    await expect(producer.publish(topic, [invalid])).rejects.toBeInstanceOf(ContractViolationError);
    await producer.publish(topic, [{ ...invalid, data: publishedData(accountId, 2) }]);
    await producer.disconnect();

    const messages = await readTopic(brokers, topic.name, 1);
    expect(messages.map((message) => JSON.parse(String(message.value)).platformPostId)).toEqual(['media-2']);
  });
});

describe('consumer edge', () => {
  it('parks a malformed message in the DLQ with the reason and its original headers, then processes the next one', async () => {
    const topic = await prepareTopic();
    const registry = new Registry();
    const metrics = createKafkaMetrics(registry);
    const accountId = randomUUID();
    const first = encoded(topic, accountId, 1);
    const malformed = encoded(topic, accountId, 2);
    const schemaBreaking = encoded(topic, accountId, 3);
    const last = encoded(topic, accountId, 4);
    await rawProducer.send({
      topic: topic.name,
      acks: -1,
      messages: [
        { ...first.message, headers: { ...first.message.headers } },
        { key: accountId, value: '{"postId": "unterminated', headers: { ...malformed.message.headers, 'x-origin': 'legacy-tool' } },
        {
          key: accountId,
          value: JSON.stringify({ ...JSON.parse(schemaBreaking.message.value), platform: 'myspace' }),
          headers: { ...schemaBreaking.message.headers },
        },
        { ...last.message, headers: { ...last.message.headers } },
      ],
    });

    const handled: string[] = [];
    const consumer = startConsumer(topic, async (event) => void handled.push(event.metadata.id), { metrics });
    await consumer.start();
    await until(() => handled.length === 2, 20_000, 'two valid events');

    expect(handled).toEqual([first.id, last.id]);
    const parked = await readTopic(brokers, deadLetterTopicName(topic.name), 2);
    const header = (index: number, name: string) => parked[index]?.headers?.[name]?.toString();
    expect(parked.map((message) => message.value?.toString())).toEqual([
      '{"postId": "unterminated',
      expect.stringContaining('myspace'),
    ]);
    expect(header(0, DEAD_LETTER_HEADERS.reason)).toBe('invalid-json');
    expect(header(1, DEAD_LETTER_HEADERS.reason)).toBe('schema-mismatch');
    expect(header(1, DEAD_LETTER_HEADERS.error)).toContain('platform');
    expect(header(0, DEAD_LETTER_HEADERS.originalTopic)).toBe(topic.name);
    expect(header(0, DEAD_LETTER_HEADERS.originalOffset)).toBe('1');
    expect(header(0, 'x-origin')).toBe('legacy-tool');
    expect(header(0, 'ce_id')).toBe(malformed.id);
    expect(parked[0]?.key?.toString()).toBe(accountId);

    await until(async () => {
      const lag = await consumer.lag();
      return lag.length > 0 && lag.every((row) => row.lag === 0);
    }, 10_000, 'offsets committed');
    const exposition = await registry.metrics();
    expect(exposition).toMatch(/postwire_events_dead_lettered_total\{[^}]*reason="invalid-json"[^}]*\} 1/);
    expect(exposition).toMatch(/postwire_events_consumed_total\{[^}]*type="post.published"[^}]*outcome="processed"\} 2/);
    expect(exposition).toMatch(/postwire_consumer_lag_messages\{[^}]*\} 0/);
  });

  it('retries a failing handler with backoff, then dead-letters the message and moves on', async () => {
    const topic = await prepareTopic();
    const accountId = randomUUID();
    const poisoned = encoded(topic, accountId, 1);
    const next = encoded(topic, accountId, 2);
    const producer = createEventProducer(client, { source });
    await producer.connect();
    await producer.sendEncoded([poisoned, next]);
    await producer.disconnect();

    const attempts: string[] = [];
    const handled: string[] = [];
    const consumer = startConsumer(topic, async (event) => {
      attempts.push(event.metadata.id);
      if (event.metadata.id === poisoned.id) throw new Error('graph api is down');
      handled.push(event.metadata.id);
    });
    await consumer.start();
    await until(() => handled.length === 1, 20_000, 'next event');

    expect(attempts.filter((id) => id === poisoned.id)).toHaveLength(3);
    const [parked] = await readTopic(brokers, deadLetterTopicName(topic.name), 1);
    expect(parked?.headers?.[DEAD_LETTER_HEADERS.reason]?.toString()).toBe('handler-failed');
    expect(parked?.headers?.[DEAD_LETTER_HEADERS.attempts]?.toString()).toBe('3');
    expect(parked?.headers?.[DEAD_LETTER_HEADERS.error]?.toString()).toBe('Error: graph api is down');
  });

  it('dead-letters at once when the handler says retrying cannot help', async () => {
    const topic = await prepareTopic();
    const accountId = randomUUID();
    const rejected = encoded(topic, accountId, 1);
    const producer = createEventProducer(client, { source });
    await producer.connect();
    await producer.sendEncoded([rejected, encoded(topic, accountId, 2)]);
    await producer.disconnect();

    let attempts = 0;
    let handled = 0;
    const consumer = startConsumer(topic, async (event) => {
      if (event.metadata.id !== rejected.id) return void (handled += 1);
      attempts += 1;
      throw new NonRetryableError('post belongs to an account that was deleted');
    });
    await consumer.start();
    await until(() => handled === 1, 20_000, 'next event');

    expect(attempts).toBe(1);
    const [parked] = await readTopic(brokers, deadLetterTopicName(topic.name), 1);
    expect(parked?.headers?.[DEAD_LETTER_HEADERS.reason]?.toString()).toBe('handler-rejected');
  });

  it('answers a dead letter through onDeadLetter, retrying the answer while it fails, then moves on', async () => {
    const topic = await prepareTopic();
    const accountId = randomUUID();
    const rejected = encoded(topic, accountId, 1);
    const producer = createEventProducer(client, { source });
    await producer.connect();
    await producer.sendEncoded([rejected, encoded(topic, accountId, 2)]);
    await producer.disconnect();

    const answers: { id: string; reason: string; attempts: number }[] = [];
    let answerCalls = 0;
    let handled = 0;
    const consumer = startConsumer(
      topic,
      async (event) => {
        if (event.metadata.id !== rejected.id) return void (handled += 1);
        throw new NonRetryableError('the account is gone');
      },
      {
        onDeadLetter: async (event, failure) => {
          answerCalls += 1;
          // The requester's answer fails twice (say, its database is briefly down), then goes through.
          if (answerCalls < 3) throw new Error('database unavailable');
          answers.push({ id: event.metadata.id, reason: failure.reason, attempts: failure.attempts });
        },
      },
    );
    await consumer.start();
    await until(() => handled === 1, 20_000, 'next event');

    expect(answerCalls).toBe(3);
    expect(answers).toEqual([{ id: rejected.id, reason: 'handler-rejected', attempts: 1 }]);
    const [parked] = await readTopic(brokers, deadLetterTopicName(topic.name), 1);
    expect(parked?.headers?.[DEAD_LETTER_HEADERS.reason]?.toString()).toBe('handler-rejected');
  });

  it('on stop, finishes the message in hand and commits it; a restarted member continues after it', async () => {
    const topic = await prepareTopic();
    const accountId = randomUUID();
    const events = [1, 2, 3, 4].map((sequence) => encoded(topic, accountId, sequence));
    const producer = createEventProducer(client, { source });
    await producer.connect();
    await producer.sendEncoded(events);
    await producer.disconnect();
    const groupId = uniqueName('group');

    const handled: string[] = [];
    let release: () => void = () => undefined;
    const inHand = new Promise<void>((resolve) => (release = resolve));
    const first = startConsumer(
      topic,
      async (event) => {
        if (event.metadata.id === events[1]?.id) await inHand;
        handled.push(event.metadata.id);
      },
      { groupId },
    );
    await first.start();
    await until(() => handled.length === 1, 20_000, 'first event');
    let stopped = false;
    const stopping = first.stop().then(() => void (stopped = true));
    // Stopping first commits what is done (the first event); from then on nothing new starts.
    const admin = client.kafka.admin();
    await admin.connect();
    try {
      await until(async () => {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic.name] });
        return committed?.partitions.find((entry) => entry.partition === 0)?.offset === '1';
      }, 20_000, 'the first event to be committed');
    } finally {
      await admin.disconnect();
    }
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(handled.slice(0, 2)).toEqual([events[0]?.id, events[1]?.id]);

    const second = startConsumer(topic, async (event) => void handled.push(event.metadata.id), { groupId });
    await second.start();
    await until(() => handled.length >= 4, 20_000, 'the rest');
    // The restarted member continues after what the first finished and committed: each event once, in order.
    expect(handled).toEqual(events.map((event) => event.id));
  });
});

describe('upcasting at the edge', () => {
  it('hands the handler a v1 event for a v0 message read from the legacy topic', async () => {
    const topic = await prepareTopic();
    const legacyName = topic.name.replace(/\.v1$/, '.v0');
    await provisionTopics(client, { topics: [legacyName], partitions: 1 });
    const legacy: LegacyTopic<TestTopic> = { name: legacyName, current: topic, upcasters: postEventsV0.upcasters };
    const accountId = randomUUID();
    const postId = randomUUID();
    const headers = toHeaders('post.published', {
      id: randomUUID(),
      source: '/legacy/publisher',
      time: new Date().toISOString(),
      organisationId: randomUUID(),
      correlationId: randomUUID(),
    });
    await rawProducer.send({
      topic: legacyName,
      acks: -1,
      messages: [
        {
          key: accountId,
          headers,
          value: JSON.stringify({
            post_id: postId,
            account_id: accountId,
            platform: 'facebook',
            post_type: 'feed',
            media_id: '1234567890_987654321',
            permalink: null,
            published_at: 1_748_770_200,
          }),
        },
      ],
    });

    const seen: ConsumedEvent<TestTopic>[] = [];
    const consumer = createEventConsumer(client, {
      groupId: uniqueName('group'),
      reader: createEventReader(topic, { legacy: [legacy] }),
      handler: { handle: async (event) => void seen.push(event) },
      logger,
      maxWaitTimeMs: 100,
    });
    consumers.push(consumer);
    await consumer.start();
    await until(() => seen.length === 1, 20_000, 'the upcast event');

    expect(seen[0]).toMatchObject({
      type: 'post.published',
      data: { postId, socialAccountId: accountId, platformPostId: '1234567890_987654321', publishedAt: '2025-06-01T09:30:00.000Z' },
      position: { topic: legacyName },
    });
  });
});
