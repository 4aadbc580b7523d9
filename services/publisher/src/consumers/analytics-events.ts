import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { authPlugin, cachedOrganisationOf, createJwtVerifier } from '@postwire/auth';
import { analyticsEvents, postEvents } from '@postwire/contracts';
import { createOrganisationLookup } from '@postwire/db';
import { provisionTopics } from '@postwire/kafka';
import type { InboxHandlers } from '@postwire/outbox';
import { inboxConsumer, kafkaPlugin, outboxRelayPlugin, workerDatabasePlugin, zodSchemasPlugin } from '@postwire/service-kit';
import type { PublisherConfig } from '../config.ts';
import { createMetricsRepository } from '../db/metrics-repository.ts';

/**
 * `postwire.analytics-events.v1`: a snapshot analytics stored becomes the post's analytics columns (when newer
 * than what they hold), engagement_rate is recomputed by the seed's calculate_engagement_rate, and
 * `post.metrics-updated` tells everyone, all in the inbox's transaction.
 *
 * Engagement rate = (likes + comments + shares + saves) / reach x 100. Reach counts unique accounts while
 * interactions count actions (one account can like, comment, share and save; shares and saves also come from
 * accounts outside the reach figure's window), so the rate can exceed 100 %; it is capped at 999.99, what the
 * seed's DECIMAL(5,2) holds.
 */
export function analyticsEventHandlers(): InboxHandlers<typeof analyticsEvents, typeof postEvents> {
  return {
    async 'post.metrics-synced'(event, { apply, logger }) {
      const { data } = event;
      await apply(async (connection, emit) => {
        const applied = await createMetricsRepository(connection).applySynced(data.postId, data.metrics, new Date(data.snapshotAt));
        if (applied === null) {
          logger.debug({ postId: data.postId, snapshotId: data.snapshotId }, 'snapshot not applied: unknown or deleted post, or newer figures stored');
          return;
        }
        await emit([
          {
            type: 'post.metrics-updated',
            data: {
              postId: applied.id,
              socialAccountId: applied.social_account_id,
              metrics: data.metrics,
              engagementRate: applied.engagement_rate,
              syncedAt: data.snapshotAt,
            },
          },
        ]);
      });
    },
  };
}

export type AnalyticsMetricsOptions = {
  readonly config: PublisherConfig;
  /** Consumer group overrides for tests sharing a broker. */
  readonly consumer?: { readonly groupId?: string; readonly fromBeginning?: boolean; readonly onGroupJoin?: () => void };
};

/**
 * The publisher's side of analytics, self-contained: the shared plugins (auth, Kafka, worker pool, relay) are
 * registered here only when the app has not registered them already, then the analytics events consumer.
 */
export const analyticsMetrics = fp(
  async (fastify: FastifyInstance, { config, consumer }: AnalyticsMetricsOptions) => {
    if (!fastify.hasDecorator('authenticate')) {
      await fastify.register(zodSchemasPlugin);
      await fastify.register(authPlugin, { verify: createJwtVerifier(config.auth), organisationOf: cachedOrganisationOf(createOrganisationLookup(fastify.db)) });
    }
    if (!fastify.hasDecorator('kafka')) {
      await fastify.register(kafkaPlugin, { service: 'publisher', ...config.kafka, produces: [postEvents], consumes: [analyticsEvents] });
    } else {
      // Subscribing to a topic that does not exist yet fails: analytics may not have started.
      await provisionTopics(fastify.kafka.client, { topics: [analyticsEvents.name], partitions: config.kafka.partitions });
    }
    if (!fastify.hasDecorator('workerDb')) {
      await fastify.register(workerDatabasePlugin, { connectionUri: config.database.worker, applicationName: 'publisher-worker' });
    }
    if (!fastify.hasDecorator('outboxRelay')) {
      await fastify.register(outboxRelayPlugin, { schema: 'publisher', sessionUrl: config.database.worker, topics: [postEvents.name] });
    }
    await fastify.register(
      inboxConsumer({
        name: 'publisher-analytics-events',
        topic: analyticsEvents,
        schema: 'publisher',
        emits: { topic: postEvents, source: '/postwire/publisher' },
        handlers: analyticsEventHandlers(),
        ...consumer,
      }),
    );
  },
  { name: 'publisher-analytics-metrics', dependencies: ['@postwire/service-kit'] },
);
