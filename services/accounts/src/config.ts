import { z } from 'zod';
import { authFields, checkAuthFields, toAuthSettings } from '@postwire/auth';
import { DEFAULT_DATABASE_URL, fields } from '@postwire/config';
import { keyRingFields, toKeyRing } from '@postwire/crypto';
import { serviceConnectionUrls } from '@postwire/db';
import { checkGraphFields, graphFields, toGraphSettings } from '@postwire/graph';
import { pruningFields, toPruningSettings } from './workers/pruning.ts';
import { lifecycleFields, toLifecycleSettings } from './workers/token-lifecycle-config.ts';

export const configSchema = z
  .object({
    ACCOUNTS_HOST: fields.host(),
    ACCOUNTS_PORT: fields.port(3101),
    ACCOUNTS_DATABASE_URL: fields.optionalPostgresUrl,
    ACCOUNTS_WORKER_DATABASE_URL: fields.optionalPostgresUrl,
    DATABASE_URL: fields.postgresUrl(DEFAULT_DATABASE_URL),
    KAFKA_BROKERS: fields.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: fields.kafkaTopicPrefix,
    KAFKA_PRODUCER_LINGER_MS: fields.kafkaProducerLingerMs,
    KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(3),
    LOG_LEVEL: fields.logLevel,
    ...authFields,
    ...keyRingFields,
    ...graphFields,
    ...lifecycleFields,
    ...pruningFields,
  })
  .superRefine((env, context) => {
    checkAuthFields(env, context);
    checkGraphFields(env, context);
  })
  .transform((env, context) => ({
    host: env.ACCOUNTS_HOST,
    port: env.ACCOUNTS_PORT,
    logLevel: env.LOG_LEVEL,
    database: serviceConnectionUrls('accounts', env.DATABASE_URL, {
      app: env.ACCOUNTS_DATABASE_URL,
      worker: env.ACCOUNTS_WORKER_DATABASE_URL,
    }),
    kafka: { brokers: env.KAFKA_BROKERS, topicPrefix: env.KAFKA_TOPIC_PREFIX, partitions: env.KAFKA_TOPIC_PARTITIONS, producerLingerMs: env.KAFKA_PRODUCER_LINGER_MS },
    // Reads arrive from the gateway with the caller's token, verified again here.
    auth: toAuthSettings(env),
    keyRing: toKeyRing(env, context),
    graph: toGraphSettings(env),
    lifecycle: toLifecycleSettings(env),
    pruning: toPruningSettings(env),
  }));

export type AccountsConfig = z.output<typeof configSchema>;
