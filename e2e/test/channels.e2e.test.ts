import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import analyticsApp from '@postwire/analytics/app';
import { configSchema as analyticsConfigSchema } from '@postwire/analytics/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@postwire/config';
import { buildAsyncApiDocument } from '@postwire/contracts';
import publisherApp from '@postwire/publisher/app';
import { configSchema as publisherConfigSchema } from '@postwire/publisher/config';
import { loggerOptions } from '@postwire/service-kit';
import { createKafkaClient } from '@postwire/kafka';
import { type TestDatabase, createLogCapture, createTestDatabase, kafkaTestEnvironment, startMetaSandbox, uniqueName } from '@postwire/testing';

type Channel = { address: string; bindings: { kafka: { topic: string } } };

/**
 * The AsyncAPI document names channels; a subscriber relies on them existing on the broker once their
 * producers run. The publisher and the analytics service are started as they run, on a fresh topic prefix.
 */
describe('the post and analytics channels of the AsyncAPI document exist on the broker once their producers run', { timeout: 180_000 }, () => {
  const environment = kafkaTestEnvironment();
  let database: TestDatabase;
  let sandbox: Awaited<ReturnType<typeof startMetaSandbox>>;
  let publisher: FastifyInstance;
  let analytics: FastifyInstance;

  beforeAll(async () => {
    database = await createTestDatabase('channels');
    sandbox = await startMetaSandbox();
    const logs = createLogCapture();
    const logger = (service: string) => ({ ...(loggerOptions({ service, level: 'warn' }) as object), stream: logs.stream });
    publisher = Fastify({ logger: logger('publisher') });
    await publisher.register(publisherApp, {
      config: loadConfig(publisherConfigSchema, {
        ...environment,
        PUBLISHER_DATABASE_URL: database.urlFor('publisher', 'app'),
        PUBLISHER_WORKER_DATABASE_URL: database.urlFor('publisher', 'worker'),
        TOKEN_ENCRYPTION_KEYS: `channels-1:${randomBytes(32).toString('base64')}`,
        TOKEN_ENCRYPTION_ACTIVE_KEY: 'channels-1',
        JWT_SECRET: 'channels-test-shared-secret-32-characters',
        META_SANDBOX_URL: sandbox.baseUrl,
      }),
    });
    await publisher.ready();
    analytics = Fastify({ logger: logger('analytics') });
    await analytics.register(analyticsApp, {
      config: loadConfig(analyticsConfigSchema, {
        ...environment,
        ANALYTICS_DATABASE_URL: database.urlFor('analytics', 'app'),
        ANALYTICS_WORKER_DATABASE_URL: database.urlFor('analytics', 'worker'),
        TOKEN_ENCRYPTION_KEYS: `channels-1:${randomBytes(32).toString('base64')}`,
        TOKEN_ENCRYPTION_ACTIVE_KEY: 'channels-1',
        JWT_SECRET: 'channels-test-shared-secret-32-characters',
        META_SANDBOX_URL: sandbox.baseUrl,
      }),
    });
    await analytics.ready();
  });

  afterAll(async () => {
    await analytics?.close();
    await publisher?.close();
    await sandbox?.close();
    await database?.drop();
  });

  it('lists every post and analytics channel (and its dead-letter topic) among the broker topics', async () => {
    // The test's own client, on the services' prefix.
    const client = createKafkaClient({ brokers: environment.KAFKA_BROKERS.split(','), topicPrefix: environment.KAFKA_TOPIC_PREFIX, clientId: uniqueName('channels-test'), logger: publisher.log });
    const admin = client.kafka.admin();
    await admin.connect();
    try {
      const onBroker = new Set((await admin.listTopics()).filter((topic) => topic.startsWith(client.topicPrefix)).map((topic) => client.contractTopic(topic)));
      const channels = Object.values(buildAsyncApiDocument().channels as Record<string, Channel>);
      const expected = channels.map((channel) => channel.address).filter((address) => /^postwire\.(post|analytics)-/.test(address));
      // Post requests and events, analytics events: each with its dead-letter topic.
      expect(expected.length).toBeGreaterThanOrEqual(6);
      expect(expected.filter((address) => !onBroker.has(address))).toEqual([]);
      for (const channel of channels.filter((candidate) => expected.includes(candidate.address))) {
        expect(channel.bindings.kafka.topic).toBe(channel.address);
        const metadata = await admin.fetchTopicMetadata({ topics: [client.topic(channel.address)] });
        expect(metadata.topics[0]?.partitions.length, channel.address).toBeGreaterThanOrEqual(1);
      }
    } finally {
      await admin.disconnect();
    }
  });
});
