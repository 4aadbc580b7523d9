import type { FastifyPluginAsync } from 'fastify';
import { authPlugin, createJwtVerifier } from '@postwire/auth';
import { serviceKit } from '@postwire/service-kit';
import type { GatewayConfig } from './config.ts';
import { openApiPlugin } from './plugins/openapi.ts';
import { asyncApiRoutes } from './routes/asyncapi.ts';
import { meRoutes } from './routes/me.ts';

export type GatewayAppOptions = { readonly config: GatewayConfig };

const API_VERSION = '1.0.0';

/** The public REST API as one plugin; nothing happens at import time. */
const app: FastifyPluginAsync<GatewayAppOptions> = async (fastify, { config }) => {
  await fastify.register(serviceKit, { service: 'gateway' });
  await fastify.register(openApiPlugin, { publicUrl: config.publicUrl, version: API_VERSION });
  await fastify.register(authPlugin, { verify: createJwtVerifier(config.auth) });
  await fastify.register(asyncApiRoutes, { kafkaBrokers: config.kafka.brokers, version: API_VERSION });
  await fastify.register(
    async (api) => {
      api.addHook('onRequest', api.authenticate);
      await api.register(meRoutes);
    },
    { prefix: '/v1' },
  );
};

export default app;
