import { z } from 'zod';
import { DEFAULT_DATABASE_URL, fields } from '@postwire/config';
import { serviceConnectionUrls } from '@postwire/db';

export const configSchema = z
  .object({
    PUBLISHER_HOST: fields.host(),
    PUBLISHER_PORT: fields.port(3102),
    PUBLISHER_DATABASE_URL: fields.optionalPostgresUrl,
    PUBLISHER_WORKER_DATABASE_URL: fields.optionalPostgresUrl,
    DATABASE_URL: fields.postgresUrl(DEFAULT_DATABASE_URL),
    KAFKA_BROKERS: fields.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: fields.kafkaTopicPrefix,
    LOG_LEVEL: fields.logLevel,
  })
  .transform((env) => ({
    host: env.PUBLISHER_HOST,
    port: env.PUBLISHER_PORT,
    logLevel: env.LOG_LEVEL,
    database: serviceConnectionUrls('publisher', env.DATABASE_URL, {
      app: env.PUBLISHER_DATABASE_URL,
      worker: env.PUBLISHER_WORKER_DATABASE_URL,
    }),
    kafka: { brokers: env.KAFKA_BROKERS, topicPrefix: env.KAFKA_TOPIC_PREFIX },
  }));

export type PublisherConfig = z.output<typeof configSchema>;
