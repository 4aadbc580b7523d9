import type { FastifyPluginAsync } from 'fastify';
import { databasePlugin, serviceKit } from '@postwire/service-kit';
import type { AnalyticsConfig } from './config.ts';

export type AnalyticsAppOptions = { readonly config: AnalyticsConfig };

/** The whole analytics service as one plugin; nothing happens at import time. */
const app: FastifyPluginAsync<AnalyticsAppOptions> = async (fastify, { config }) => {
  await fastify.register(serviceKit, { service: 'analytics' });
  await fastify.register(databasePlugin, { connectionUri: config.database.app, applicationName: 'analytics' });
};

export default app;
