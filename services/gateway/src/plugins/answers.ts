import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type IncomingEvent, accountEvents, createEventReader } from '@postwire/contracts';
import { createEventConsumer, describeError } from '@postwire/kafka';

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
      /** Answers to `causationId` that arrived in the last few minutes (late ones included). */
      recentAnswers(causationId: string): AccountEvent[];
    };
  }
}

export type AnswersOptions = {
  /** Names this instance's consumer group (config GATEWAY_INSTANCE_ID). */
  readonly instanceId: string;
  /** How long answers are kept for a later look (a connect's status page). */
  readonly retainMs?: number;
  /** At most this many requests' answers are kept; the oldest go first. */
  readonly maxRetained?: number;
};

/**
 * Listens to account events so a request can tell its caller the outcome (DESIGN.md write path).
 * Every gateway instance must see every answer, so each has a group of its own starting at the
 * latest offsets; it only observes, so it never dead-letters what the owner's consumers handle.
 * Answers are also kept briefly, so one that arrives after the caller was answered (a request the
 * accounts service dead-letters after its retries) can still be shown. The group is named by the
 * instance (stable across restarts, so a crash leaves at most one behind) and deleted on a clean close.
 */
export const answersPlugin = fp(
  async (fastify: FastifyInstance, options: AnswersOptions) => {
    const retainMs = options.retainMs ?? 10 * 60 * 1000;
    const maxRetained = options.maxRetained ?? 10_000;
    const waiters = new Map<string, { events: AccountEvent[]; onEvent: () => void }>();
    const groupId = `gateway-answers-${options.instanceId}`;
    const recent = new Map<string, { events: AccountEvent[]; expiresAt: number }>();

    function retain(causationId: string, event: AccountEvent): void {
      const now = Date.now();
      for (const [id, entry] of recent) {
        if (entry.expiresAt > now && recent.size < maxRetained) break;
        recent.delete(id);
      }
      const entry = recent.get(causationId) ?? { events: [], expiresAt: now + retainMs };
      entry.events.push(event);
      recent.set(causationId, entry);
    }

    const consumer = createEventConsumer(fastify.kafka.client, {
      groupId,
      reader: createEventReader(accountEvents),
      logger: fastify.log,
      metrics: fastify.kafka.metrics,
      fromBeginning: false,
      deadLetter: false,
      maxAttempts: 1,
      handler: {
        async handle(event) {
          const causationId = event.metadata.causationId;
          if (!causationId) return;
          retain(causationId, event);
          const waiter = waiters.get(causationId);
          if (!waiter) return;
          waiter.events.push(event);
          waiter.onEvent();
        },
      },
    });
    await consumer.start();
    fastify.addHook('onClose', async () => {
      await consumer.stop();
      const admin = fastify.kafka.client.kafka.admin();
      try {
        await admin.connect();
        await admin.deleteGroups([fastify.kafka.client.group(groupId)]);
      } catch (error) {
        fastify.log.warn({ groupId, error: describeError(error) }, 'answers consumer group not deleted');
      } finally {
        await admin.disconnect();
      }
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
      recentAnswers(causationId) {
        const entry = recent.get(causationId);
        return entry && entry.expiresAt > Date.now() ? [...entry.events] : [];
      },
    });
  },
  { name: '@postwire/gateway-answers', dependencies: ['@postwire/kafka'] },
);
