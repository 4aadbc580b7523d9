import type { Admin } from 'kafkajs';
import { deadLetterTopicName } from '@postwire/contracts';
import type { KafkaClient } from './client.ts';

export type ProvisionOptions = {
  readonly topics: readonly string[];
  /** Fixed at creation: adding partitions later moves keys to other partitions and breaks their order. */
  readonly partitions: number;
  /** -1: the broker's default.replication.factor. */
  readonly replicationFactor?: number;
  readonly deadLetter?: boolean;
  readonly configEntries?: Readonly<Record<string, string>>;
};

export type ProvisionReport = {
  readonly created: readonly string[];
  readonly existing: readonly string[];
  /** Existing topics whose partition count differs from the requested one (left as they are). */
  readonly mismatched: readonly { readonly topic: string; readonly partitions: number }[];
};

/**
 * Creates each topic and its dead-letter topic when missing; safe to run at every start and from
 * many instances at once. Existing topics are never altered.
 */
/**
 * A topic another process has just created may be listed before its partitions have leaders; using
 * it then fails with "This server does not host this topic-partition". Wait until every partition
 * of every wanted topic has one.
 */
async function awaitLeaders(admin: Admin, topics: readonly string[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
      if (metadata.topics.every((topic) => topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0))) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`topics without partition leaders after ${timeoutMs} ms: ${topics.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function provisionTopics(client: KafkaClient, options: ProvisionOptions): Promise<ProvisionReport> {
  // Contract names in, cluster names out: the client's prefix goes before each.
  const wanted = options.topics.flatMap((topic) =>
    (options.deadLetter === false ? [topic] : [topic, deadLetterTopicName(topic)]).map((name) => client.topic(name)),
  );
  const admin = client.kafka.admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    const missing = [...new Set(wanted)].filter((topic) => !present.has(topic));
    const configEntries = Object.entries(options.configEntries ?? {}).map(([name, value]) => ({ name, value }));
    if (missing.length > 0) {
      // Returns false (no error) for topics another instance created in the meantime.
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: options.partitions,
          replicationFactor: options.replicationFactor ?? -1,
          configEntries,
        })),
      });
    }
    await awaitLeaders(admin, [...new Set(wanted)]);
    const existing = wanted.filter((topic) => present.has(topic));
    const metadata = existing.length > 0 ? await admin.fetchTopicMetadata({ topics: existing }) : { topics: [] };
    const mismatched = metadata.topics
      .filter((topic) => topic.partitions.length !== options.partitions)
      .map((topic) => ({ topic: topic.name, partitions: topic.partitions.length }));
    if (mismatched.length > 0) {
      client.logger.warn({ mismatched, requested: options.partitions }, 'topics exist with another partition count; left unchanged');
    }
    return { created: missing, existing, mismatched };
  } finally {
    await admin.disconnect();
  }
}
