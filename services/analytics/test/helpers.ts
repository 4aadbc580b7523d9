import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { inject } from 'vitest';
import { loadConfig } from '@postwire/config';
import { EncryptedSecret, type OutgoingEvent, type TopicContract, accountEvents, postEvents } from '@postwire/contracts';
import { type TokenCipher, eventFieldContext } from '@postwire/crypto';
import { type GraphClient, createGraphClient, graphEnvironment } from '@postwire/graph';
import { createEventProducer, createKafkaClient } from '@postwire/kafka';
import { loggerOptions } from '@postwire/service-kit';
import { type TestDatabase, createLogCapture, kafkaTestEnvironment, sandboxControl, uniqueName } from '@postwire/testing';
import app from '../src/app.ts';
import { type AnalyticsConfig, configSchema } from '../src/config.ts';

export const ALICE = '1000900000000101';
export const BAKERY_PAGE = '1001000000000201';
export const BAKERY_IG = '17841400000000301';
export const STUDIO_PAGE = '1001000000000202';
export const STUDIO_IG = '17841400000000302';
export const HOUR_MS = 3_600_000;

/** The analytics service's environment in tests: its own database, the harness's Kafka, Meta through `sandboxUrl`. */
export function testEnvironment(database: TestDatabase, sandboxUrl: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ANALYTICS_DATABASE_URL: database.urlFor('analytics', 'app'),
    ANALYTICS_WORKER_DATABASE_URL: database.urlFor('analytics', 'worker'),
    ...kafkaTestEnvironment(),
    TOKEN_ENCRYPTION_KEYS: `test-1:${randomBytes(32).toString('base64')}`,
    TOKEN_ENCRYPTION_ACTIVE_KEY: 'test-1',
    JWT_SECRET: 'analytics-test-shared-secret-32-characters',
    META_SANDBOX_URL: sandboxUrl,
    GRAPH_RETRY_BASE_DELAY_MS: '10',
    GRAPH_RETRY_MAX_DELAY_MS: '50',
    ANALYTICS_SYNC_INTERVAL_MS: '100',
    ANALYTICS_SYNC_MAX_SPREAD_MS: '60000',
    ANALYTICS_SYNC_RETRY_INITIAL_MS: '60000',
    ...overrides,
  };
}

/**
 * The analytics service as production builds it (consumers, relay and sync worker running) with the test's clock.
 * Its consumer groups are its own and start at the end of their topics; this resolves once all three joined.
 */
export async function buildAnalytics(
  environment: Record<string, string>,
  now: () => Date,
): Promise<{ app: FastifyInstance; config: AnalyticsConfig; logLines: string[] }> {
  const config = loadConfig(configSchema, environment);
  const { stream, lines: logLines } = createLogCapture();
  const logger = loggerOptions({ service: 'analytics', level: 'debug' });
  const instance = Fastify({ logger: { ...(typeof logger === 'object' ? logger : {}), stream } });
  let joins = 0;
  let joined: () => void = () => undefined;
  const allJoined = new Promise<void>((resolve) => {
    joined = resolve;
  });
  await instance.register(app, {
    config,
    now,
    consumer: {
      groupId: uniqueName('analytics-test'),
      fromBeginning: false,
      onGroupJoin: () => {
        joins += 1;
        if (joins >= 3) joined();
      },
    },
  });
  await instance.ready();
  await Promise.race([allJoined, new Promise((_resolve, reject) => setTimeout(() => reject(new Error('the consumers never joined their groups')), 60_000))]);
  return { app: instance, config, logLines };
}

/** Publishes events as their producer service would (contracts-encoded, on this run's topics). */
export async function publish<T extends TopicContract>(logger: FastifyBaseLogger, topic: T, events: readonly OutgoingEvent<T>[], source: string): Promise<void> {
  const client = createKafkaClient({ brokers: inject('kafkaBrokers'), topicPrefix: inject('kafkaTopicPrefix'), clientId: uniqueName('analytics-test-producer'), logger });
  const producer = createEventProducer(client, { source });
  await producer.connect();
  try {
    await producer.publish(topic, events);
  } finally {
    await producer.disconnect();
  }
}

/** A Meta client for arranging things in the sandbox (publishing the media whose insights are synced). */
export function sandboxGraph(sandboxUrl: string): GraphClient {
  return createGraphClient(graphEnvironment.parse({ META_SANDBOX_URL: sandboxUrl, GRAPH_RETRY_BASE_DELAY_MS: '10', GRAPH_RETRY_MAX_DELAY_MS: '50' }));
}

export async function pageToken(sandboxUrl: string, pageId: string): Promise<string> {
  const { access_token: token } = await sandboxControl<{ access_token: string }>(sandboxUrl, 'POST', '/tokens', { kind: 'facebook-page', subjectId: ALICE, pageId, longLived: true });
  return token;
}

/** Connects an account the way the accounts service announces it (token encrypted for the event). */
export async function connectAccount(
  logger: FastifyBaseLogger,
  cipher: TokenCipher,
  account: { readonly id: string; readonly organisationId: string; readonly platform: 'instagram' | 'facebook'; readonly platformAccountId: string; readonly pageId: string; readonly token: string },
): Promise<void> {
  await publish(
    logger,
    accountEvents,
    [
      {
        type: 'account.connected',
        data: {
          socialAccountId: account.id,
          platform: account.platform,
          accountType: account.platform === 'facebook' ? 'page' : 'business',
          platformAccountId: account.platformAccountId,
          username: 'postwire.test',
          profilePictureUrl: null,
          pageId: account.pageId,
          pageName: 'Postwire Bakery',
          capabilities: { feed: true, stories: true, reels: true },
          accessToken: EncryptedSecret.parse(cipher.encrypt(account.token, eventFieldContext('account.connected', account.id, 'accessToken'))),
          tokenExpiresAt: null,
          connectedAt: new Date().toISOString(),
          reconnected: false,
        },
        metadata: { organisationId: account.organisationId },
      },
    ],
    '/postwire/accounts',
  );
}

export type PublishedMedia = { readonly mediaId: string; readonly children: readonly string[] };

/** Publishes media on an Instagram account through the sandbox's Graph API, as the publisher does. */
export async function publishInstagram(
  graph: GraphClient,
  sandboxUrl: string,
  igId: string,
  token: string,
  kind: 'image' | 'reel' | 'story' | 'carousel',
): Promise<PublishedMedia> {
  const image = `${sandboxUrl}/_sandbox/media/sample.jpg?w=1080&h=1350`;
  const video = `${sandboxUrl}/_sandbox/media/sample.mp4?seconds=10&w=720&h=1280`;
  let children: string[] = [];
  let container: { id: string };
  if (kind === 'carousel') {
    children = [];
    for (let index = 0; index < 2; index += 1) children.push((await graph.createMediaContainer(igId, token, { kind: 'carousel-item', imageUrl: `${image}&n=${index}` })).id);
    container = await graph.createMediaContainer(igId, token, { kind: 'carousel', children, caption: 'carousel' });
  } else if (kind === 'reel') {
    container = await graph.createMediaContainer(igId, token, { kind: 'reel', videoUrl: video, caption: 'reel', shareToFeed: true });
  } else if (kind === 'story') {
    container = await graph.createMediaContainer(igId, token, { kind: 'story', imageUrl: image });
  } else {
    container = await graph.createMediaContainer(igId, token, { kind: 'image', imageUrl: image, caption: 'feed image' });
  }
  const published = await graph.publishMedia(igId, token, container.id);
  // The carousel's children as media ids (what Meta would answer insights for, if it did for children).
  const listed = await sandboxControl<{ media: { id: string; children?: string[] }[] }>(sandboxUrl, 'GET', `/instagram/${igId}/media`);
  const entry = listed.media.find((item) => item.id === published.id);
  return { mediaId: published.id, children: entry?.children ?? children };
}

export { eventually, observeTopic, type Observed } from '@postwire/testing';
export { postEvents };

/** The sum of a Prometheus series from the service's /metrics, over the samples whose labels include `labels`. */
export async function metricSum(app: FastifyInstance, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{([^}]*)\})? ([-0-9.e+]+)$/i.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/gi)].map((pair) => [pair[1], pair[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) sum += Number(match[3]);
  }
  return sum;
}
