import type { FastifyPluginAsync } from 'fastify';
import { serviceKit } from '@postwire/service-kit';
import type { GatewayConfig } from './config.ts';

export type GatewayAppOptions = { readonly config: GatewayConfig };

/** The public REST API as one plugin; nothing happens at import time. */
const app: FastifyPluginAsync<GatewayAppOptions> = async (fastify) => {
  await fastify.register(serviceKit, { service: 'gateway' });
};

export default app;
