import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { TokenCipher } from '@postwire/crypto';
import { type GraphSettings, createGraphClient } from '@postwire/graph';
import { createPublishingQueries } from '../db/publishing-queries.ts';
import type { MediaProbeSettings } from '../domain/media-probe.ts';
import { type PublishingEngine, createPublishingEngine } from '../publishing/engine.ts';
import type { PlatformFlow } from '../publishing/flow.ts';
import { createFacebookFlow } from '../publishing/facebook-flow.ts';
import { createInstagramFlow } from '../publishing/instagram-flow.ts';
import type { PublishingEngineSettings } from './publishing-engine-config.ts';
import { type PublishingMetrics, createPublishingMetrics, meteredFetch } from './publishing-metrics.ts';

declare module 'fastify' {
  interface FastifyInstance {
    publishingEngine: { readonly engine: PublishingEngine; readonly metrics: PublishingMetrics };
  }
}

export type PublishingEngineOptions = {
  readonly settings: PublishingEngineSettings;
  /** The intake's media probe settings: URLs are checked again before an attempt starts. */
  readonly mediaProbe: MediaProbeSettings;
  readonly graph: GraphSettings;
  readonly cipher: TokenCipher;
  /** Replaces a platform's flow (tests). */
  readonly flows?: { readonly instagram?: PlatformFlow; readonly facebook?: PlatformFlow };
  /** The flows' clock; tests move it with the Meta sandbox's. Default: the real one. */
  readonly now?: () => Date;
};

/**
 * The publishing engine as a kit plugin on the worker pool, its own metered Graph client and the outbox relay.
 * Registered after the relay, it closes first: no new claim, the steps in hand finish and record their outcome
 * (releasing their claims), whatever is still held is released, and only then does the relay flush the outbox.
 */
export const publishingEngine = fp(
  async (fastify: FastifyInstance, options: PublishingEngineOptions) => {
    const logger = fastify.log.child({ component: 'publishing-engine' });
    const metrics = createPublishingMetrics(fastify.metrics, () => createPublishingQueries(fastify.workerDb).dueUnclaimed());
    const graph = createGraphClient(options.graph, { logger: fastify.log.child({ component: 'graph' }), fetch: meteredFetch(metrics) });
    const settings = options.settings;
    const instagram = createInstagramFlow({
      pollFirstDelayMs: settings.pollFirstDelayMs,
      pollMaxDelayMs: settings.pollMaxDelayMs,
      quotaRecheckMs: settings.quotaRecheckMs,
      reconcileDelayMs: settings.pollFirstDelayMs,
    });
    const engine = createPublishingEngine({
      pool: fastify.workerDb,
      graph,
      cipher: options.cipher,
      flows: { instagram, facebook: createFacebookFlow(), ...options.flows },
      settings,
      mediaProbe: options.mediaProbe,
      logger,
      metrics,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    fastify.decorate('publishingEngine', { engine, metrics });
    fastify.addHook('onReady', async () => {
      if (settings.enabled) engine.start();
    });
    fastify.addHook('onClose', async () => engine.stop());
  },
  { name: 'publisher-publishing-engine', dependencies: ['@postwire/worker-database', '@postwire/outbox-relay', '@postwire/metrics'] },
);
