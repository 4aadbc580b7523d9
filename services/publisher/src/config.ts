import { z } from 'zod';
import { authFields, checkAuthFields, toAuthSettings } from '@postwire/auth';
import { DEFAULT_DATABASE_URL, fields } from '@postwire/config';
import { keyRingFields, toKeyRing } from '@postwire/crypto';
import { serviceConnectionUrls } from '@postwire/db';
import { checkGraphFields, graphFields, toGraphSettings } from '@postwire/graph';
import { intakeFields, toIntakeSettings } from './consumers/intake-config.ts';
import { publishingEngineFields, toPublishingEngineSettings } from './workers/publishing-engine-config.ts';

export const configSchema = z
  .object({
    PUBLISHER_HOST: fields.host(),
    PUBLISHER_PORT: fields.port(3102),
    PUBLISHER_DATABASE_URL: fields.optionalPostgresUrl,
    PUBLISHER_WORKER_DATABASE_URL: fields.optionalPostgresUrl,
    DATABASE_URL: fields.postgresUrl(DEFAULT_DATABASE_URL),
    KAFKA_BROKERS: fields.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: fields.kafkaTopicPrefix,
    KAFKA_PRODUCER_LINGER_MS: fields.kafkaProducerLingerMs,
    KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(3),
    LOG_LEVEL: fields.logLevel,
    ...authFields,
    ...keyRingFields,
    ...graphFields,
    ...intakeFields,
    ...publishingEngineFields,
  })
  .superRefine((env, context) => {
    checkAuthFields(env, context);
    checkGraphFields(env, context);
  })
  .transform((env, context) => ({
    host: env.PUBLISHER_HOST,
    port: env.PUBLISHER_PORT,
    logLevel: env.LOG_LEVEL,
    database: serviceConnectionUrls('publisher', env.DATABASE_URL, {
      app: env.PUBLISHER_DATABASE_URL,
      worker: env.PUBLISHER_WORKER_DATABASE_URL,
    }),
    kafka: { brokers: env.KAFKA_BROKERS, topicPrefix: env.KAFKA_TOPIC_PREFIX, partitions: env.KAFKA_TOPIC_PARTITIONS, producerLingerMs: env.KAFKA_PRODUCER_LINGER_MS },
    // Reads arrive from the gateway with the caller's token, verified again here.
    auth: toAuthSettings(env),
    // The same TOKEN keys as accounts: account events carry tokens encrypted with them.
    keyRing: toKeyRing(env, context),
    graph: toGraphSettings(env),
    intake: toIntakeSettings(env),
    engine: toPublishingEngineSettings(env),
  }));

export type PublisherConfig = z.output<typeof configSchema>;
