import type { FastifyPluginAsync } from 'fastify';
import { authPlugin, cachedOrganisationOf, createJwtVerifier } from '@postwire/auth';
import { accountEvents, accountRequests } from '@postwire/contracts';
import { createOrganisationLookup } from '@postwire/db';
import { databasePlugin, kafkaPlugin, serviceKit, zodSchemasPlugin } from '@postwire/service-kit';
import type { AccountsConfig } from './config.ts';
import { accountRoutes } from './routes/accounts.ts';
import { type EventPipelineOptions, eventPipeline } from './workers/event-pipeline.ts';
import { tokenLifecycle } from './workers/token-lifecycle.ts';

export type AccountsAppOptions = {
  readonly config: AccountsConfig;
  /** Consumer group overrides for tests sharing a broker (see EventPipelineOptions); production uses the defaults. */
  readonly consumer?: Pick<EventPipelineOptions, 'groupId' | 'fromBeginning' | 'onGroupJoin'>;
  /** The lifecycle workers' clock; tests move it with the Meta sandbox's. Default: the real one. */
  readonly now?: () => Date;
};

/**
 * The whole accounts service as one plugin; nothing happens at import time. Plugins close in reverse
 * order: the event pipeline (consumer, outbox relay, worker pool) first, then Kafka, then the app pool.
 */
const app: FastifyPluginAsync<AccountsAppOptions> = async (fastify, { config, consumer, now }) => {
  await fastify.register(serviceKit, { service: 'accounts' });
  await fastify.register(zodSchemasPlugin);
  // User-scoped reads: accounts_app, RLS applies with the caller's claims.
  await fastify.register(databasePlugin, { connectionUri: config.database.app, applicationName: 'accounts' });
  // The forwarded token is checked here again, its organisation against the user's own included.
  await fastify.register(authPlugin, { verify: createJwtVerifier(config.auth), organisationOf: cachedOrganisationOf(createOrganisationLookup(fastify.db)) });
  await fastify.register(kafkaPlugin, { service: 'accounts', brokers: config.kafka.brokers, produces: [accountEvents], consumes: [accountRequests], partitions: config.kafka.partitions, topicPrefix: config.kafka.topicPrefix });
  await fastify.register(eventPipeline, {
    workerDatabaseUrl: config.database.worker,
    keyRing: config.keyRing,
    graph: config.graph,
    ...consumer,
  });
  // Expiry scan, token refresh and health checks; registered after the pipeline so they stop before it.
  await fastify.register(tokenLifecycle, { keyRing: config.keyRing, settings: config.lifecycle, ...(now ? { now } : {}) });
  await fastify.register(accountRoutes, { prefix: '/v1' });
};

export default app;
