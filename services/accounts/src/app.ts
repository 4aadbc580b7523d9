import type { FastifyPluginAsync } from 'fastify';
import { authPlugin, cachedOrganisationOf, createJwtVerifier } from '@postwire/auth';
import { accountEvents, accountRequests, postEvents } from '@postwire/contracts';
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
import type { AccountsConfig } from './config.ts';
import { accountRequestFailures, accountRequestHandlers } from './consumers/account-requests.ts';
import { postEventHandlers } from './consumers/post-events.ts';
import { accountRoutes } from './routes/accounts.ts';
import { ACCOUNTS } from './service.ts';
import { pruning } from './workers/pruning.ts';
import { tokenLifecycle } from './workers/token-lifecycle.ts';

export type AccountsAppOptions = {
  readonly config: AccountsConfig;
  /** Consumer group overrides for tests sharing a broker; production uses the `accounts` group from the beginning. */
  readonly consumer?: { readonly groupId?: string; readonly fromBeginning?: boolean; readonly onGroupJoin?: () => void };
  /** The lifecycle workers' clock; tests move it with the Meta sandbox's. Default: the real one. */
  readonly now?: () => Date;
};

/**
 * The whole accounts service as a list of plugins; nothing happens at import time. They close in reverse
 * order: routes, then the timed workers and the consumer (the event in hand finishes), then the relay
 * (publishing what they wrote), Kafka, and the pools.
 */
const app: FastifyPluginAsync<AccountsAppOptions> = async (fastify, { config, consumer, now }) => {
  const cipher = createTokenCipher(config.keyRing);
  await fastify.register(serviceKit, { service: 'accounts' });
  await fastify.register(zodSchemasPlugin);
  // User-scoped reads: accounts_app, RLS applies with the caller's claims.
  // accounts_app only reads, each read with the caller's claims for its own transaction: no session state to discard.
  await fastify.register(databasePlugin, { connectionUri: config.database.app, applicationName: 'accounts', resetOnRelease: false, minimumPoolSize: 4 });
  // The forwarded token is checked here again, its organisation against the user's own included.
  await fastify.register(authPlugin, { verify: createJwtVerifier(config.auth), organisationOf: cachedOrganisationOf(createOrganisationLookup(fastify.db)) });
  await fastify.register(kafkaPlugin, { service: 'accounts', ...config.kafka, produces: [accountEvents], consumes: [accountRequests, postEvents] });
  await fastify.register(workerDatabasePlugin, { connectionUri: config.database.worker, applicationName: 'accounts-worker' });
  await fastify.register(graphPlugin, { settings: config.graph });
  await fastify.register(outboxRelayPlugin, { schema: ACCOUNTS.schema, sessionUrl: config.database.worker, topics: [accountEvents.name] });
  await fastify.register(
    inboxConsumer({
      name: ACCOUNTS.consumer,
      topic: accountRequests,
      schema: ACCOUNTS.schema,
      emits: { topic: accountEvents, source: ACCOUNTS.source },
      handlers: ({ graph }) => accountRequestHandlers({ graph, cipher }),
      onDeadLetter: accountRequestFailures,
      ...consumer,
    }),
  );
  await fastify.register(tokenLifecycle, { cipher, settings: config.lifecycle, ...(now ? { now } : {}) });
  // A token the publisher saw refused is checked with Meta at once (registered after the lifecycle it calls).
  await fastify.register(
    inboxConsumer({
      name: `${ACCOUNTS.consumer}-post-events`,
      topic: postEvents,
      schema: ACCOUNTS.schema,
      emits: { topic: accountEvents, source: ACCOUNTS.source },
      handlers: () => postEventHandlers(fastify.tokenLifecycle.healthCheck),
      ...(consumer?.groupId === undefined ? {} : { groupId: `${consumer.groupId}-post-events` }),
      ...(consumer?.fromBeginning === undefined ? {} : { fromBeginning: consumer.fromBeginning }),
    }),
  );
  await fastify.register(pruning, config.pruning);
  await fastify.register(accountRoutes, { prefix: '/v1' });
};

export default app;
