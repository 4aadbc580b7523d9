import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type IncomingEvent, accountEvents, createEventReader } from '@postwire/contracts';
import { createEventConsumer } from '@postwire/kafka';

type AccountEvent = IncomingEvent<typeof accountEvents>;

declare module 'fastify' {
  interface FastifyInstance {
    answers: {
      /**
       * Events the accounts service caused with `causationId` (the gateway's own request event):
       * resolves after the first answer plus a short settle window for its siblings (answers for
       * several accounts travel on several partitions), or with what arrived when time runs out.
       */
      awaitAnswers(causationId: string, options: { readonly timeoutMs: number; readonly settleMs: number }): Promise<AccountEvent[]>;
    };
  }
}

/**
 * Listens to account events so a request can tell its caller the outcome (DESIGN.md write path).
 * Every gateway instance must see every answer, so each has a group of its own starting at the
 * latest offsets; it only observes, so it never dead-letters what the owner's consumers handle.
 */
export const answersPlugin = fp(
  async (fastify: FastifyInstance) => {
    const waiters = new Map<string, { events: AccountEvent[]; onEvent: () => void }>();
    const consumer = createEventConsumer(fastify.kafka.client, {
      groupId: `gateway-answers-${randomUUID()}`,
      reader: createEventReader(accountEvents),
      logger: fastify.log,
      fromBeginning: false,
      deadLetter: false,
      maxAttempts: 1,
      handler: {
        async handle(event) {
          const waiter = event.metadata.causationId ? waiters.get(event.metadata.causationId) : undefined;
          if (!waiter) return;
          waiter.events.push(event);
          waiter.onEvent();
        },
      },
    });
    await consumer.start();
    fastify.addHook('onClose', async () => {
      await consumer.stop();
    });

    fastify.decorate('answers', {
      awaitAnswers(causationId, { timeoutMs, settleMs }) {
        return new Promise<AccountEvent[]>((resolve) => {
          let settle: NodeJS.Timeout | undefined;
          const finish = () => {
            clearTimeout(deadline);
            clearTimeout(settle);
            const entry = waiters.get(causationId);
            waiters.delete(causationId);
            resolve(entry?.events ?? []);
          };
          const deadline = setTimeout(finish, timeoutMs);
          waiters.set(causationId, {
            events: [],
            onEvent: () => {
              clearTimeout(settle);
              settle = setTimeout(finish, settleMs);
            },
          });
        });
      },
    });
  },
  { name: '@postwire/gateway-answers', dependencies: ['@postwire/kafka'] },
);
