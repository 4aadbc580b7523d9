import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { TokenCipher } from '@postwire/crypto';
import { createTimedWorker, workerMetrics } from '@postwire/service-kit';
import type { LifecycleSettings } from './token-lifecycle-config.ts';
import { type HealthCheck, createHealthCheck } from './token-lifecycle-health.ts';
import { type ExpiryScan, createExpiryScan } from './token-lifecycle-scan.ts';
import { type LifecycleDependencies, type LifecycleMetrics, createLifecycleMetrics } from './token-lifecycle-shared.ts';

declare module 'fastify' {
  interface FastifyInstance {
    tokenLifecycle: {
      readonly expiryScan: ExpiryScan;
      readonly healthCheck: HealthCheck;
      readonly metrics: LifecycleMetrics;
      /** What the workers are built from, so a test can build more (another instance, its own clock). */
      readonly dependencies: LifecycleDependencies;
    };
  }
}

export type TokenLifecycleOptions = {
  readonly cipher: TokenCipher;
  readonly settings: LifecycleSettings;
  readonly now?: () => Date;
};

/**
 * The token lifecycle workers: the expiry scan (with Instagram token refresh) and the health check, on their
 * own timed workers, on the worker pool and Graph client; their events leave through the outbox relay.
 * Registered after the relay, so they stop first on close: no new batch starts, the one in hand finishes,
 * and only then does the relay flush the outbox.
 */
export const tokenLifecycle = fp(
  async (fastify: FastifyInstance, options: TokenLifecycleOptions) => {
    const logger = fastify.log.child({ component: 'token-lifecycle' });
    const metrics = createLifecycleMetrics(fastify.metrics);
    const dependencies: LifecycleDependencies = {
      pool: fastify.workerDb,
      graph: fastify.graph,
      cipher: options.cipher,
      logger,
      metrics,
      settings: options.settings,
      ...(options.now === undefined ? {} : { now: options.now }),
    };
    const expiryScan = createExpiryScan(dependencies);
    const healthCheck = createHealthCheck(dependencies);
    // Each pass takes its own locks (the expiry announcements run on every instance, the Meta calls on one).
    const common = { pool: fastify.workerDb, logger, metrics: workerMetrics(fastify.metrics), exclusive: false } as const;
    const timers = [
      createTimedWorker({ ...common, name: 'expiry-scan', intervalMs: options.settings.expiryScanIntervalMs, pass: async () => itemsOf(await expiryScan.runOnce(), (report) => report.refreshed + report.expired + report.failed + report.announced) }),
      createTimedWorker({ ...common, name: 'health-check', intervalMs: options.settings.healthCheckIntervalMs, pass: async () => itemsOf(await healthCheck.runOnce(), (report) => report.checked) }),
    ];
    fastify.decorate('tokenLifecycle', { expiryScan, healthCheck, metrics, dependencies });
    fastify.addHook('onReady', async () => {
      for (const timer of timers) timer.start();
    });
    fastify.addHook('onClose', async () => {
      await Promise.all([...timers.map((timer) => timer.stop()), expiryScan.stop(), healthCheck.stop()]);
    });
  },
  { name: 'accounts-token-lifecycle', dependencies: ['@postwire/worker-database', '@postwire/graph', '@postwire/outbox-relay', '@postwire/metrics'] },
);

/** Items a pass handled, for the worker metrics. */
function itemsOf<R>(report: R | 'stopped', count: (report: R) => number): { items: number } {
  return { items: report === 'stopped' ? 0 : count(report) };
}
