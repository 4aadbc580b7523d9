import { type CommonQueryMethods, sql } from '@postwire/db';
import { z } from 'zod';
import type { StreamTicket } from '../domain/stream-ticket.ts';

/**
 * Records a stream ticket as used: true the first time, false once any gateway instance has redeemed it.
 * Runs with the ticket's user's claims: RLS lets a user record only their own tickets.
 */
export async function redeemStreamTicket(connection: CommonQueryMethods, ticket: StreamTicket): Promise<boolean> {
  const inserted = await connection.query(sql.type(z.object({}))`
    INSERT INTO gateway.event_stream_tickets (id, organisation_id, user_id, expires_at)
    VALUES (${ticket.id}, ${ticket.organisationId}, ${ticket.userId}, ${sql.timestamp(new Date(ticket.expiresAt))})
    ON CONFLICT DO NOTHING
  `);
  return inserted.rowCount === 1;
}
