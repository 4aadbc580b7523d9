import { z } from 'zod';
import { DEFAULT_DATABASE_URL, fields } from '@postwire/config';
import { serviceConnectionUrls } from '@postwire/db';

export const configSchema = z
  .object({
    ACCOUNTS_HOST: fields.host(),
    ACCOUNTS_PORT: fields.port(3101),
    ACCOUNTS_DATABASE_URL: fields.optionalPostgresUrl,
    ACCOUNTS_WORKER_DATABASE_URL: fields.optionalPostgresUrl,
    DATABASE_URL: fields.postgresUrl(DEFAULT_DATABASE_URL),
    KAFKA_BROKERS: fields.kafkaBrokers,
    LOG_LEVEL: fields.logLevel,
  })
  .transform((env) => ({
    host: env.ACCOUNTS_HOST,
    port: env.ACCOUNTS_PORT,
    logLevel: env.LOG_LEVEL,
    database: serviceConnectionUrls('accounts', env.DATABASE_URL, {
      app: env.ACCOUNTS_DATABASE_URL,
      worker: env.ACCOUNTS_WORKER_DATABASE_URL,
    }),
    kafka: { brokers: env.KAFKA_BROKERS },
  }));

export type AccountsConfig = z.output<typeof configSchema>;
