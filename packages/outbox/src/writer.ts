import { type EncodedEvent, type OutgoingEvent, type TopicContract, encodeEvent } from '@postwire/contracts';
import { type CommonQueryMethods, sql } from '@postwire/db';
import { z } from 'zod';

export type OutboxTarget = {
  /** The service's schema, which holds its `outbox` table. */
  readonly schema: string;
  /** CloudEvents source of the service, e.g. `/postwire/publisher`. */
  readonly source: string;
};

/**
 * Writes events to the service's outbox inside the caller's transaction, after checking them against
 * their contract: the events exist exactly when the state change commits.
 *
 * Before inserting, the transaction takes a lock per message key (held until it ends). Two
 * transactions writing events for one key are thus serialised, so the second one's rows get higher
 * positions and become visible after the first one's: the relay, which publishes in position order,
 * never sees a key's later event without its earlier ones. Keys are locked in sorted order so two
 * appends cannot deadlock each other.
 */
export async function appendToOutbox<Topic extends TopicContract>(
  connection: CommonQueryMethods,
  target: OutboxTarget,
  topic: Topic,
  events: readonly OutgoingEvent<Topic>[],
): Promise<EncodedEvent[]> {
  const encoded = events.map((event) => encodeEvent(topic, event, { source: target.source }));
  if (encoded.length === 0) return [];
  const keys = [...new Set(encoded.map((event) => event.message.key))].sort();
  // One statement: the aggregate over `locks` must take every key's lock before the join yields its
  // first row, so the identity values (positions) are drawn only once all locks are held.
  await connection.query(sql.type(z.object({}))`
    WITH locks AS (
      SELECT count(pg_advisory_xact_lock(hashtext(${`postwire:outbox:${target.schema}`}), hashtext(key))) AS held
        FROM unnest(${sql.array(keys, 'text')}::text[]) WITH ORDINALITY AS keys(key, ordinal)
    )
    INSERT INTO ${sql.identifier([target.schema, 'outbox'])} (event_id, topic, message_key, event_type, headers, payload)
    SELECT input.event_id, input.topic, input.message_key, input.event_type, input.headers, input.payload
      FROM locks
     CROSS JOIN ${sql.unnest(
       encoded.map((event) => [
         event.id,
         event.topic,
         event.message.key,
         event.type,
         JSON.stringify(event.message.headers),
         event.message.value,
       ]),
       ['uuid', 'text', 'text', 'text', 'jsonb', 'jsonb'],
     )} AS input(event_id, topic, message_key, event_type, headers, payload)
  `);
  return encoded;
}
