import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export type ReadinessCheck = () => Promise<void>;

export type Readiness = {
  /** Adds a dependency that must answer before the service reports ready (a pool, a broker...). */
  register(name: string, check: ReadinessCheck): void;
};

declare module 'fastify' {
  interface FastifyInstance {
    readiness: Readiness;
  }
}

export type HealthOptions = { readonly checkTimeoutMs?: number };

/**
 * `/healthz`: the process is alive and serving. `/readyz`: every registered dependency answered
 * within the timeout; otherwise 503 naming what failed (without internal error details).
 */
export const healthPlugin = fp(
  async (fastify: FastifyInstance, options: HealthOptions) => {
    const timeoutMs = options.checkTimeoutMs ?? 2_000;
    const checks = new Map<string, ReadinessCheck>();
    let draining = false;
    fastify.decorate('readiness', {
      register: (name, check) => void checks.set(name, check),
    } satisfies Readiness);
    // From the start of a shutdown, /readyz answers 503 so load balancers drain the instance.
    fastify.addHook('preClose', async () => {
      draining = true;
    });

    fastify.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));

    fastify.get('/readyz', { logLevel: 'warn' }, async (request, reply) => {
      const results = await Promise.all(
        [...checks].map(async ([name, check]) => {
          try {
            await withTimeout(check(), timeoutMs);
            return [name, 'ok'] as const;
          } catch (error) {
            request.log.warn({ err: error, check: name }, 'readiness check failed');
            return [name, 'failing'] as const;
          }
        }),
      );
      const ready = !draining && results.every(([, state]) => state === 'ok');
      return reply.code(ready ? 200 : 503).send({
        status: ready ? 'ready' : draining ? 'draining' : 'not ready',
        checks: Object.fromEntries(results),
      });
    });
  },
  { name: '@postwire/health' },
);

async function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
