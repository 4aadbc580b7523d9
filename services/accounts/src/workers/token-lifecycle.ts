import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type KeyRing, createTokenCipher } from '@postwire/crypto';
import type { ServiceLogger } from '@postwire/kafka';
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
  readonly keyRing: KeyRing;
  readonly settings: LifecycleSettings;
  readonly now?: () => Date;
};

/** Runs `run` every `intervalMs` (0: never), the first time one interval after start; the next waits for the last. */
function every(intervalMs: number, name: string, run: () => Promise<unknown>, logger: ServiceLogger) {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped || intervalMs === 0) return;
    timer = setTimeout(() => {
      run()
        .catch((error: unknown) => logger.error({ worker: name, err: error }, 'token lifecycle run failed'))
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  return {
    start: schedule,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * The token lifecycle workers: the expiry scan (with Instagram token refresh) and the health check, on their
 * own timers, on the event pipeline's worker pool and Graph client; their events leave through its outbox.
 * Registered after the pipeline, so they stop first on close: no new batch starts, the one in hand finishes,
 * and only then does the relay flush the outbox.
 */
export const tokenLifecycle = fp(
  async (fastify: FastifyInstance, options: TokenLifecycleOptions) => {
    const logger = fastify.log.child({ component: 'token-lifecycle' });
    const metrics = createLifecycleMetrics(fastify.metrics);
    const dependencies: LifecycleDependencies = {
      pool: fastify.accountsPipeline.workerDb,
      graph: fastify.accountsPipeline.graph,
      cipher: createTokenCipher(options.keyRing),
      logger,
      metrics,
      settings: options.settings,
      ...(options.now === undefined ? {} : { now: options.now }),
    };
    const expiryScan = createExpiryScan(dependencies);
    const healthCheck = createHealthCheck(dependencies);
    const timers = [
      every(options.settings.expiryScanIntervalMs, 'expiry-scan', () => expiryScan.runOnce(), logger),
      every(options.settings.healthCheckIntervalMs, 'health-check', () => healthCheck.runOnce(), logger),
    ];
    fastify.decorate('tokenLifecycle', { expiryScan, healthCheck, metrics, dependencies });
    fastify.addHook('onReady', async () => {
      for (const timer of timers) timer.start();
    });
    fastify.addHook('onClose', async () => {
      for (const timer of timers) timer.stop();
      await Promise.all([expiryScan.stop(), healthCheck.stop()]);
    });
  },
  { name: 'accounts-token-lifecycle', dependencies: ['accounts-event-pipeline', '@postwire/metrics'] },
);
