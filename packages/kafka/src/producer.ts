import {
  type EncodedEvent,
  type OutgoingEvent,
  type TopicContract,
  encodeEvent,
} from '@postwire/contracts';
import { CompressionTypes, Partitioners, type Producer, type TopicMessages } from 'kafkajs';
import type { KafkaClient } from './client.ts';
import type { KafkaMetrics } from './metrics.ts';

export type EventProducerOptions = {
  /** CloudEvents source of this service, e.g. `/postwire/publisher`. */
  readonly source: string;
  readonly metrics?: KafkaMetrics;
  readonly retries?: number;
  readonly requestTimeoutMs?: number;
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
 * maxInFlightRequests 1: a retried batch cannot be overtaken by the next one.
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

  async function sendEncoded(records: readonly EncodedEvent[]): Promise<void> {
    if (records.length === 0) return;
    const byTopic = new Map<string, TopicMessages>();
    for (const record of records) {
      let entry = byTopic.get(record.topic);
      if (!entry) {
        entry = { topic: client.topic(record.topic), messages: [] };
        byTopic.set(record.topic, entry);
      }
      entry.messages.push({ key: record.message.key, value: record.message.value, headers: { ...record.message.headers } });
    }
    await producer.sendBatch({ topicMessages: [...byTopic.values()], acks: -1, timeout, compression: CompressionTypes.None });
    for (const record of records) options.metrics?.produced.inc({ topic: record.topic, type: record.type });
  }

  return {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    async publish(topic, events) {
      const encoded = events.map((event) => encodeEvent(topic, event, { source: options.source }));
      await sendEncoded(encoded);
      return encoded;
    },
    sendEncoded,
  };
}
