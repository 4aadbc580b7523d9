import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

declare module 'fastify' {
  interface FastifyInstance {
    /** This service's own registry: anything that counts registers here, nothing is global. */
    metrics: Registry;
  }
}

export type MetricsOptions = { readonly service: string; readonly registry?: Registry };

/** Prometheus metrics at `/metrics`: process defaults plus HTTP request durations per route. */
export const metricsPlugin = fp(
  async (fastify: FastifyInstance, options: MetricsOptions) => {
    const registry = options.registry ?? new Registry();
    registry.setDefaultLabels({ service: options.service });
    collectDefaultMetrics({ register: registry });
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request durations by route template, method and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    fastify.decorate('metrics', registry);
    fastify.addHook('onResponse', async (request, reply) => {
      // The route template, never the raw URL: ids in paths would explode the label set.
      const route = request.routeOptions.url ?? 'unmatched';
      duration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });
    fastify.get('/metrics', { logLevel: 'warn' }, async (_request, reply) =>
      reply.type(registry.contentType).send(await registry.metrics()),
    );
  },
  { name: '@postwire/metrics' },
);
