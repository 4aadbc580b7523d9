import {
  type EncodedEvent,
  type OutgoingEvent,
  type TopicContract,
  encodeEvent,
} from '@postwire/contracts';
import { CompressionTypes, type Message, Partitioners, type Producer, type TopicMessages } from 'kafkajs';
import { type BatchLimits, DEFAULT_BATCH_LIMITS, createSendBatcher } from './batcher.ts';
import type { KafkaClient } from './client.ts';
import type { KafkaMetrics } from './metrics.ts';

export type EventProducerOptions = {
  /** CloudEvents source of this service, e.g. `/postwire/publisher`. */
  readonly source: string;
  readonly metrics?: KafkaMetrics;
  readonly retries?: number;
  readonly requestTimeoutMs?: number;
  /**
   * Concurrent callers' events for a topic go out in one produce request (`DEFAULT_BATCH_LIMITS`: a
   * 2 ms linger, 500 messages, 512 KiB). `lingerMs: 0` sends every call on its own.
   */
  readonly batch?: Partial<BatchLimits>;
};

export type EventProducer = {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Validates against the topic's contract, then sends; resolves once all in-sync replicas have them. */
  publish<Topic extends TopicContract>(topic: Topic, events: readonly OutgoingEvent<Topic>[]): Promise<EncodedEvent[]>;
  /** Sends records already validated and encoded (the outbox relay), in the order given. */
  sendEncoded(records: readonly EncodedEvent[]): Promise<void>;
};

/**
 * Not kafkajs's idempotent producer: with concurrent sends it silently loses messages (tulios/kafkajs
 * #1005, still open) or fails with OUT_OF_ORDER_SEQUENCE_NUMBER (#598). Duplicates from our own
 * retries are instead dropped by each consumer's inbox. Per-key order under retries comes from
 * maxInFlightRequests 1 and one batch in flight per topic: a retried batch cannot be overtaken by the next one.
 */
export function createEventProducer(client: KafkaClient, options: EventProducerOptions): EventProducer {
  const producer: Producer = client.kafka.producer({
    allowAutoTopicCreation: false,
    idempotent: false,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: options.retries ?? 5, initialRetryTime: 100, maxRetryTime: 5_000 },
  });
  const timeout = options.requestTimeoutMs ?? 30_000;
  const limits: BatchLimits = { ...DEFAULT_BATCH_LIMITS, ...options.batch };
  async function send(topicMessages: TopicMessages[]): Promise<void> {
    await producer.sendBatch({
      topicMessages: topicMessages.map(({ topic, messages }) => ({ topic: client.topic(topic), messages })),
      acks: -1,
      timeout,
      compression: CompressionTypes.None,
    });
    for (const { topic, messages } of topicMessages) options.metrics?.producedBatch.observe({ topic }, messages.length);
  }
  const batcher = createSendBatcher<Message>(limits, (topic, messages) => send([{ topic, messages }]));

  async function sendEncoded(records: readonly EncodedEvent[]): Promise<void> {
    if (records.length === 0) return;
    const byTopic = new Map<string, { topic: string; messages: Message[]; bytes: number }>();
    for (const record of records) {
      let entry = byTopic.get(record.topic);
      if (!entry) {
        entry = { topic: record.topic, messages: [], bytes: 0 };
        byTopic.set(record.topic, entry);
      }
      const { key, value, headers } = record.message;
      entry.messages.push({ key, value, headers: { ...headers } });
      if (limits.lingerMs > 0) entry.bytes += Buffer.byteLength(value) + key.length + headersLength(headers);
    }
    const entries = [...byTopic.values()];
    if (limits.lingerMs <= 0) await send(entries);
    else await Promise.all(entries.map((entry) => batcher.send(entry.topic, entry.messages, entry.bytes)));
    for (const record of records) options.metrics?.produced.inc({ topic: record.topic, type: record.type });
  }

  return {
    connect: () => producer.connect(),
    async disconnect() {
      await batcher.drain();
      await producer.disconnect();
    },
    async publish(topic, events) {
      const encoded = events.map((event) => encodeEvent(topic, event, { source: options.source }));
      await sendEncoded(encoded);
      return encoded;
    },
    sendEncoded,
  };
}

function headersLength(headers: Readonly<Record<string, string>>): number {
  let length = 0;
  for (const name in headers) length += name.length + Buffer.byteLength(headers[name] ?? '');
  return length;
}
