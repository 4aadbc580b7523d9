import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { DatabasePool } from '@postwire/db';
import { type GraphClient, type GraphSettings, createGraphClient } from '@postwire/graph';
import { type DatabasePluginOptions, openPool } from './database.ts';
import { type OutboxRelay, type OutboxRelayOptions, createOutboxMetrics, createOutboxRelay } from '@postwire/outbox';

declare module 'fastify' {
  interface FastifyInstance {
    /** The worker role's pool (BYPASSRLS): consumers and timed workers act for the organisation an event or row names. */
    workerDb: DatabasePool;
    /** The service's Meta Graph API client. */
    graph: GraphClient;
    /** Publishes the service's outbox. */
    outboxRelay: OutboxRelay;
  }
}

export type WorkerDatabaseOptions = DatabasePluginOptions;

/** The worker role's pool, with a readiness check; closed last of the background side (registered first). */
export const workerDatabasePlugin = fp(
  async (fastify: FastifyInstance, options: WorkerDatabaseOptions) => {
    fastify.decorate('workerDb', await openPool(fastify, 'worker-database', options));
  },
  { name: '@postwire/worker-database', dependencies: ['@postwire/health'] },
);

/** The Graph API client; it holds no connection, so it needs no readiness check nor close. */
export const graphPlugin = fp(
  async (fastify: FastifyInstance, options: { readonly settings: GraphSettings }) => {
    fastify.decorate('graph', createGraphClient(options.settings, { logger: fastify.log.child({ component: 'graph' }) }));
  },
  { name: '@postwire/graph' },
);

export type OutboxRelayPluginOptions = Pick<OutboxRelayOptions, 'schema' | 'topics' | 'pollIntervalMs' | 'sentRetentionMs' | 'batchSize'> & {
  /** The worker role's connection string: the relay's leader session uses the same role as the pool. */
  readonly sessionUrl: string;
};

/**
 * The outbox relay of one schema, on the worker pool and the service's producer. It starts once the app is
 * ready and, on close, runs after the consumers and timed workers (registered before them) have stopped,
 * publishing what they wrote before the pool and producer close.
 */
export const outboxRelayPlugin = fp(
  async (fastify: FastifyInstance, options: OutboxRelayPluginOptions) => {
    const { sessionUrl, ...relayOptions } = options;
    const relay = createOutboxRelay({
      ...relayOptions,
      pool: fastify.workerDb,
      sessionUrl,
      producer: fastify.kafka.producer,
      logger: fastify.log,
      metrics: createOutboxMetrics(fastify.metrics),
    });
    fastify.decorate('outboxRelay', relay);
    fastify.addHook('onReady', async () => relay.start());
    fastify.addHook('onClose', async () => relay.stop());
  },
  { name: '@postwire/outbox-relay', dependencies: ['@postwire/worker-database', '@postwire/kafka', '@postwire/metrics'] },
);
