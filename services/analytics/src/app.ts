import type { FastifyPluginAsync } from 'fastify';
import { authPlugin, cachedOrganisationOf, createJwtVerifier } from '@postwire/auth';
import { accountEvents, analyticsEvents, analyticsRequests, postEvents } from '@postwire/contracts';
import { createTokenCipher } from '@postwire/crypto';
import { createOrganisationLookup } from '@postwire/db';
import {
  databasePlugin,
  inboxConsumer,
  kafkaPlugin,
  outboxRelayPlugin,
  serviceKit,
  workerDatabasePlugin,
  zodSchemasPlugin,
} from '@postwire/service-kit';
import type { AnalyticsConfig } from './config.ts';
import { accountEventHandlers } from './consumers/account-events.ts';
import { analyticsRequestHandlers } from './consumers/analytics-requests.ts';
import { postEventHandlers } from './consumers/post-events.ts';
import { analyticsRoutes } from './routes/analytics.ts';
import { ANALYTICS } from './service.ts';
import { insightSyncPlugin } from './workers/insight-sync-plugin.ts';

export type AnalyticsAppOptions = {
  readonly config: AnalyticsConfig;
  /** Consumer group overrides for tests sharing a broker; production uses the `analytics` groups from the beginning. */
  readonly consumer?: { readonly groupId?: string; readonly fromBeginning?: boolean; readonly onGroupJoin?: () => void };
  /** The service clock (schedules, pauses, snapshots); tests move it with the Meta sandbox's. Default: the real one. */
  readonly now?: () => Date;
};

/**
 * The whole analytics service as a list of plugins; nothing happens at import time. They close in reverse
 * order: routes, the sync worker and the consumers (the work in hand finishes), then the relay (publishing what
 * they wrote), Kafka, and the pools.
 */
const app: FastifyPluginAsync<AnalyticsAppOptions> = async (fastify, { config, consumer, now = () => new Date() }) => {
  const cipher = createTokenCipher(config.keyRing);
  await fastify.register(serviceKit, { service: 'analytics' });
  await fastify.register(zodSchemasPlugin);
  // User-scoped reads: analytics_app, RLS applies with the caller's claims.
  await fastify.register(databasePlugin, { connectionUri: config.database.app, applicationName: 'analytics' });
  await fastify.register(authPlugin, { verify: createJwtVerifier(config.auth), organisationOf: cachedOrganisationOf(createOrganisationLookup(fastify.db)) });
  await fastify.register(kafkaPlugin, { service: 'analytics', ...config.kafka, produces: [analyticsEvents], consumes: [postEvents, accountEvents, analyticsRequests] });
  await fastify.register(workerDatabasePlugin, { connectionUri: config.database.worker, applicationName: 'analytics-worker' });
  await fastify.register(outboxRelayPlugin, { schema: ANALYTICS.schema, sessionUrl: config.database.worker, topics: [analyticsEvents.name] });
  // Each consumer has a group of its own (a test's override gets a suffix per topic).
  const group = (suffix: string) => ({
    ...(consumer?.groupId === undefined ? {} : { groupId: `${consumer.groupId}-${suffix}` }),
    ...(consumer?.fromBeginning === undefined ? {} : { fromBeginning: consumer.fromBeginning }),
    ...(consumer?.onGroupJoin === undefined ? {} : { onGroupJoin: consumer.onGroupJoin }),
  });
  const emits = { topic: analyticsEvents, source: ANALYTICS.source };
  await fastify.register(inboxConsumer({ name: `${ANALYTICS.consumer}-account-events`, topic: accountEvents, schema: ANALYTICS.schema, emits, handlers: accountEventHandlers(cipher), ...group('account-events') }));
  await fastify.register(inboxConsumer({ name: `${ANALYTICS.consumer}-post-events`, topic: postEvents, schema: ANALYTICS.schema, emits, handlers: postEventHandlers(config.sync), ...group('post-events') }));
  await fastify.register(insightSyncPlugin, { cipher, settings: config.sync, graph: config.graph, now });
  await fastify.register(
    inboxConsumer({
      name: `${ANALYTICS.consumer}-requests`,
      topic: analyticsRequests,
      schema: ANALYTICS.schema,
      emits,
      handlers: () => analyticsRequestHandlers(config.sync, now, () => fastify.insightSync.metrics),
      ...group('requests'),
    }),
  );
  await fastify.register(analyticsRoutes, { prefix: '/v1', now, refreshCooldownMs: config.sync.refreshCooldownMs });
};

export default app;
