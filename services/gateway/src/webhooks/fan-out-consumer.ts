import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type TopicContract, accountEvents, createEventReader, postEvents } from '@postwire/contracts';
import { type ConsumedEvent, type EventConsumer, createEventConsumer, describeError } from '@postwire/kafka';
import { createDeliveryQueries } from '../db/delivery-queries.ts';
import { publicPayload } from '../domain/live-events.ts';

declare module 'fastify' {
  interface FastifyInstance {
    webhookFanOut: {
      /** Settles once both consumers have joined their groups. */
      readonly joined: Promise<void>;
    };
  }
}

/** Names the inbox rows of this consumer. */
export const FAN_OUT_CONSUMER = 'gateway-webhooks';

/** The body every endpoint receives for an event (Standard Webhooks' recommended shape). */
export function webhookPayload(event: ConsumedEvent<TopicContract>): Record<string, unknown> {
  return { type: event.type, timestamp: event.metadata.time, data: publicPayload(event.data) };
}

/**
 * Turns the organisation's post and account events into webhook deliveries. The gateway instances share
 * one group per topic, so each event is fanned out once; the inbox (same transaction) drops redeliveries.
 * A whole fetched batch goes in one transaction, which also claims what this instance's delivery worker
 * has room for, so the first attempt needs no claim of its own.
 */
export const fanOutConsumerPlugin = fp(
  async (fastify: FastifyInstance, options: { readonly consumerGroup: string; readonly leaseMs: number }) => {
    const consumers: EventConsumer[] = [];
    const joins: Promise<void>[] = [];

    function consume<Topic extends TopicContract>(topic: Topic, groupId: string): void {
      const apply = async (events: readonly ConsumedEvent<Topic>[]) => {
        const { queued, claimed } = await fastify.workerDb.transaction((connection) =>
          createDeliveryQueries(connection).fanOut(
            FAN_OUT_CONSUMER,
            events.map((event) => ({
              eventId: event.metadata.id,
              organisationId: event.metadata.organisationId,
              eventType: event.type,
              eventTime: event.metadata.time,
              payload: webhookPayload(event),
              topic: event.position.topic,
              partition: event.position.partition,
              offset: event.position.offset,
            })),
            { limit: fastify.webhookDeliveries.room(), leaseMs: options.leaseMs },
          ),
        );
        fastify.webhookDeliveries.accept(claimed);
        // Left unclaimed (no room when the transaction began): the worker claims ahead as its buffer drains,
        // but it may have drained before this commit made them visible; then only its poll would find them.
        if (queued > claimed.length) fastify.webhookDeliveries.wake();
      };
      let joined: () => void = () => undefined;
      joins.push(new Promise<void>((resolve) => (joined = resolve)));
      consumers.push(
        createEventConsumer(fastify.kafka.client, {
          groupId,
          reader: createEventReader(topic),
          logger: fastify.log,
          metrics: fastify.kafka.metrics,
          // The owners dead-letter what does not read; a webhook is not worth holding their topic for.
          deadLetter: false,
          // A partition the shared group has no offset for yet (a new group, or one that joins while its
          // members rebalance) is read from its beginning: starting at the latest offset would skip the
          // events produced meanwhile. Old events queue nothing (endpoints get only what happened after
          // they were registered); the inbox remembers them for a week.
          fromBeginning: true,
          // Partitions fan out side by side: one account's events stay in order, the rest need not wait.
          partitionsConsumedConcurrently: 4,
          onGroupJoin: () => joined(),
          handler: { handle: (event) => apply([event]), handleBatch: apply },
        }),
      );
    }

    consume(postEvents, `${options.consumerGroup}-posts`);
    consume(accountEvents, `${options.consumerGroup}-accounts`);
    const joined = Promise.all(joins).then(() => undefined);
    let hasJoined = false;
    void joined.then(() => (hasJoined = true));
    fastify.readiness.register('webhook-fan-out', async () => {
      if (!hasJoined) throw new Error('webhook fan-out consumers have not joined their groups yet');
    });
    fastify.decorate('webhookFanOut', { joined });
    // Started, not awaited: joining a group can take long on a busy cluster, and /readyz says when it has.
    fastify.addHook('onReady', async () => {
      for (const consumer of consumers) {
        consumer.start().catch((error: unknown) => fastify.log.error({ error: describeError(error) }, '%s consumer did not start', 'webhook fan-out'));
      }
    });
    fastify.addHook('onClose', async () => {
      await Promise.all(consumers.map((consumer) => consumer.stop()));
    });
  },
  { name: '@postwire/gateway-webhook-fan-out', dependencies: ['@postwire/worker-database', '@postwire/kafka', '@postwire/gateway-webhook-delivery'] },
);
