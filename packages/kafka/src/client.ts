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
};

/** The one place a kafkajs client is made; services receive it through their Kafka plugin. */
export type KafkaClient = {
  readonly kafka: Kafka;
  readonly clientId: string;
  readonly logger: ServiceLogger;
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
  return { kafka, clientId: options.clientId, logger };
}
