import { Kafka, logLevel } from 'kafkajs';
import type { ServiceLogger } from './logging.ts';
import { pinoLogCreator } from './logging.ts';
import { applyRequestQueueFix } from './request-queue-fix.ts';

export type KafkaClientOptions = {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: ServiceLogger;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /**
   * Put before every topic name this client touches (e.g. `staging.`), so several environments, or a test
   * run beside a running stack, share one cluster without reading or writing each other's topics.
   */
  readonly topicPrefix?: string;
};

/** The one place a kafkajs client is made; services receive it through their Kafka plugin. */
export type KafkaClient = {
  readonly kafka: Kafka;
  readonly clientId: string;
  readonly logger: ServiceLogger;
  readonly topicPrefix: string;
  /** The name on the cluster of a contract's topic (the contract's name behind the prefix). */
  topic(name: string): string;
  /** The contract's name of a topic read from the cluster: the prefix comes off. */
  contractTopic(name: string): string;
  /** Consumer groups carry the prefix too: a group shared by two environments would split their partitions. */
  group(name: string): string;
};

export function createKafkaClient(options: KafkaClientOptions): KafkaClient {
  const logger = options.logger.child({ component: 'kafka' });
  if (!applyRequestQueueFix()) logger.warn('kafkajs request queue fix not applied: its internals changed');
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    logLevel: logLevel.INFO,
    logCreator: pinoLogCreator(logger),
  });
  const topicPrefix = options.topicPrefix ?? '';
  return {
    kafka,
    clientId: options.clientId,
    logger,
    topicPrefix,
    topic: (name) => `${topicPrefix}${name}`,
    group: (name) => `${topicPrefix}${name}`,
    contractTopic: (name) => (name.startsWith(topicPrefix) ? name.slice(topicPrefix.length) : name),
  };
}
