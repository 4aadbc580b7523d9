import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Caller } from '@postwire/auth';
import type { TokenCipher } from '@postwire/crypto';
import { withCallerClaims } from '@postwire/db';
import { ProblemError } from '@postwire/service-kit';
import { redeemStreamTicket } from '../db/stream-tickets.ts';
import { type ConnectTicket, openConnectTicket } from '../domain/connect-ticket.ts';
import { PROVIDERS } from '../domain/connect-session.ts';
import { type StreamTicket, issueStreamTicket, openStreamTicket } from '../domain/stream-ticket.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * A `ticket` query parameter may stand in for the bearer token: a stream ticket on GET /v1/events, a
     * connect ticket (for the route's provider) on GET /v1/connect/{provider}/start.
     */
    readonly ticket?: 'stream' | 'connect';
  }
  interface FastifyRequest {
    /** The stream ticket that authenticated this request, to be redeemed once its input checked out. */
    streamTicket: StreamTicket | null;
    /** The connect ticket that authenticated this request: the flow it starts. */
    connectTicket: ConnectTicket | null;
  }
  interface FastifyInstance {
    /** onRequest hook: the bearer token, or on a route that takes one, a ticket; sets `request.caller`. */
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
 * Tickets as a way in, on the routes that take one: stream tickets (domain/stream-ticket.ts) and connect
 * tickets (domain/connect-ticket.ts), opened and checked in onRequest like a bearer token (the user must
 * still belong to the organisation). A stream ticket is redeemed by the route once the request's input is
 * valid, so a refused request does not use up its ticket; a connect ticket lives two minutes and is not redeemed.
 */
export const streamTicketsPlugin = fp(
  async (fastify: FastifyInstance, options: StreamTicketOptions) => {
    const now = options.now ?? Date.now;
    const challenge = `Bearer realm="${options.realm ?? 'postwire'}"`;
    const refuse = (reply: FastifyReply, detail: string, renewal: string) => {
      reply.header('www-authenticate', `${challenge}, error="invalid_token", error_description="${detail}"`);
      return new ProblemError(401, 'unauthorized', 'Unauthorized', `${detail}: ask ${renewal} for a new one`);
    };
    const STREAM_RENEWAL = 'POST /v1/events/tickets';
    fastify.decorateRequest('streamTicket', null);
    fastify.decorateRequest('connectTicket', null);

    /** The ticket of a route's kind, opened: who it is for, kept on the request for the route. */
    const openTicket = (request: FastifyRequest, kind: 'stream' | 'connect', sealed: string) => {
      if (kind === 'stream') {
        const opened = openStreamTicket(options.cipher, sealed, now());
        if (opened.ok) request.streamTicket = opened.ticket;
        return { opened: opened.ok ? { ok: true as const, who: opened.ticket } : opened, name: 'the stream ticket', renewal: STREAM_RENEWAL };
      }
      const provider = PROVIDERS.find((name) => name === (request.params as { provider?: string } | undefined)?.provider);
      const renewal = `POST /v1/connect/${provider ?? '{provider}'}/tickets`;
      if (!provider) return { opened: { ok: false as const, reason: 'invalid' as const }, name: 'the connect ticket', renewal };
      const opened = openConnectTicket(options.cipher, sealed, { provider, now: now() });
      if (opened.ok) request.connectTicket = opened.ticket;
      return { opened: opened.ok ? { ok: true as const, who: opened.ticket } : opened, name: 'the connect ticket', renewal };
    };

    fastify.decorate('authenticateCaller', async (request: FastifyRequest, reply: FastifyReply) => {
      const kind = request.routeOptions.config.ticket;
      const sealed = kind === undefined ? undefined : (request.query as Record<string, unknown> | undefined)?.ticket;
      if (kind === undefined || sealed === undefined) return fastify.authenticate(request, reply);
      // RFC 6750 §2: one way of sending credentials per request.
      if (request.headers.authorization !== undefined) {
        throw new ProblemError(400, 'ambiguous-credentials', 'Bad Request', 'send either a Bearer token or a ticket, not both');
      }
      // A repeated `ticket` parameter (an array) is no ticket: opening '' refuses it as not valid.
      const { opened, name, renewal } = openTicket(request, kind, typeof sealed === 'string' ? sealed : '');
      if (!opened.ok) throw refuse(reply, opened.reason === 'expired' ? `${name} has expired` : `${name} is not valid`, renewal);
      const { userId, organisationId } = opened.who;
      await fastify.requireMembership(request, userId, organisationId);
      // A ticket caller's requests are never forwarded: there is no bearer token to pass on.
      request.caller = { userId, organisationId, role: undefined, token: '' };
      request.log = request.log.child({ userId, organisationId });
    });

    fastify.decorate('streamTickets', {
      issue: (caller: Caller, types: string | null) => issueStreamTicket(options.cipher, { userId: caller.userId, organisationId: caller.organisationId, types, now: now() }),
      async redeem(request: FastifyRequest, reply: FastifyReply) {
        const ticket = request.streamTicket;
        if (!ticket) return;
        const redeemed = await withCallerClaims(fastify.db, { sub: ticket.userId, organisationId: ticket.organisationId }, (connection) =>
          redeemStreamTicket(connection, ticket),
        );
        if (!redeemed) throw refuse(reply, 'the stream ticket was used already', STREAM_RENEWAL);
      },
    });
  },
  { name: '@postwire/gateway-stream-tickets', dependencies: ['@postwire/auth', '@postwire/database', '@postwire/problem'] },
);
