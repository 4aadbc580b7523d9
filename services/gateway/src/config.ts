import { z } from 'zod';
import { fields } from '@postwire/config';

export const configSchema = z
  .object({
    GATEWAY_HOST: fields.host(),
    GATEWAY_PORT: fields.port(3000),
    KAFKA_BROKERS: fields.kafkaBrokers,
    LOG_LEVEL: fields.logLevel,
  })
  .transform((env) => ({
    host: env.GATEWAY_HOST,
    port: env.GATEWAY_PORT,
    logLevel: env.LOG_LEVEL,
    kafka: { brokers: env.KAFKA_BROKERS },
  }));

export type GatewayConfig = z.output<typeof configSchema>;
