import { randomUUID } from 'node:crypto';
import { defineTopic, postEvents } from '@postwire/contracts';
import { testTopic, uniqueName } from '@postwire/testing';
import { Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { pino } from 'pino';

export const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

/** The post-events contract under a topic name no other test uses. */
export function testPostTopic() {
  return defineTopic({
    ...postEvents,
    name: `${uniqueName(testTopic('post-events'))}.v1`,
    events: postEvents.events,
  });
}

export function publishedData(socialAccountId: string, sequence: number) {
  return {
    postId: randomUUID(),
    socialAccountId,
    platform: 'instagram' as const,
    postType: 'feed' as const,
    contentId: null,
    platformPostId: `media-${sequence}`,
    platformUrl: null,
    mediaCount: 1,
    publishedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, sequence)).toISOString(),
  };
}

/** Reads a whole topic from the start with a throwaway group (for asserting what was written). */
export async function readTopic(brokers: string[], topic: string, expected: number, timeoutMs = 20_000): Promise<KafkaMessage[]> {
  const kafka = new Kafka({ brokers, clientId: 'test-reader', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${messages.length} of ${expected} from ${topic}`)), timeoutMs);
      void consumer.run({
        eachMessage: async ({ message }) => {
          messages.push(message);
          if (messages.length >= expected) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
