import { createServer } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

declare module 'fastify' {
  interface FastifyInstance {
    /** This service's own registry: anything that counts registers here, nothing is global. */
    metrics: Registry;
  }
}

export type MetricsOptions = {
  readonly service: string;
  readonly registry?: Registry;
  /**
   * Serve `/metrics` on this internal address instead of the service's own port: for a process whose
   * port is public (the gateway), so what it counts is told only to whoever can reach the internal one.
   */
  readonly listen?: { readonly host: string; readonly port: number };
};

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
    if (!options.listen) {
      fastify.get('/metrics', { logLevel: 'warn' }, async (_request, reply) =>
        reply.type(registry.contentType).send(await registry.metrics()),
      );
      return;
    }
    const { host, port } = options.listen;
    const server = createServer((request, response) => {
      if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
        response.writeHead(404, { 'content-type': 'application/problem+json' }).end(
          JSON.stringify({ type: 'https://postwire.dev/problems/not-found', title: 'Not Found', status: 404, detail: 'Only GET /metrics is served here.' }),
        );
        return;
      }
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) => {
          fastify.log.error({ err: error }, 'metrics collection failed');
          response.writeHead(500).end();
        },
      );
    });
    fastify.addHook('onReady', async () => {
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
      fastify.log.info({ host, port }, 'metrics listening on their own address');
    });
    fastify.addHook('onClose', async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
  },
  { name: '@postwire/metrics' },
);
