import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { loggerOptions } from '@postwire/service-kit';
import { inject } from 'vitest';
import { loadConfig } from '@postwire/config';
import { createLogCapture } from '@postwire/testing';
import app from '../src/app.ts';
import { configSchema, type GatewayConfig } from '../src/config.ts';

export const TEST_JWT_SECRET = 'gateway-test-shared-secret-32-characters';

/** The gateway's environment in tests: real Kafka from the harness, Meta calls to `sandboxUrl`. */
export function testEnvironment(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    JWT_SECRET: TEST_JWT_SECRET,
    TOKEN_ENCRYPTION_KEYS: `test-1:${randomBytes(32).toString('base64')}`,
    TOKEN_ENCRYPTION_ACTIVE_KEY: 'test-1',
    KAFKA_BROKERS: inject('kafkaBrokers').join(','),
    META_SANDBOX_URL: 'http://127.0.0.1:4010',
    // No accounts service answers in these tests: the callback reports "still connecting" quickly.
    GATEWAY_CONNECT_WAIT_MS: '200',
    ...overrides,
  };
}

/** A gateway as production builds it, its JSON log lines kept in `logLines` for inspection. */
export async function buildGateway(
  environment: Record<string, string>,
): Promise<{ gateway: FastifyInstance; config: GatewayConfig; logLines: string[] }> {
  const config = loadConfig(configSchema, environment);
  const { stream, lines: logLines } = createLogCapture();
  const logger = loggerOptions({ service: 'gateway', level: 'debug' });
  const gateway = Fastify({ logger: { ...(typeof logger === 'object' ? logger : {}), stream } });
  await gateway.register(app, { config });
  await gateway.ready();
  return { gateway, config, logLines };
}
