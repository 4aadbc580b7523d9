import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { type LegacyTopic, type TopicContract, createEventReader } from '@postwire/contracts';
import type { BackoffOptions } from '@postwire/core';
import { type EventConsumer, createEventConsumer } from '@postwire/kafka';
import { type DeadLetterHandlers, type InboxHandlers, createInboxHandler } from '@postwire/outbox';

declare module 'fastify' {
  interface FastifyInstance {
    /** The service's consumers by name (their consumer group), e.g. for lag or a test's wait for assignment. */
    consumers: ReadonlyMap<string, EventConsumer>;
  }
}

export type InboxConsumerOptions<In extends TopicContract, Out extends TopicContract> = {
  /** The consumer group and the inbox's consumer name, e.g. `accounts`. */
  readonly name: string;
  readonly topic: In;
  readonly legacy?: readonly LegacyTopic<In>[];
  /** The service's schema (its inbox and outbox) and what the handlers emit. */
  readonly schema: string;
  readonly emits: { readonly topic: Out; readonly source: string };
  /** Or built from the app, when they need its decorators (the Graph client, ...). */
  readonly handlers: InboxHandlers<In, Out> | ((app: FastifyInstance) => InboxHandlers<In, Out>);
  readonly onDeadLetter?: DeadLetterHandlers<In, Out>;
  /** Overrides for tests sharing a broker: a group of their own, read from the end, told when partitions arrive. */
  readonly groupId?: string;
  /** A new group reads the topic from its beginning (default), so no request is skipped; the inbox drops what was applied. */
  readonly fromBeginning?: boolean;
  readonly onGroupJoin?: () => void;
  readonly maxAttempts?: number;
  readonly backoff?: BackoffOptions;
};

/**
 * A consumer of one topic whose events are applied through the service's inbox on the worker pool (see
 * createInboxHandler). It starts once the app is ready; on close (registered after the relay, it closes
 * before it) it stops fetching and lets the event in hand finish and commit, so the relay then publishes
 * what that event wrote.
 */
export function inboxConsumer<In extends TopicContract, Out extends TopicContract>(options: InboxConsumerOptions<In, Out>): FastifyPluginAsync {
  return fp(
    async (fastify: FastifyInstance) => {
      const handler = createInboxHandler({
        pool: fastify.workerDb,
        schema: options.schema,
        consumer: options.name,
        emits: options.emits,
        handlers: typeof options.handlers === 'function' ? options.handlers(fastify) : options.handlers,
        ...(options.onDeadLetter === undefined ? {} : { onDeadLetter: options.onDeadLetter }),
        logger: fastify.log,
      });
      const consumer = createEventConsumer(fastify.kafka.client, {
        groupId: options.groupId ?? options.name,
        reader: createEventReader(options.topic, options.legacy === undefined ? {} : { legacy: options.legacy }),
        handler,
        onDeadLetter: (event, failure) => handler.onDeadLetter(event, failure),
        logger: fastify.log,
        metrics: fastify.kafka.metrics,
        fromBeginning: options.fromBeginning ?? true,
        ...(options.onGroupJoin === undefined ? {} : { onGroupJoin: options.onGroupJoin }),
        ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
        ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      });
      if (!fastify.hasDecorator('consumers')) fastify.decorate('consumers', new Map<string, EventConsumer>());
      (fastify.consumers as Map<string, EventConsumer>).set(options.name, consumer);
      fastify.addHook('onReady', async () => consumer.start());
      fastify.addHook('onClose', async () => consumer.stop());
    },
    { name: `@postwire/consumer:${options.name}`, dependencies: ['@postwire/worker-database', '@postwire/kafka'] },
  );
}
