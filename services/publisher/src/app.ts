import type { FastifyPluginAsync } from 'fastify';
import { authPlugin, cachedOrganisationOf, createJwtVerifier } from '@postwire/auth';
import { accountEvents, analyticsEvents, postEvents, postRequests } from '@postwire/contracts';
import { createTokenCipher } from '@postwire/crypto';
import { createOrganisationLookup } from '@postwire/db';
import {
  databasePlugin,
  graphPlugin,
  inboxConsumer,
  kafkaPlugin,
  outboxRelayPlugin,
  serviceKit,
  workerDatabasePlugin,
  zodSchemasPlugin,
} from '@postwire/service-kit';
import type { PublisherConfig } from './config.ts';
import { accountEventHandlers } from './consumers/account-events.ts';
import { postRequestFailures, postRequestHandlers } from './consumers/post-requests.ts';
import { contentRoutes } from './routes/content.ts';
import { postRoutes } from './routes/posts.ts';
import { PUBLISHER } from './service.ts';
import { analyticsEventHandlers } from './consumers/analytics-events.ts';
import { topPostsRoutes } from './routes/top-posts.ts';
import { publishingEngine } from './workers/publishing-engine.ts';

/** Consumer group overrides for tests sharing a broker; production uses the named groups from the beginning. */
export type ConsumerOverrides = { readonly groupId?: string; readonly fromBeginning?: boolean; readonly onGroupJoin?: () => void };

export type PublisherAppOptions = {
  readonly config: PublisherConfig;
  readonly consumers?: { readonly postRequests?: ConsumerOverrides; readonly accountEvents?: ConsumerOverrides; readonly analyticsEvents?: ConsumerOverrides };
  /** The intake's clock (schedule checks, answer times); tests may move it. Default: the real one. */
  readonly now?: () => Date;
};

/**
 * The whole publisher service as a list of plugins; nothing happens at import time. They close in reverse order:
 * routes, then the consumers (the event in hand finishes), then the relay (publishing what they wrote), Kafka,
 * and the pools.
 */
const app: FastifyPluginAsync<PublisherAppOptions> = async (fastify, { config, consumers, now }) => {
  const cipher = createTokenCipher(config.keyRing);
  const clock = now === undefined ? {} : { now };
  await fastify.register(serviceKit, { service: 'publisher' });
  await fastify.register(zodSchemasPlugin);
  // User-scoped reads: publisher_app, RLS applies with the caller's claims.
  // publisher_app only reads, each read with the caller's claims for its own transaction: no session state to discard.
  await fastify.register(databasePlugin, { connectionUri: config.database.app, applicationName: 'publisher', resetOnRelease: false, minimumPoolSize: 4 });
  // The forwarded token is checked here again, its organisation against the user's own included.
  await fastify.register(authPlugin, { verify: createJwtVerifier(config.auth), organisationOf: cachedOrganisationOf(createOrganisationLookup(fastify.db)) });
  await fastify.register(kafkaPlugin, { service: 'publisher', ...config.kafka, produces: [postEvents], consumes: [postRequests, accountEvents, analyticsEvents] });
  // Sized for the publishing engine too: every post in hand saves its progress on this pool.
  await fastify.register(workerDatabasePlugin, {
    connectionUri: config.database.worker,
    applicationName: 'publisher-worker',
    maximumPoolSize: Math.min(40, Math.max(10, Math.ceil(config.engine.concurrency / 2) + 4)),
  });
  await fastify.register(graphPlugin, { settings: config.graph });
  await fastify.register(outboxRelayPlugin, { schema: PUBLISHER.schema, sessionUrl: config.database.worker, topics: [postEvents.name] });
  await fastify.register(
    inboxConsumer({
      name: PUBLISHER.consumers.accountEvents,
      topic: accountEvents,
      schema: PUBLISHER.schema,
      emits: { topic: postEvents, source: PUBLISHER.source },
      handlers: accountEventHandlers({ cipher, ...clock }),
      ...consumers?.accountEvents,
    }),
  );
  await fastify.register(
    inboxConsumer({
      name: PUBLISHER.consumers.postRequests,
      topic: postRequests,
      schema: PUBLISHER.schema,
      emits: { topic: postEvents, source: PUBLISHER.source },
      handlers: ({ workerDb, graph, metrics }) => postRequestHandlers({ pool: workerDb, graph, cipher, settings: config.intake, metrics, ...clock }),
      onDeadLetter: postRequestFailures,
      ...consumers?.postRequests,
    }),
  );
  // A snapshot analytics stored becomes the post's analytics columns and post.metrics-updated.
  await fastify.register(
    inboxConsumer({
      name: PUBLISHER.consumers.analyticsEvents,
      topic: analyticsEvents,
      schema: PUBLISHER.schema,
      emits: { topic: postEvents, source: PUBLISHER.source },
      handlers: analyticsEventHandlers(),
      ...consumers?.analyticsEvents,
    }),
  );
  // After the relay, so it closes first: steps in hand finish and release their claims before the outbox flushes.
  await fastify.register(publishingEngine, { settings: config.engine, mediaProbe: config.intake.mediaProbe, graph: config.graph, cipher });
  await fastify.register(postRoutes, { prefix: '/v1' });
  await fastify.register(contentRoutes, { prefix: '/v1' });
  // The seed's query 3: the organisation's best published posts.
  await fastify.register(topPostsRoutes, { prefix: '/v1' });
};

export default app;
