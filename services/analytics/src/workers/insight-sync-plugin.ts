import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { TokenCipher } from '@postwire/crypto';
import { type GraphClient, createGraphClient, type GraphSettings } from '@postwire/graph';
import { createTimedWorker, workerMetrics } from '@postwire/service-kit';
import { createSyncsRepository } from '../db/syncs-repository.ts';
import { type InsightSyncDependencies, createInsightSync } from './insight-sync.ts';
import { type MetaPacer, createMetaPacer } from './meta-pacer.ts';
import type { SyncSettings } from './sync-config.ts';
import { type SyncMetrics, createSyncMetrics } from './sync-metrics.ts';

declare module 'fastify' {
  interface FastifyInstance {
    insightSync: {
      readonly runOnce: ReturnType<typeof createInsightSync>['runOnce'];
      readonly metrics: SyncMetrics;
      readonly pacer: MetaPacer;
      readonly graph: GraphClient;
      /** What the sync is built from, so a test can build another instance of it (two workers on one database). */
      readonly dependencies: InsightSyncDependencies;
    };
  }
}

export type InsightSyncOptions = {
  readonly cipher: TokenCipher;
  readonly settings: SyncSettings;
  readonly graph: GraphSettings;
  readonly now: () => Date;
};

/**
 * The insight sync worker: a timed pass on every instance (passes overlap safely: claims are leased rows), on the
 * worker pool and a Graph client of its own whose usage headers feed the pacer. Registered after the relay, so
 * it stops first on close: the pass in hand finishes, then the relay publishes what it wrote.
 */
export const insightSyncPlugin = fp(
  async (fastify: FastifyInstance, options: InsightSyncOptions) => {
    const logger = fastify.log.child({ component: 'insight-sync' });
    const metrics = createSyncMetrics(fastify.metrics, () => createSyncsRepository(fastify.workerDb).countDue(options.now()));
    const pacer = createMetaPacer(options.settings, metrics);
    const graph = createGraphClient(options.graph, { logger: logger.child({ component: 'graph' }), onUsage: (usage) => pacer.record(usage) });
    const dependencies: InsightSyncDependencies = { pool: fastify.workerDb, graph, pacer, cipher: options.cipher, logger, metrics, settings: options.settings, now: options.now };
    const sync = createInsightSync(dependencies);
    const timer = createTimedWorker({
      name: 'insight-sync',
      intervalMs: options.settings.intervalMs,
      pool: fastify.workerDb,
      logger,
      metrics: workerMetrics(fastify.metrics),
      exclusive: false,
      pass: async () => ({ items: (await sync.runOnce()).claimed }),
    });
    fastify.decorate('insightSync', { runOnce: () => sync.runOnce(), metrics, pacer, graph, dependencies });
    fastify.addHook('onReady', async () => timer.start());
    fastify.addHook('onClose', async () => timer.stop());
  },
  { name: 'analytics-insight-sync', dependencies: ['@postwire/worker-database', '@postwire/outbox-relay', '@postwire/metrics'] },
);
