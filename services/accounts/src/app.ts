import type { FastifyPluginAsync } from 'fastify';
import { databasePlugin, serviceKit } from '@postwire/service-kit';
import type { AccountsConfig } from './config.ts';

export type AccountsAppOptions = { readonly config: AccountsConfig };

/** The whole accounts service as one plugin; nothing happens at import time. */
const app: FastifyPluginAsync<AccountsAppOptions> = async (fastify, { config }) => {
  await fastify.register(serviceKit, { service: 'accounts' });
  await fastify.register(databasePlugin, { connectionUri: config.database.app, applicationName: 'accounts' });
};

export default app;
