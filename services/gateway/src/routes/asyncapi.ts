import type { FastifyPluginAsync } from 'fastify';
import { buildAsyncApiDocument } from '@postwire/contracts';

export type AsyncApiRouteOptions = { readonly kafkaBrokers: readonly string[]; readonly version: string };

/** The event catalogue for internal subscribers, generated from the contracts at start-up. */
export const asyncApiRoutes: FastifyPluginAsync<AsyncApiRouteOptions> = async (fastify, options) => {
  const document = buildAsyncApiDocument({
    version: options.version,
    servers: Object.fromEntries(
      options.kafkaBrokers.map((host, index) => [`broker${index + 1}`, { host, description: 'Kafka bootstrap broker' }]),
    ),
  });
  fastify.get('/asyncapi.json', { logLevel: 'warn' }, async () => document);
};
