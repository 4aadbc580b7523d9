import type { FastifyPluginAsync } from 'fastify';
import cookie from '@fastify/cookie';
import { authPlugin, cachedOrganisationOf, createJwtVerifier } from '@postwire/auth';
import { accountEvents, accountRequests, postEvents, postRequests } from '@postwire/contracts';
import { createTokenCipher } from '@postwire/crypto';
import { createGraphClient } from '@postwire/graph';
import { createOrganisationLookup } from '@postwire/db';
import { databasePlugin, kafkaPlugin, pruningPlugin, serviceKit, workerDatabasePlugin } from '@postwire/service-kit';
import type { GatewayConfig } from './config.ts';
import { openApiPlugin } from './plugins/openapi.ts';
import { protectionPlugin } from './plugins/protection.ts';
import { answersPlugin } from './plugins/answers.ts';
import { streamTicketsPlugin } from './plugins/stream-tickets.ts';
import { upstreamPlugin } from './plugins/upstream.ts';
import { conditionalReadsPlugin } from './plugins/conditional-reads.ts';
import { accountReadRoutes } from './routes/accounts.ts';
import { analyticsRoutes } from './routes/analytics.ts';
import { asyncApiRoutes } from './routes/asyncapi.ts';
import { connectRoutes } from './routes/connect.ts';
import { meRoutes } from './routes/me.ts';
import { postRoutes } from './routes/posts.ts';
import { liveEventsPlugin } from './events/live-events-plugin.ts';
import { eventRoutes } from './routes/events.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { deliveryWorkerPlugin } from './webhooks/delivery-worker.ts';
import { fanOutConsumerPlugin } from './webhooks/fan-out-consumer.ts';

export type GatewayAppOptions = { readonly config: GatewayConfig };

const API_VERSION = '1.0.0';

/** The public REST API as one plugin; nothing happens at import time. */
const app: FastifyPluginAsync<GatewayAppOptions> = async (fastify, { config }) => {
  // The gateway's port is public: its metrics are served on an internal address of their own.
  await fastify.register(serviceKit, { service: 'gateway', metricsListen: config.metrics });
  // Before every route it protects (it attaches each route's rate limit and body limit as the route is added).
  await fastify.register(protectionPlugin, { ...config.protection, webOrigins: config.webOrigins });
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
    producerLingerMs: config.kafka.producerLingerMs,
  });
  await fastify.register(asyncApiRoutes, { kafkaBrokers: config.kafka.brokers, version: API_VERSION });
  const graph = createGraphClient(config.graph, { logger: fastify.log });
  const cipher = createTokenCipher(config.keyRing);
  // Browsers open the event stream with a sealed, short-lived ticket: EventSource cannot send a bearer token.
  await fastify.register(streamTicketsPlugin, { cipher });
  // The connect callback is where Meta sends the browser back: it has no bearer token, its cookie binds it.
  await fastify.register(answersPlugin, { instanceId: config.instanceId });
  // Only the connect flow reads cookies: no other request pays for parsing them.
  await fastify.register(async (connect) => {
    await connect.register(cookie);
    await connect.register(connectRoutes, {
      prefix: '/v1',
      graph,
      cipher,
      publicUrl: config.publicUrl,
      answerTimeoutMs: config.connectWaitMs,
      resultTtlMs: config.connectResultTtlMs,
      webOrigins: config.webOrigins,
    });
  });
  await fastify.register(upstreamPlugin, { timeoutMs: config.upstreams.timeoutMs });
  // Live events: SSE streams fed by this instance's consumers; webhooks fanned out and sent by the worker role.
  await fastify.register(liveEventsPlugin, { ...config.live.events, instanceId: config.instanceId });
  await fastify.register(workerDatabasePlugin, { connectionUri: config.live.workerDatabase, applicationName: 'gateway-worker', maximumPoolSize: 8 });
  await fastify.register(deliveryWorkerPlugin, { ...config.live.webhooks, cipher, listenUrl: config.live.workerDatabase });
  await fastify.register(pruningPlugin, config.live.pruning);
  await fastify.register(fanOutConsumerPlugin, { consumerGroup: config.live.webhooks.consumerGroup, leaseMs: config.live.webhooks.leaseMs });
  await fastify.register(
    async (api) => {
      // The bearer token; on the event stream, a stream ticket may stand in for it.
      api.addHook('onRequest', api.authenticateCaller);
      // Before the routes: it marks and documents every JSON read registered after it.
      await api.register(conditionalReadsPlugin);
      await api.register(meRoutes);
      await api.register(accountReadRoutes, { accountsUrl: config.upstreams.accounts });
      await api.register(postRoutes, {
        publisherUrl: config.upstreams.publisher,
        accountsUrl: config.upstreams.accounts,
        answerTimeoutMs: config.postWaitMs,
      });
      await api.register(analyticsRoutes, { analyticsUrl: config.upstreams.analytics, publisherUrl: config.upstreams.publisher, partitions: config.kafka.partitions });
      await api.register(eventRoutes, config.live.events);
      await api.register(webhookRoutes, { cipher, allowPrivateTargets: config.live.webhooks.allowPrivateTargets });
    },
    { prefix: '/v1' },
  );
};

export default app;
