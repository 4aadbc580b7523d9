import type { FastifyInstance } from 'fastify';
import { type IncomingEvent, type TopicContract, createEventReader } from '@postwire/contracts';
import { type EventConsumer, createEventConsumer, describeError } from '@postwire/kafka';

/**
 * Consumers with which one gateway instance watches a topic for itself (the owners' answers, live events):
 * a group of the instance's own from the latest offsets, one attempt per event, never a dead letter (the
 * owners' consumers deal with what does not read). The groups are named by the instance, so a crash leaves at
 * most one behind each, and deleted on a clean close.
 */
export function createInstanceObservers(fastify: FastifyInstance, what: string) {
  const consumers: EventConsumer[] = [];
  const groups: string[] = [];
  return {
    /** A consumer for `topic` (not started yet) and a promise that settles when it has joined its group. */
    observe<Topic extends TopicContract>(topic: Topic, groupId: string, handle: (event: IncomingEvent<Topic>) => void): { consumer: EventConsumer; joined: Promise<void> } {
      let onJoin: () => void = () => undefined;
      const joined = new Promise<void>((resolve) => (onJoin = resolve));
      const consumer = createEventConsumer(fastify.kafka.client, {
        groupId,
        reader: createEventReader(topic),
        logger: fastify.log,
        metrics: fastify.kafka.metrics,
        fromBeginning: false,
        deadLetter: false,
        maxAttempts: 1,
        onGroupJoin: () => onJoin(),
        handler: {
          async handle(event) {
            handle(event);
          },
        },
      });
      groups.push(groupId);
      consumers.push(consumer);
      return { consumer, joined };
    },
    /** Stops every consumer, then deletes their groups. */
    async close(): Promise<void> {
      await Promise.all(consumers.map((consumer) => consumer.stop()));
      const admin = fastify.kafka.client.kafka.admin();
      try {
        await admin.connect();
        await admin.deleteGroups(groups.map((groupId) => fastify.kafka.client.group(groupId)));
      } catch (error) {
        fastify.log.warn({ groups, error: describeError(error) }, `${what} consumer groups not deleted`);
      } finally {
        await admin.disconnect();
      }
    },
  };
}
