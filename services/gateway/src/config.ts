import { z } from 'zod';
import { fields } from '@postwire/config';
import { authFields, checkAuthFields, toAuthSettings } from '@postwire/auth';

export const configSchema = z
  .object({
    GATEWAY_HOST: fields.host(),
    GATEWAY_PORT: fields.port(3000),
    // Where API consumers reach the gateway: OpenAPI servers, OAuth redirect URIs, Location headers.
    GATEWAY_PUBLIC_URL: fields.url('http://127.0.0.1:3000'),
    KAFKA_BROKERS: fields.kafkaBrokers,
    LOG_LEVEL: fields.logLevel,
    ...authFields,
  })
  .superRefine(checkAuthFields)
  .transform((env) => ({
    host: env.GATEWAY_HOST,
    port: env.GATEWAY_PORT,
    publicUrl: env.GATEWAY_PUBLIC_URL.replace(/\/$/, ''),
    logLevel: env.LOG_LEVEL,
    kafka: { brokers: env.KAFKA_BROKERS },
    auth: toAuthSettings(env),
  }));

export type GatewayConfig = z.output<typeof configSchema>;
