import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pg from 'pg';
import { inject } from 'vitest';
import { type EventOf, type OutgoingEvent, accountEvents, type postEvents } from '@postwire/contracts';
import { type EventProducer, createEventProducer, createKafkaClient } from '@postwire/kafka';
import { problemServerOptions, loggerOptions } from '@postwire/service-kit';
import { signDevelopmentToken } from '@postwire/auth';
import { loadConfig } from '@postwire/config';
import { GATEWAY_ROLE, connectionUrlForRole } from '@postwire/db';
import { type Observed, type TestDatabase, addMember, createLogCapture, createTestDatabase, eventually, kafkaTestEnvironment, uniqueName } from '@postwire/testing';
import app from '../src/app.ts';
import { configSchema, everyRateLimitAt, type GatewayConfig, serverOptionsOf } from '../src/config.ts';

export const TEST_JWT_SECRET = 'gateway-test-shared-secret-32-characters';

export type Member = { readonly userId: string; readonly organisationId: string; readonly authorization: string };

/**
 * A database of the gateway's own (cloned from the migrated template) holding the host's users, which
 * the gateway checks every token's organisation against; `member()` adds a user of a new organisation.
 */
export async function createMembers(): Promise<{
  readonly url: string;
  member(): Promise<Member>;
  /** Moves a user to a new organisation of their own, as if they had left the one their tokens name. */
  leave(userId: string): Promise<void>;
  close(): Promise<void>;
}> {
  const database: TestDatabase = await createTestDatabase('gateway');
  const admin = new pg.Client({ connectionString: database.adminUrl });
  await admin.connect();
  return {
    url: connectionUrlForRole(database.adminUrl, GATEWAY_ROLE),
    async member() {
      const { userId, organisationId } = await addMember(admin);
      const token = await signDevelopmentToken({ secret: TEST_JWT_SECRET, userId, organisationId });
      return { userId, organisationId, authorization: `Bearer ${token}` };
    },
    async leave(userId) {
      const { organisationId } = await addMember(admin);
      await admin.query('UPDATE users SET organisation_id = $1 WHERE id = $2', [organisationId, userId]);
    },
    async close() {
      await admin.end();
      await database.drop();
    },
  };
}

/** The gateway's environment in tests: real Kafka from the harness, Meta calls to `sandboxUrl`. */
export function testEnvironment(databaseUrl: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    JWT_SECRET: TEST_JWT_SECRET,
    TOKEN_ENCRYPTION_KEYS: `test-1:${randomBytes(32).toString('base64')}`,
    TOKEN_ENCRYPTION_ACTIVE_KEY: 'test-1',
    ...kafkaTestEnvironment(),
    GATEWAY_INSTANCE_ID: uniqueName('gateway-test'),
    // The webhook fan-out group is shared by a deployment's instances; test files (each with its own database)
    // must not share one, or a file's events would be fanned out into another file's database.
    GATEWAY_WEBHOOK_CONSUMER_GROUP: uniqueName('gateway-webhooks-test'),
    META_SANDBOX_URL: 'http://127.0.0.1:4010',
    GATEWAY_DATABASE_URL: databaseUrl,
    // Any free port: test files run side by side.
    GATEWAY_METRICS_PORT: '0',
    // No accounts service answers in these tests: the callback reports "still connecting" quickly.
    GATEWAY_CONNECT_WAIT_MS: '200',
    // Every request pays for the limiter, none is refused by it (a test of the limits sets its own).
    ...everyRateLimitAt(1_000_000),
    ...overrides,
  };
}

/** A gateway as production builds it (the same server options), its JSON log lines kept in `logLines`. */
export async function buildGateway(
  environment: Record<string, string>,
): Promise<{ gateway: FastifyInstance; config: GatewayConfig; logLines: string[] }> {
  const config = loadConfig(configSchema, environment);
  const { stream, lines: logLines } = createLogCapture();
  const logger = loggerOptions({ service: 'gateway', level: 'debug' });
  const gateway = Fastify({ ...problemServerOptions, ...serverOptionsOf(config), logger: { ...(typeof logger === 'object' ? logger : {}), stream } });
  await gateway.register(app, { config });
  await gateway.ready();
  return { gateway, config, logLines };
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Answers an observed account.authorized as the accounts service does (no accounts service runs in these
 * tests): `events` published on the account events topic, caused by it and in its correlation.
 */
export async function answerAuthorized(
  authorized: Observed,
  organisationId: string,
  events: readonly EventOf<typeof accountEvents>[],
  logger: FastifyBaseLogger,
): Promise<void> {
  const client = createKafkaClient({ brokers: inject('kafkaBrokers'), topicPrefix: inject('kafkaTopicPrefix'), clientId: uniqueName('accounts-answer'), logger });
  const producer = createEventProducer(client, { source: '/postwire/accounts' });
  await producer.connect();
  try {
    await producer.publish(
      accountEvents,
      events.map((event) => ({ ...event, metadata: { organisationId, causationId: authorized.headers.ce_id, correlationId: authorized.headers.ce_correlationid } })),
    );
  } finally {
    await producer.disconnect();
  }
}

/**
 * Waits until the gateway is ready (its live-event consumers joined their groups, which start at the latest
 * offsets), then connects a producer standing in for the services that own the events.
 */
export async function ownersProducer(gateway: FastifyInstance): Promise<EventProducer> {
  await eventually(async () => ((await gateway.inject({ method: 'GET', url: '/readyz' })).statusCode === 200 ? true : undefined), 'the gateway to be ready', { timeoutMs: 60_000 });
  const client = createKafkaClient({ brokers: inject('kafkaBrokers'), topicPrefix: inject('kafkaTopicPrefix'), clientId: uniqueName('owners-stand-in'), logger: gateway.log });
  const producer = createEventProducer(client, { source: '/postwire/publisher' });
  await producer.connect();
  return producer;
}

export type Identified<Event> = Event & { readonly metadata: { readonly id: string; readonly organisationId: string } };

/** A post.published of the organisation's, as the publisher emits it; one social account's events keep their order. */
export const postPublished = (organisationId: string, socialAccountId = randomUUID()): Identified<OutgoingEvent<typeof postEvents>> => ({
  type: 'post.published',
  data: {
    postId: randomUUID(),
    socialAccountId,
    platform: 'instagram',
    postType: 'feed',
    contentId: null,
    platformPostId: '17900000000000001',
    platformUrl: 'https://www.instagram.com/p/abc/',
    mediaCount: 1,
    publishedAt: '2026-03-08T14:00:01.000Z',
  },
  metadata: { organisationId, id: randomUUID() },
});
