import type { FastifyPluginAsync } from 'fastify';
import { databasePlugin, serviceKit } from '@postwire/service-kit';
import type { PublisherConfig } from './config.ts';

export type PublisherAppOptions = { readonly config: PublisherConfig };

/** The whole publisher service as one plugin; nothing happens at import time. */
const app: FastifyPluginAsync<PublisherAppOptions> = async (fastify, { config }) => {
  await fastify.register(serviceKit, { service: 'publisher' });
  await fastify.register(databasePlugin, { connectionUri: config.database.app, applicationName: 'publisher' });
};

export default app;
