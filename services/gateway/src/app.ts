import type { FastifyPluginAsync } from 'fastify';
import cookie from '@fastify/cookie';
import { authPlugin, cachedOrganisationOf, createJwtVerifier } from '@postwire/auth';
import { accountEvents, accountRequests, postEvents, postRequests } from '@postwire/contracts';
import { createTokenCipher } from '@postwire/crypto';
import { createGraphClient } from '@postwire/graph';
import { createOrganisationLookup } from '@postwire/db';
import { databasePlugin, kafkaPlugin, serviceKit } from '@postwire/service-kit';
import type { GatewayConfig } from './config.ts';
import { openApiPlugin } from './plugins/openapi.ts';
import { answersPlugin } from './plugins/answers.ts';
import { upstreamPlugin } from './plugins/upstream.ts';
import { accountReadRoutes } from './routes/accounts.ts';
import { analyticsRoutes } from './routes/analytics.ts';
import { asyncApiRoutes } from './routes/asyncapi.ts';
import { connectRoutes } from './routes/connect.ts';
import { meRoutes } from './routes/me.ts';
import { postRoutes } from './routes/posts.ts';

export type GatewayAppOptions = { readonly config: GatewayConfig };

const API_VERSION = '1.0.0';

/** The public REST API as one plugin; nothing happens at import time. */
const app: FastifyPluginAsync<GatewayAppOptions> = async (fastify, { config }) => {
  // The gateway's port is public: its metrics are served on an internal address of their own.
  await fastify.register(serviceKit, { service: 'gateway', metricsListen: config.metrics });
  await fastify.register(openApiPlugin, { publicUrl: config.publicUrl, version: API_VERSION });
  // Only to read which organisation a user belongs to (role gateway_app, SELECT on users' two columns).
  await fastify.register(databasePlugin, { connectionUri: config.database, applicationName: 'gateway', maximumPoolSize: 4 });
  await fastify.register(authPlugin, {
    verify: createJwtVerifier(config.auth),
    organisationOf: cachedOrganisationOf(createOrganisationLookup(fastify.db), { ttlMs: config.membershipCacheMs }),
  });
  await fastify.register(kafkaPlugin, {
    service: 'gateway',
    brokers: config.kafka.brokers,
    produces: [accountRequests, postRequests],
    consumes: [accountEvents, postEvents],
    partitions: config.kafka.partitions,
    topicPrefix: config.kafka.topicPrefix,
  });
  await fastify.register(asyncApiRoutes, { kafkaBrokers: config.kafka.brokers, version: API_VERSION });
  const graph = createGraphClient(config.graph, { logger: fastify.log });
  const cipher = createTokenCipher(config.keyRing);
  // The connect callback is where Meta sends the browser back: it has no bearer token, its cookie binds it.
  await fastify.register(answersPlugin, { instanceId: config.instanceId });
  // Only the connect flow reads cookies: no other request pays for parsing them.
  await fastify.register(async (connect) => {
    await connect.register(cookie);
    await connect.register(connectRoutes, { prefix: '/v1', graph, cipher, publicUrl: config.publicUrl, answerTimeoutMs: config.connectWaitMs });
  });
  await fastify.register(upstreamPlugin, { timeoutMs: config.upstreams.timeoutMs });
  await fastify.register(
    async (api) => {
      api.addHook('onRequest', api.authenticate);
      await api.register(meRoutes);
      await api.register(accountReadRoutes, { accountsUrl: config.upstreams.accounts });
      await api.register(postRoutes, {
        publisherUrl: config.upstreams.publisher,
        accountsUrl: config.upstreams.accounts,
        answerTimeoutMs: config.postWaitMs,
      });
      await api.register(analyticsRoutes, { analyticsUrl: config.upstreams.analytics, publisherUrl: config.upstreams.publisher, partitions: config.kafka.partitions });
    },
    { prefix: '/v1' },
  );
};

export default app;
