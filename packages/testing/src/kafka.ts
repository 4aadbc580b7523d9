import { Kafka, logLevel } from 'kafkajs';
import { inject } from 'vitest';
import { uniqueName } from './database.ts';
import { eventually } from './eventually.ts';

/** The Kafka settings every service takes in a test: the harness's brokers and this run's topic prefix. */
export function kafkaTestEnvironment(): { KAFKA_BROKERS: string; KAFKA_TOPIC_PREFIX: string } {
  return { KAFKA_BROKERS: inject('kafkaBrokers').join(','), KAFKA_TOPIC_PREFIX: inject('kafkaTopicPrefix') };
}

/** This run's name on the cluster of a contract's topic (or consumer group). */
export function testTopic(name: string): string {
  return `${inject('kafkaTopicPrefix')}${name}`;
}

export type Observed = {
  readonly key: string;
  readonly headers: Record<string, string>;
  readonly value: string;
  readonly data: Record<string, unknown>;
};

export type TopicObserver = {
  readonly messages: Observed[];
  /** Resolves once every record the topic holds now has been read, so an absence can be asserted. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
};

/**
 * A plain kafkajs reader of one of this run's topics (named as in its contract), outside everything under
 * test: it reads from the beginning and keeps every record. Resolves once it has its partitions, so nothing
 * written afterwards is missed.
 */
export async function observeTopic(topic: string): Promise<TopicObserver> {
  const kafka = new Kafka({ brokers: inject('kafkaBrokers'), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: testTopic(uniqueName('observer')) });
  const admin = kafka.admin();
  const messages: Observed[] = [];
  /** The next offset this reader will read, per partition. */
  const readUpTo = new Map<number, number>();
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await Promise.all([consumer.connect(), admin.connect()]);
  await consumer.subscribe({ topic: testTopic(topic), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      readUpTo.set(partition, Number(message.offset) + 1);
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([key, value]) => [key, String(value)]));
      const value = String(message.value);
      messages.push({ key: String(message.key), headers, value, data: JSON.parse(value) as Record<string, unknown> });
    },
  });
  await joined;
  async function caughtUp(): Promise<void> {
    const ends = await admin.fetchTopicOffsets(testTopic(topic));
    await eventually(
      () => (ends.every(({ partition, high }) => (readUpTo.get(partition) ?? 0) >= Number(high)) ? true : undefined),
      `the observer to read ${topic} to its end`,
      { timeoutMs: 15_000 },
    );
  }
  return { messages, caughtUp, stop: async () => void (await Promise.all([consumer.disconnect(), admin.disconnect()])) };
}
