import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadConfig } from '@postwire/config';
import { loggerOptions } from '@postwire/service-kit';
import { type TestDatabase, createLogCapture, kafkaTestEnvironment, uniqueName } from '@postwire/testing';
import app from '../src/app.ts';
import { type PublisherConfig, configSchema } from '../src/config.ts';

/** The publisher's environment in tests: its own database, the harness's Kafka, Meta and media from the sandbox. */
export function publisherEnvironment(database: TestDatabase, sandboxUrl: string, keys: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PUBLISHER_DATABASE_URL: database.urlFor('publisher', 'app'),
    PUBLISHER_WORKER_DATABASE_URL: database.urlFor('publisher', 'worker'),
    ...kafkaTestEnvironment(),
    TOKEN_ENCRYPTION_KEYS: keys,
    TOKEN_ENCRYPTION_ACTIVE_KEY: 'test-1',
    JWT_SECRET: 'publisher-test-shared-secret-32-characters',
    META_SANDBOX_URL: sandboxUrl,
    GRAPH_RETRY_BASE_DELAY_MS: '10',
    GRAPH_RETRY_MAX_DELAY_MS: '50',
    // The sandbox's media host is plain http on 127.0.0.1.
    PUBLISHER_MEDIA_ALLOW_HTTP: 'true',
    PUBLISHER_MEDIA_ALLOW_PRIVATE: 'true',
    ...overrides,
  };
}

/** The environment of the intake's tests: a key ring of their own, and the publishing engine off. */
export function intakeEnvironment(database: TestDatabase, sandboxUrl: string, overrides: Record<string, string> = {}): Record<string, string> {
  return publisherEnvironment(database, sandboxUrl, `test-1:${randomBytes(32).toString('base64')}`, {
    PUBLISHER_MEDIA_PROBE_TIMEOUT_MS: '1500',
    // These tests hold due posts in states of their own making; the publishing engine (its own tests) stays off.
    PUBLISHER_ENGINE_ENABLED: 'false',
    ...overrides,
  });
}

/**
 * The publisher as production builds it (consumers, relay and engine as configured), its log lines kept. Each
 * consumer group is its own (other suites on the broker run publisher apps too) and starts at the end of its topic;
 * with `awaitConsumers` this resolves only once both have their partitions, so an event sent next is read.
 */
export async function buildPublisher(
  environment: Record<string, string>,
  options: { awaitConsumers?: boolean } = {},
): Promise<{ app: FastifyInstance; config: PublisherConfig; logLines: string[] }> {
  const config = loadConfig(configSchema, environment);
  const { stream, lines: logLines } = createLogCapture();
  const logger = loggerOptions({ service: 'publisher', level: 'debug' });
  const instance = Fastify({ logger: { ...(typeof logger === 'object' ? logger : {}), stream } });
  const joins: Promise<void>[] = [];
  const group = (name: string) => {
    let joined: () => void = () => undefined;
    joins.push(new Promise<void>((resolve) => (joined = resolve)));
    return { groupId: uniqueName(name), fromBeginning: false, onGroupJoin: () => joined() };
  };
  await instance.register(app, { config, consumers: { postRequests: group('publisher-test-requests'), accountEvents: group('publisher-test-accounts') } });
  await instance.ready();
  if (options.awaitConsumers) {
    await Promise.race([Promise.all(joins), new Promise((_resolve, reject) => setTimeout(() => reject(new Error('the consumers never joined their groups')), 60_000))]);
  }
  return { app: instance, config, logLines };
}
