import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type IncomingEvent, type TopicContract, accountEvents, postEvents } from '@postwire/contracts';
import { createInstanceObservers } from './instance-observers.ts';

type AccountEvent = IncomingEvent<typeof accountEvents>;
type PostEvent = IncomingEvent<typeof postEvents>;
/** The publisher's answer to one post request. */
export type PostAnswer = Extract<PostEvent, { type: 'post.accepted' | 'post.rejected' }>;

export type AwaitOptions = {
  readonly timeoutMs: number;
  /** After the first answer, wait this long for siblings (0: resolve with the first). */
  readonly settleMs: number;
};

declare module 'fastify' {
  interface FastifyInstance {
    answers: {
      /**
       * Events the accounts service caused with `causationId` (the gateway's own request event):
       * resolves after the first answer plus a short settle window for its siblings (answers for
       * several accounts travel on several partitions), or with what arrived when time runs out.
       */
      awaitAnswers(causationId: string, options: AwaitOptions): Promise<AccountEvent[]>;
      /** Answers to `causationId` that arrived in the last few minutes (late ones included). */
      recentAnswers(causationId: string): AccountEvent[];
      /**
       * The publisher's post.accepted / post.rejected whose `requestId` is `requestId` (the request
       * event's id), as awaitAnswers does for accounts. Call before producing the request.
       */
      awaitPostAnswers(requestId: string, options: AwaitOptions): Promise<PostAnswer[]>;
    };
  }
}

export type AnswersOptions = {
  /** Names this instance's consumer groups (config GATEWAY_INSTANCE_ID). */
  readonly instanceId: string;
  /** How long answers are kept for a later look (a connect's status page). */
  readonly retainMs?: number;
  /** At most this many requests' answers are kept; the oldest go first. */
  readonly maxRetained?: number;
  /** How long start-up waits for each consumer to join its group before going on without it. */
  readonly joinTimeoutMs?: number;
};

/** Requests waiting for answers, and answers kept for a later look; keyed by the request event's id. */
function createAnswerBook<Event>(options: { readonly retainMs: number; readonly maxRetained: number }) {
  const waiters = new Map<string, { events: Event[]; onEvent: () => void }>();
  const recent = new Map<string, { events: Event[]; expiresAt: number }>();

  function retain(requestId: string, event: Event): void {
    const now = Date.now();
    for (const [id, entry] of recent) {
      if (entry.expiresAt > now && recent.size < options.maxRetained) break;
      recent.delete(id);
    }
    const entry = recent.get(requestId) ?? { events: [], expiresAt: now + options.retainMs };
    entry.events.push(event);
    recent.set(requestId, entry);
  }

  return {
    deliver(requestId: string, event: Event, keep: boolean): void {
      if (keep) retain(requestId, event);
      const waiter = waiters.get(requestId);
      if (!waiter) return;
      waiter.events.push(event);
      waiter.onEvent();
    },
    await(requestId: string, { timeoutMs, settleMs }: AwaitOptions): Promise<Event[]> {
      return new Promise<Event[]>((resolve) => {
        let settle: NodeJS.Timeout | undefined;
        const finish = () => {
          clearTimeout(deadline);
          clearTimeout(settle);
          const entry = waiters.get(requestId);
          waiters.delete(requestId);
          resolve(entry?.events ?? []);
        };
        const deadline = setTimeout(finish, timeoutMs);
        waiters.set(requestId, {
          events: [],
          onEvent: () => {
            if (settleMs <= 0) return finish();
            clearTimeout(settle);
            settle = setTimeout(finish, settleMs);
          },
        });
      });
    },
    recent(requestId: string): Event[] {
      const entry = recent.get(requestId);
      return entry && entry.expiresAt > Date.now() ? [...entry.events] : [];
    },
  };
}

/**
 * Listens to the owners' answers so a request can tell its caller the outcome (DESIGN.md write path):
 * account events (caused by the gateway's account requests) and post events (post.accepted /
 * post.rejected, naming the request they answer). Every gateway instance must see every answer, so each
 * has groups of its own, one per topic, starting at the latest offsets; it only observes, so it never
 * dead-letters what the owners' consumers handle. Account answers are also kept briefly, so one that
 * arrives after the caller was answered (a request the accounts service dead-letters after its
 * retries) can still be shown; a post answered late is simply read at its Location. The groups are
 * named by the instance (stable across restarts, so a crash leaves at most one behind each) and
 * deleted on a clean close.
 */
export const answersPlugin = fp(
  async (fastify: FastifyInstance, options: AnswersOptions) => {
    const book = { retainMs: options.retainMs ?? 10 * 60 * 1000, maxRetained: options.maxRetained ?? 10_000 };
    const accountAnswers = createAnswerBook<AccountEvent>(book);
    const postAnswers = createAnswerBook<PostAnswer>(book);
    const joinTimeoutMs = options.joinTimeoutMs ?? 30_000;
    const observers = createInstanceObservers(fastify, 'answers');

    /**
     * A group of a fresh name starts at the latest offsets once it has joined: an answer written before
     * that would be missed, so start-up waits for the join (a request is 202 at worst if it does not come).
     */
    async function observe<Topic extends TopicContract>(
      topic: Topic,
      groupId: string,
      handle: (event: IncomingEvent<Topic>) => void,
    ): Promise<void> {
      const { consumer, joined } = observers.observe(topic, groupId, handle);
      await consumer.start();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), joinTimeoutMs)));
      if (await Promise.race([joined.then(() => false), timedOut])) fastify.log.warn({ groupId }, 'answers consumer has not joined its group yet');
      clearTimeout(timer);
    }

    fastify.addHook('onClose', () => observers.close());

    await Promise.all([
      observe(accountEvents, `gateway-answers-${options.instanceId}`, (event) => {
        const causationId = event.metadata.causationId;
        if (causationId) accountAnswers.deliver(causationId, event, true);
      }),
      observe(postEvents, `gateway-post-answers-${options.instanceId}`, (event) => {
        // Only the answers to requests; what happens to a post later is read from the publisher.
        if (event.type === 'post.accepted' || event.type === 'post.rejected') postAnswers.deliver(event.data.requestId, event, false);
      }),
    ]);

    fastify.decorate('answers', {
      awaitAnswers: (causationId, awaitOptions) => accountAnswers.await(causationId, awaitOptions),
      recentAnswers: (causationId) => accountAnswers.recent(causationId),
      awaitPostAnswers: (requestId, awaitOptions) => postAnswers.await(requestId, awaitOptions),
    });
  },
  { name: '@postwire/gateway-answers', dependencies: ['@postwire/kafka'] },
);
