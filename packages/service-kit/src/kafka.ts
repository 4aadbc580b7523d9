import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { TopicContract } from '@postwire/contracts';
import {
  type EventProducer,
  type KafkaClient,
  type KafkaMetrics,
  createEventProducer,
  createKafkaClient,
  createKafkaMetrics,
  provisionTopics,
} from '@postwire/kafka';

declare module 'fastify' {
  interface FastifyInstance {
    kafka: { readonly client: KafkaClient; readonly producer: EventProducer; readonly metrics: KafkaMetrics };
  }
}

export type KafkaPluginOptions = {
  readonly service: string;
  readonly brokers: readonly string[];
  /** Topics this service produces: provisioned (with their dead-letter topics) before it starts. */
  readonly produces: readonly TopicContract[];
  /**
   * Topics it consumes, provisioned too: services start in any order, and subscribing to a topic
   * that does not exist yet fails. Provisioning is idempotent, with the same configured partitions.
   */
  readonly consumes?: readonly TopicContract[];
  readonly partitions: number;
  /** Put before every topic name (config `KAFKA_TOPIC_PREFIX`); empty by default. */
  readonly topicPrefix?: string;
  /** The producer's linger (config `KAFKA_PRODUCER_LINGER_MS`): concurrent events for a topic go out in one request. */
  readonly producerLingerMs?: number;
};

/**
 * The service's Kafka connection: one client, an acks-all producer whose events carry the
 * service as their CloudEvents source, metrics on the service's registry, a readiness check that
 * asks the cluster, and a disconnect after in-flight requests finish.
 */
export const kafkaPlugin = fp(
  async (fastify: FastifyInstance, options: KafkaPluginOptions) => {
    const client = createKafkaClient({
      brokers: options.brokers,
      clientId: `postwire-${options.service}`,
      logger: fastify.log,
      topicPrefix: options.topicPrefix ?? '',
    });
    const metrics = createKafkaMetrics(fastify.metrics);
    const topics = [...options.produces, ...(options.consumes ?? [])].map((topic) => topic.name);
    if (topics.length > 0) await provisionTopics(client, { topics, partitions: options.partitions });
    const producer = createEventProducer(client, {
      source: `/postwire/${options.service}`,
      metrics,
      ...(options.producerLingerMs === undefined ? {} : { batch: { lingerMs: options.producerLingerMs } }),
    });
    await producer.connect();
    const admin = client.kafka.admin();
    await admin.connect();
    fastify.decorate('kafka', { client, producer, metrics });
    fastify.readiness.register('kafka', async () => {
      await admin.describeCluster();
    });
    fastify.addHook('onClose', async () => {
      await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
    });
  },
  { name: '@postwire/kafka', dependencies: ['@postwire/health', '@postwire/metrics'] },
);
