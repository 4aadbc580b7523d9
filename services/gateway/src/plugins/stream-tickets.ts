import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Caller } from '@postwire/auth';
import type { TokenCipher } from '@postwire/crypto';
import { withCallerClaims } from '@postwire/db';
import { ProblemError } from '@postwire/service-kit';
import { redeemStreamTicket } from '../db/stream-tickets.ts';
import { type StreamTicket, issueStreamTicket, openStreamTicket } from '../domain/stream-ticket.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A `ticket` query parameter (a stream ticket) may stand in for the bearer token: GET /v1/events only. */
    readonly streamTicket?: boolean;
  }
  interface FastifyRequest {
    /** The stream ticket that authenticated this request, to be redeemed once its input checked out. */
    streamTicket: StreamTicket | null;
  }
  interface FastifyInstance {
    /** onRequest hook: the bearer token, or on a route that takes one, a stream ticket; sets `request.caller`. */
    authenticateCaller: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    streamTickets: {
      /** A sealed ticket for the caller's stream, with what it says. */
      issue(caller: Caller, types: string | null): { readonly ticket: StreamTicket; readonly sealed: string };
      /** Records the request's ticket as used (on whichever instance): a second stream with it is a 401. */
      redeem(request: FastifyRequest, reply: FastifyReply): Promise<void>;
    };
  }
}

export type StreamTicketOptions = { readonly cipher: TokenCipher; readonly realm?: string; readonly now?: () => number };

/**
 * Stream tickets (domain/stream-ticket.ts) as a way in: opened and checked in onRequest like a bearer
 * token (the user must still belong to the organisation), redeemed by the route once the request's input is
 * valid, so a refused request does not use up its ticket.
 */
export const streamTicketsPlugin = fp(
  async (fastify: FastifyInstance, options: StreamTicketOptions) => {
    const now = options.now ?? Date.now;
    const challenge = `Bearer realm="${options.realm ?? 'postwire'}"`;
    const refuse = (reply: FastifyReply, detail: string) => {
      reply.header('www-authenticate', `${challenge}, error="invalid_token", error_description="${detail}"`);
      return new ProblemError(401, 'unauthorized', 'Unauthorized', `${detail}: ask POST /v1/events/tickets for a new one`);
    };
    fastify.decorateRequest('streamTicket', null);

    fastify.decorate('authenticateCaller', async (request: FastifyRequest, reply: FastifyReply) => {
      const sealed = request.routeOptions.config.streamTicket === true ? (request.query as Record<string, unknown> | undefined)?.ticket : undefined;
      if (sealed === undefined) return fastify.authenticate(request, reply);
      // RFC 6750 §2: one way of sending credentials per request.
      if (request.headers.authorization !== undefined) {
        throw new ProblemError(400, 'ambiguous-credentials', 'Bad Request', 'send either a Bearer token or a ticket, not both');
      }
      if (typeof sealed !== 'string') throw refuse(reply, 'the stream ticket is not valid');
      const opened = openStreamTicket(options.cipher, sealed, now());
      if (!opened.ok) throw refuse(reply, opened.reason === 'expired' ? 'the stream ticket has expired' : 'the stream ticket is not valid');
      const { ticket } = opened;
      await fastify.requireMembership(request, ticket.userId, ticket.organisationId);
      // A ticket caller's requests are never forwarded: there is no bearer token to pass on.
      request.caller = { userId: ticket.userId, organisationId: ticket.organisationId, role: undefined, token: '' };
      request.streamTicket = ticket;
      request.log = request.log.child({ userId: ticket.userId, organisationId: ticket.organisationId });
    });

    fastify.decorate('streamTickets', {
      issue: (caller: Caller, types: string | null) => issueStreamTicket(options.cipher, { userId: caller.userId, organisationId: caller.organisationId, types, now: now() }),
      async redeem(request: FastifyRequest, reply: FastifyReply) {
        const ticket = request.streamTicket;
        if (!ticket) return;
        const redeemed = await withCallerClaims(fastify.db, { sub: ticket.userId, organisationId: ticket.organisationId }, (connection) =>
          redeemStreamTicket(connection, ticket),
        );
        if (!redeemed) throw refuse(reply, 'the stream ticket was used already');
      },
    });
  },
  { name: '@postwire/gateway-stream-tickets', dependencies: ['@postwire/auth', '@postwire/database', '@postwire/problem'] },
);
