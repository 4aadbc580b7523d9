import type { EventOf, EventOfType, EventTypeOf, OutgoingEvent, TopicContract } from '@postwire/contracts';
import { type DatabasePool, type DatabaseTransactionConnection, sql } from '@postwire/db';
import { type ConsumedEvent, type DeadLetterFailure, type EventHandler, NonRetryableError, type ServiceLogger } from '@postwire/kafka';
import { z } from 'zod';
import { type OutboxTarget, appendToOutbox } from './writer.ts';

/** One member of a topic's union as the consumer hands it over. */
export type Consumed<Topic extends TopicContract, Type extends EventTypeOf<Topic>> = ConsumedEvent<Topic> & EventOfType<Topic, Type>;

/** Appends events to the outbox in the handler's transaction; their envelope comes from the event being handled. */
export type Emit<Out extends TopicContract> = (events: readonly EventOf<Out>[]) => Promise<void>;

/** The part of a handler that changes state: runs in one transaction with the inbox row and the emitted events. */
export type InboxStep<Out extends TopicContract> = (connection: DatabaseTransactionConnection, emit: Emit<Out>) => Promise<void>;

export type InboxContext<Out extends TopicContract> = {
  /**
   * Applies the event once: records its id in the inbox and runs `step` in that transaction. Whatever must be
   * asked outside (Meta) comes before it, outside any transaction. Not called: the event is recorded as applied
   * with no effect.
   */
  apply(step: InboxStep<Out>): Promise<void>;
  readonly logger: ServiceLogger;
};

/** One function per event type of the topic: a type without its handler does not compile. */
export type InboxHandlers<In extends TopicContract, Out extends TopicContract> = {
  readonly [Type in EventTypeOf<In>]: (event: Consumed<In, Type>, context: InboxContext<Out>) => Promise<void>;
};

/** What to do when an event of a type is dead-lettered: typically answer the requester with a failure event. */
export type DeadLetterHandlers<In extends TopicContract, Out extends TopicContract> = {
  readonly [Type in EventTypeOf<In>]?: (
    event: Consumed<In, Type>,
    failure: DeadLetterFailure,
    context: { apply(step: InboxStep<Out>): Promise<void>; readonly logger: ServiceLogger },
  ) => Promise<void>;
};

/** `applied`: the handler ran and its transaction committed; `duplicate`: the inbox already had the id. */
export type InboxOutcome = 'applied' | 'duplicate';

export type InboxHandlerOptions<In extends TopicContract, Out extends TopicContract> = {
  /** The worker role's pool (BYPASSRLS): the organisation comes from each event's envelope. */
  readonly pool: DatabasePool;
  /** The schema holding the `inbox` (and `outbox`) tables. */
  readonly schema: string;
  /** Names this handler in the inbox; two handlers of one service apply the same event independently. */
  readonly consumer: string;
  /** Where emitted events go: the topic and the service's CloudEvents source. */
  readonly emits: { readonly topic: Out; readonly source: string };
  readonly handlers: InboxHandlers<In, Out>;
  readonly onDeadLetter?: DeadLetterHandlers<In, Out>;
  readonly logger: ServiceLogger;
};

export type InboxHandler<In extends TopicContract> = EventHandler<In> & {
  handle(event: ConsumedEvent<In>): Promise<InboxOutcome>;
  onDeadLetter(event: ConsumedEvent<In>, failure: DeadLetterFailure): Promise<void>;
};

/** Postgres's foreign_key_violation, however deep the driver wrapped it. */
function isForeignKeyViolation(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    if ('code' in current && current.code === '23503') return true;
  }
  return false;
}

/**
 * The consumer side of a service's event handling: per event, a look into the inbox (a redelivered event does
 * no outside work), the handler of its type, and one transaction that records the id, applies the effects and
 * appends the resulting events with the organisation, correlation, causation (the handled event's id), actor
 * and trace context of the handled event.
 */
export function createInboxHandler<In extends TopicContract, Out extends TopicContract>(options: InboxHandlerOptions<In, Out>): InboxHandler<In> {
  const { pool, schema, consumer, emits } = options;
  const logger = options.logger.child({ component: consumer });
  const inbox = sql.identifier([schema, 'inbox']);
  const target: OutboxTarget = { schema, source: emits.source };

  const emitFor =
    (event: ConsumedEvent<In>, connection: DatabaseTransactionConnection): Emit<Out> =>
    async (events) => {
      const { metadata } = event;
      const outgoing = events.map(
        (emitted): OutgoingEvent<Out> => ({
          ...emitted,
          metadata: {
            organisationId: metadata.organisationId,
            correlationId: metadata.correlationId,
            causationId: metadata.id,
            ...(metadata.actorId === undefined ? {} : { actorId: metadata.actorId }),
            ...(metadata.traceparent === undefined ? {} : { traceparent: metadata.traceparent }),
            ...(metadata.tracestate === undefined ? {} : { tracestate: metadata.tracestate }),
          },
        }),
      );
      await appendToOutbox(connection, target, emits.topic, outgoing);
    };

  /** Every line about an event carries its id, correlation and trace, like a request's lines do. */
  const eventLogger = ({ metadata }: ConsumedEvent<In>) =>
    logger.child({ eventId: metadata.id, correlationId: metadata.correlationId, ...(metadata.traceparent ? { traceId: metadata.traceparent.split('-')[1] } : {}) });

  async function seen(eventId: string): Promise<boolean> {
    return pool.exists(sql.type(z.object({ exists: z.boolean() }))`SELECT 1 FROM ${inbox} WHERE consumer = ${consumer} AND event_id = ${eventId}`);
  }

  async function applyOnce(event: ConsumedEvent<In>, step: InboxStep<Out>): Promise<InboxOutcome> {
    try {
      return await pool.transaction(async (connection) => {
        const recorded = await connection.maybeOne(sql.type(z.object({ event_id: z.string() }))`
          INSERT INTO ${inbox} (consumer, event_id, event_type, topic, kafka_partition, kafka_offset)
          VALUES (${consumer}, ${event.metadata.id}, ${event.type}, ${event.position.topic}, ${event.position.partition}, ${event.position.offset})
          ON CONFLICT (consumer, event_id) DO NOTHING
          RETURNING event_id
        `);
        // A racing member applied it between our look and this insert.
        if (recorded === null) return 'duplicate';
        await step(connection, emitFor(event, connection));
        return 'applied';
      });
    } catch (error) {
      // A row the event refers to (its organisation) is not there: no retry will make it appear.
      if (isForeignKeyViolation(error)) throw new NonRetryableError(`a row event ${event.metadata.id} refers to does not exist`, { cause: error });
      throw error;
    }
  }

  // The union member is chosen by `type`, so the handler of that type receives its own member.
  type AnyHandler = (event: ConsumedEvent<In>, context: InboxContext<Out>) => Promise<void>;
  const handlerOf = (type: EventTypeOf<In>) => (options.handlers as unknown as Record<string, AnyHandler>)[type];
  type AnyDeadLetterHandler = (event: ConsumedEvent<In>, failure: DeadLetterFailure, context: { apply(step: InboxStep<Out>): Promise<void>; readonly logger: ServiceLogger }) => Promise<void>;
  const deadLetterHandlerOf = (type: EventTypeOf<In>) => (options.onDeadLetter as Record<string, AnyDeadLetterHandler | undefined> | undefined)?.[type];

  return {
    async handle(event) {
      if (await seen(event.metadata.id)) return 'duplicate';
      const handler = handlerOf(event.type);
      if (!handler) throw new NonRetryableError(`no handler for ${event.type}`);
      let outcome: InboxOutcome | undefined;
      await handler(event, {
        logger: eventLogger(event),
        async apply(step) {
          if (outcome !== undefined) throw new Error(`the handler of ${event.type} applied its event twice`);
          outcome = await applyOnce(event, step);
        },
      });
      return outcome ?? (await applyOnce(event, async () => undefined));
    },
    async onDeadLetter(event, failure) {
      const handler = deadLetterHandlerOf(event.type);
      if (!handler) return;
      // Not recorded in the inbox: a dead letter replayed after a fix must still be applied.
      await handler(event, failure, {
        logger: eventLogger(event),
        apply: (step) => pool.transaction(async (connection) => step(connection, emitFor(event, connection))),
      });
    },
  };
}
