import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { healthPlugin } from './health.ts';
import { metricsPlugin } from './metrics.ts';
import { problemPlugin } from './problem.ts';
import { traceContextPlugin } from './trace-context.ts';

export type ServiceKitOptions = {
  readonly service: string;
  readonly readinessTimeoutMs?: number;
  /** A separate internal address for /metrics (see MetricsOptions.listen). */
  readonly metricsListen?: { readonly host: string; readonly port: number };
};

/** What every Postwire HTTP process has: trace context, problem+json errors, health and metrics. */
export const serviceKit = fp(
  async (fastify: FastifyInstance, options: ServiceKitOptions) => {
    await fastify.register(traceContextPlugin);
    await fastify.register(problemPlugin);
    await fastify.register(healthPlugin, options.readinessTimeoutMs ? { checkTimeoutMs: options.readinessTimeoutMs } : {});
    await fastify.register(metricsPlugin, { service: options.service, ...(options.metricsListen ? { listen: options.metricsListen } : {}) });
  },
  { name: '@postwire/service-kit' },
);
