import type { TopicContract } from '@postwire/contracts';
import { type DatabasePool, type DatabaseTransactionConnection, sql } from '@postwire/db';
import type { ConsumedEvent, EventHandler, HandleOutcome } from '@postwire/kafka';
import { z } from 'zod';

export type InboxOptions = {
  /** The service's schema, which holds its `inbox` table. */
  readonly schema: string;
  /** Names this handler in the inbox; two handlers of one service apply the same event independently. */
  readonly consumer: string;
};

/** Applies one event's effects using the transaction it is given, and nothing outside it. */
export type TransactionalHandler<Topic extends TopicContract> = (
  event: ConsumedEvent<Topic>,
  connection: DatabaseTransactionConnection,
) => Promise<void>;

const Inserted = z.object({ event_id: z.string() });

/**
 * Makes a handler idempotent: the event id goes into the inbox in the same transaction as the
 * handler's effects. A redelivered event (relay retry, offset not yet committed, rebalance) finds its
 * id there and is acknowledged without being applied again. Two members racing on one event queue on
 * the inbox's primary key; the second sees the first's row once it commits and skips.
 */
export function createIdempotentHandler<Topic extends TopicContract>(
  pool: DatabasePool,
  options: InboxOptions,
  apply: TransactionalHandler<Topic>,
): EventHandler<Topic> {
  const inbox = sql.identifier([options.schema, 'inbox']);

  async function record(
    connection: DatabaseTransactionConnection,
    events: readonly ConsumedEvent<Topic>[],
  ): Promise<Set<string>> {
    const rows = await connection.any(sql.type(Inserted)`
      INSERT INTO ${inbox} (consumer, event_id, event_type, topic, kafka_partition, kafka_offset)
      SELECT ${options.consumer}, event_id, event_type, topic, kafka_partition, kafka_offset
        FROM ${sql.unnest(
          events.map((event) => [
            event.metadata.id,
            event.type,
            event.position.topic,
            event.position.partition,
            event.position.offset,
          ]),
          ['uuid', 'text', 'text', 'int4', 'int8'],
        )} AS input(event_id, event_type, topic, kafka_partition, kafka_offset)
      ON CONFLICT (consumer, event_id) DO NOTHING
      RETURNING event_id
    `);
    return new Set(rows.map((row) => row.event_id));
  }

  return {
    async handle(event) {
      return pool.transaction(async (connection): Promise<HandleOutcome> => {
        const fresh = await record(connection, [event]);
        if (!fresh.has(event.metadata.id)) return 'duplicate';
        await apply(event, connection);
        return 'processed';
      });
    },
    async handleBatch(events) {
      return pool.transaction(async (connection) => {
        const fresh = await record(connection, events);
        const outcomes: HandleOutcome[] = [];
        for (const event of events) {
          // An id twice in one batch (a relay retry right behind the original) is applied once.
          if (fresh.delete(event.metadata.id)) {
            await apply(event, connection);
            outcomes.push('processed');
          } else {
            outcomes.push('duplicate');
          }
        }
        return outcomes;
      });
    },
  };
}
