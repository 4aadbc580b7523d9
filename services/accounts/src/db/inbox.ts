import { type CommonQueryMethods, sql } from '@postwire/db';
import { z } from 'zod';

/**
 * A cheap look before the Graph calls of a redelivered event. Only a hint: the inbox insert in the applying
 * transaction is what really decides (a racing member may apply the event in between).
 */
export async function wasProcessed(connection: CommonQueryMethods, consumer: string, eventId: string): Promise<boolean> {
  return connection.exists(sql.type(z.object({ exists: z.boolean() }))`
    SELECT 1 FROM accounts.inbox WHERE consumer = ${consumer} AND event_id = ${eventId}
  `);
}
