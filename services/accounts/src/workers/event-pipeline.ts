import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { accountEvents, accountRequests, createEventReader } from '@postwire/contracts';
import { type KeyRing, createTokenCipher } from '@postwire/crypto';
import { type DatabasePool, createDatabasePool, sql } from '@postwire/db';
import { type GraphClient, type GraphSettings, createGraphClient } from '@postwire/graph';
import { type EventConsumer, createEventConsumer } from '@postwire/kafka';
import { type OutboxRelay, createOutboxMetrics, createOutboxRelay } from '@postwire/outbox';
import { ACCOUNTS_CONSUMER, createAccountRequestsHandler } from '../consumers/account-requests.ts';

declare module 'fastify' {
  interface FastifyInstance {
    accountsPipeline: { readonly workerDb: DatabasePool; readonly consumer: EventConsumer; readonly relay: OutboxRelay; readonly graph: GraphClient };
  }
}

export type EventPipelineOptions = {
  /** The worker role (BYPASSRLS): consumers act for the organisation named in each event's envelope. */
  readonly workerDatabaseUrl: string;
  readonly keyRing: KeyRing;
  readonly graph: GraphSettings;
  /** `accounts` in production. Tests on a shared broker use a group of their own so members of other runs never take their partitions. */
  readonly groupId?: string;
  /** A new group reads the topic from its beginning (default), so no request is skipped; the inbox drops what was applied. */
  readonly fromBeginning?: boolean;
  readonly onGroupJoin?: () => void;
  readonly relayPollIntervalMs?: number;
};

/**
 * The accounts service's background side: a worker-role pool, the `account-requests` consumer (group
 * `accounts`) and the outbox relay that publishes `account-events`. Registered after the database and Kafka
 * plugins, so on close it goes first: stop consuming (the event in hand finishes and commits), then flush
 * the outbox, then close the worker pool; the producer and the app pool close after it.
 */
export const eventPipeline = fp(
  async (fastify: FastifyInstance, options: EventPipelineOptions) => {
    const logger = fastify.log;
    const workerDb = await createDatabasePool(options.workerDatabaseUrl, { applicationName: 'accounts-worker' });
    const graph = createGraphClient(options.graph, { logger: logger.child({ component: 'graph' }) });
    const cipher = createTokenCipher(options.keyRing);

    const consumer = createEventConsumer(fastify.kafka.client, {
      groupId: options.groupId ?? ACCOUNTS_CONSUMER,
      reader: createEventReader(accountRequests),
      handler: createAccountRequestsHandler({ pool: workerDb, graph, cipher, logger }),
      logger,
      metrics: fastify.kafka.metrics,
      fromBeginning: options.fromBeginning ?? true,
      ...(options.onGroupJoin === undefined ? {} : { onGroupJoin: options.onGroupJoin }),
    });
    const relay = createOutboxRelay({
      pool: workerDb,
      sessionUrl: options.workerDatabaseUrl,
      schema: 'accounts',
      topics: [accountEvents.name],
      producer: fastify.kafka.producer,
      logger,
      metrics: createOutboxMetrics(fastify.metrics),
      ...(options.relayPollIntervalMs === undefined ? {} : { pollIntervalMs: options.relayPollIntervalMs }),
    });

    fastify.decorate('accountsPipeline', { workerDb, consumer, relay, graph });
    fastify.readiness.register('worker-database', async () => {
      await workerDb.query(sql.unsafe`SELECT 1`);
    });
    fastify.addHook('onReady', async () => {
      await relay.start();
      await consumer.start();
    });
    fastify.addHook('onClose', async () => {
      await consumer.stop();
      await relay.stop();
      await workerDb.end();
    });
  },
  { name: 'accounts-event-pipeline', dependencies: ['@postwire/kafka', '@postwire/health', '@postwire/metrics'] },
);
