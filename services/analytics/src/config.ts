import { z } from 'zod';
import { authFields, checkAuthFields, toAuthSettings } from '@postwire/auth';
import { DEFAULT_DATABASE_URL, fields } from '@postwire/config';
import { keyRingFields, toKeyRing } from '@postwire/crypto';
import { serviceConnectionUrls } from '@postwire/db';
import { checkGraphFields, graphFields, toGraphSettings } from '@postwire/graph';
import { syncFields, toSyncSettings } from './workers/sync-config.ts';

export const configSchema = z
  .object({
    ANALYTICS_HOST: fields.host(),
    ANALYTICS_PORT: fields.port(3103),
    ANALYTICS_DATABASE_URL: fields.optionalPostgresUrl,
    ANALYTICS_WORKER_DATABASE_URL: fields.optionalPostgresUrl,
    DATABASE_URL: fields.postgresUrl(DEFAULT_DATABASE_URL),
    KAFKA_BROKERS: fields.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: fields.kafkaTopicPrefix,
    KAFKA_PRODUCER_LINGER_MS: fields.kafkaProducerLingerMs,
    KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(3),
    LOG_LEVEL: fields.logLevel,
    ...authFields,
    ...keyRingFields,
    ...graphFields,
    ...syncFields,
  })
  .superRefine((env, context) => {
    checkAuthFields(env, context);
    checkGraphFields(env, context);
  })
  .transform((env, context) => ({
    host: env.ANALYTICS_HOST,
    port: env.ANALYTICS_PORT,
    logLevel: env.LOG_LEVEL,
    database: serviceConnectionUrls('analytics', env.DATABASE_URL, {
      app: env.ANALYTICS_DATABASE_URL,
      worker: env.ANALYTICS_WORKER_DATABASE_URL,
    }),
    kafka: { brokers: env.KAFKA_BROKERS, topicPrefix: env.KAFKA_TOPIC_PREFIX, partitions: env.KAFKA_TOPIC_PARTITIONS, producerLingerMs: env.KAFKA_PRODUCER_LINGER_MS },
    // Reads arrive from the gateway with the caller's token, verified again here.
    auth: toAuthSettings(env),
    // The same TOKEN_ENCRYPTION_KEYS as accounts: account events carry tokens encrypted with them.
    keyRing: toKeyRing(env, context),
    graph: toGraphSettings(env),
    sync: toSyncSettings(env),
  }));

export type AnalyticsConfig = z.output<typeof configSchema>;
