import { z } from 'zod';
import { DEFAULT_DATABASE_URL, fields } from '@postwire/config';
import { serviceConnectionUrls } from '@postwire/db';

export const configSchema = z
  .object({
    ANALYTICS_HOST: fields.host(),
    ANALYTICS_PORT: fields.port(3103),
    ANALYTICS_DATABASE_URL: fields.optionalPostgresUrl,
    ANALYTICS_WORKER_DATABASE_URL: fields.optionalPostgresUrl,
    DATABASE_URL: fields.postgresUrl(DEFAULT_DATABASE_URL),
    KAFKA_BROKERS: fields.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: fields.kafkaTopicPrefix,
    LOG_LEVEL: fields.logLevel,
  })
  .transform((env) => ({
    host: env.ANALYTICS_HOST,
    port: env.ANALYTICS_PORT,
    logLevel: env.LOG_LEVEL,
    database: serviceConnectionUrls('analytics', env.DATABASE_URL, {
      app: env.ANALYTICS_DATABASE_URL,
      worker: env.ANALYTICS_WORKER_DATABASE_URL,
    }),
    kafka: { brokers: env.KAFKA_BROKERS, topicPrefix: env.KAFKA_TOPIC_PREFIX },
  }));

export type AnalyticsConfig = z.output<typeof configSchema>;
