import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '@postwire/auth';
import { ProblemError } from '@postwire/service-kit';
import { bearerExpiry, canonicalTypes, formatSseComment, formatSseMessage, matchesFilter, parseTypeFilter, streamDeadline, typeFilterEntries } from '../domain/live-events.ts';
import { STREAM_TICKET_TTL_MS } from '../domain/stream-ticket.ts';
import type { LiveEvent } from '../events/event-hub.ts';
import { jsonResponse, problemResponse } from './problem-docs.ts';


export type EventRouteOptions = {
  /** Config GATEWAY_EVENTS_HEARTBEAT_MS. */
  readonly heartbeatMs: number;
  /** Config GATEWAY_EVENTS_MAX_STREAM_MS: a stream's longest life. */
  readonly maxStreamMs: number;
  /** Config GATEWAY_EVENTS_REPLAY_SIZE / _MS, for the documentation. */
  readonly replaySize: number;
  readonly replayMs: number;
};

/** Told (once, first) to a stream whose Last-Event-ID is no longer held: events may have been missed. */
export const REPLAY_UNAVAILABLE = 'replay.unavailable';

/** What one stream may have waiting for a slow client before it is closed. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** What EventSource clients wait before reconnecting. */
const RETRY_MS = 3_000;

const Types = z
  .string()
  .min(1)
  .max(2000)
  .describe('Comma-separated event types (`post.published`) or prefixes (`post.*`); absent: every type');

const TICKET_SECONDS = STREAM_TICKET_TTL_MS / 1000;

const StreamTicketAnswer = z
  .object({
    ticket: z.string().describe(`Opens one stream as the \`ticket\` query parameter of GET /v1/events, within ${TICKET_SECONDS} s; a credential: keep it out of logs`),
    url: z.string().describe('The stream to open with it, the ticket in place, relative to the API: `new EventSource(apiOrigin + url)`'),
    types: z.string().nullable().describe('The type filter the stream will have; null: every type'),
    expiresAt: z.string().describe('When the ticket stops opening streams (an open stream goes on)'),
  })
  .meta({
    id: 'EventStreamTicket',
    examples: [
      {
        ticket: 'enc:v1:k2026:q8x0Jm3v9bQe1T4z:Zm9yLWV4YW1wbGUtb25seQ:0s8Ue3h5YpQk2Vb7Nw1c9A',
        url: '/v1/events?ticket=enc%3Av1%3Ak2026%3Aq8x0Jm3v9bQe1T4z%3AZm9yLWV4YW1wbGUtb25seQ%3A0s8Ue3h5YpQk2Vb7Nw1c9A',
        types: 'post.*',
        expiresAt: '2026-03-08T14:01:00.000Z',
      },
    ],
  });

/** A filter naming types API consumers cannot follow: 400, each unknown entry named. */
function unknownTypes(unknown: readonly string[], location: 'querystring' | 'body'): ProblemError {
  return new ProblemError(400, 'unknown-event-type', 'Unknown event type', `not an event type API consumers can follow: ${unknown.join(', ')}`, {
    errors: unknown.map((type) => ({ location, field: 'types', code: 'unknown-event-type', message: `${type} is not a post or account event type` })),
  });
}

export const eventRoutes: FastifyPluginAsyncZod<EventRouteOptions> = async (fastify, options) => {
  const open = new Set<ServerResponse>();
  // A closing gateway ends its streams first (the server would wait for them), so clients reconnect elsewhere at once.
  fastify.addHook('preClose', async () => {
    for (const stream of open) stream.end();
  });

  fastify.post(
    '/events/tickets',
    {
      schema: {
        tags: ['events'],
        operationId: 'createEventStreamTicket',
        summary: 'A ticket that opens the event stream from a browser',
        description:
          "A browser's `EventSource` cannot send an Authorization header: ask for a ticket with your bearer token, then open " +
          '`new EventSource(url)` with the `url` answered. The ticket opens one stream, within ' +
          `${TICKET_SECONDS} s, for your user and organisation (still checked when the stream opens) and the \`types\` asked for ` +
          'here. An open stream is not cut off when its ticket expires; to reconnect, ask for a new ticket (see GET /v1/events).',
        body: z
          .strictObject({ types: Types.optional() })
          .meta({ examples: [{ types: 'post.*,account.disconnected' }] })
          .nullish(),
        response: {
          200: jsonResponse(StreamTicketAnswer, 'The ticket, and the stream URL that carries it', {
            'Cache-Control': { type: 'string', description: '`no-store`: a ticket is a credential' },
          }),
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const parsed = parseTypeFilter(typeFilterEntries(request.body?.types));
      if (!parsed.ok) throw unknownTypes(parsed.unknown, 'body');
      const types = canonicalTypes(typeFilterEntries(request.body?.types));
      const { ticket, sealed } = fastify.streamTickets.issue(caller, types);
      reply.header('cache-control', 'no-store');
      return { ticket: sealed, url: `${fastify.prefix}/events?ticket=${encodeURIComponent(sealed)}`, types, expiresAt: new Date(ticket.expiresAt).toISOString() };
    },
  );

  fastify.get(
    '/events',
    {
      // What the Accept check (406) compares with: a stream, not JSON.
      config: { produces: ['text/event-stream'], ticket: 'stream' },
      // A HEAD would redeem a ticket and hold a subscription open with no body to send it in.
      exposeHeadRoute: false,
      schema: {
        tags: ['events'],
        operationId: 'streamEvents',
        summary: "Your organisation's post and account events as Server-Sent Events",
        description:
          'A `text/event-stream`: each message has `id` (the CloudEvent id), `event` (its type, e.g. `post.published`) and ' +
          '`data` (its payload as JSON; tokens are never included). A comment line arrives every ' +
          `${options.heartbeatMs / 1000} s. Reconnect with \`Last-Event-ID\` to receive what came after that event: each ` +
          `gateway instance holds your organisation's last ${options.replaySize} events for ${options.replayMs / 60_000} min. ` +
          `Beyond that, the stream starts with a \`${REPLAY_UNAVAILABLE}\` message: read the current state from the REST API. ` +
          'Events come at least once: skip an id you have seen. A stream ends after ' +
          `${options.maxStreamMs / 60_000} min, or when the bearer token it was opened with expires, so the caller is ` +
          'authorised again: reconnect (with a current token or a new ticket) and `Last-Event-ID`.\n\n' +
          'From a browser, open it with a `ticket` (POST /v1/events/tickets) instead of the bearer token. A ticket opens one ' +
          'stream and is checked only then: when `EventSource` reconnects by itself with the same URL, the used (or expired) ' +
          'ticket is refused with 401 and the `EventSource` closes. Ask for a new ticket and open a new `EventSource` with the ' +
          'last id you received as `lastEventId` in its URL (a new `EventSource` cannot set the Last-Event-ID header).',
        security: [{ bearer: [] }, { streamTicket: [] }],
        querystring: z.strictObject({
          types: Types.optional(),
          ticket: z
            .string()
            .min(1)
            .max(4096)
            .optional()
            .describe(`A stream ticket (POST /v1/events/tickets) in place of the bearer token: opens one stream, within ${TICKET_SECONDS} s`),
          lastEventId: z
            .uuid()
            .optional()
            .describe('As the Last-Event-ID header, for a client that cannot set it (a new EventSource); the header wins when both are sent'),
        }),
        // The ids this stream hands out are CloudEvent ids, which Postwire makes UUIDs.
        headers: z.looseObject({ 'last-event-id': z.uuid().optional().describe('The `id` of the last message received, to resume after it') }),
        response: {
          401: problemResponse(401, 'No valid bearer token or stream ticket (expired, used already, or not one of ours): ask for a new ticket'),
          403: problemResponse(403, "The token's (or ticket's) organisation is not the user's"),
          200: {
            description: 'The event stream',
            content: {
              'text/event-stream': {
                schema: z.string().meta({
                  examples: [
                    'retry: 3000\n: connected\n\nid: 5e8e7f0c-2b7a-4d8e-8c4f-0b8f2a7d9c11\nevent: post.published\ndata: {"postId":"8d3c2a6e-1f4b-4c2d-9e0f-1a2b3c4d5e6f","platform":"instagram"}\n\n: heartbeat\n\n',
                  ],
                }),
              },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const ticket = request.streamTicket;
      const { query } = request;
      // A ticket carries its stream's filter; the URL may repeat it, not change it.
      if (ticket && query.types !== undefined && canonicalTypes(typeFilterEntries(query.types)) !== ticket.types) {
        throw new ProblemError(400, 'ticket-types-mismatch', 'Bad Request', `the ticket was issued for types ${ticket.types ?? '(every type)'}; ask for a ticket with the types you want`, {
          errors: [{ location: 'querystring', field: 'types', code: 'ticket-types-mismatch', message: 'types must be absent or those the ticket was issued for' }],
        });
      }
      const parsed = parseTypeFilter(typeFilterEntries(ticket ? (ticket.types ?? undefined) : query.types));
      if (!parsed.ok) throw unknownTypes(parsed.unknown, 'querystring');
      const { filter } = parsed;
      // Only a request that will be streamed uses its ticket up.
      await fastify.streamTickets.redeem(request, reply);
      // The header is what EventSource sends on its own reconnect: newer than a lastEventId left in the URL.
      const lastEventId = request.headers['last-event-id'] || query.lastEventId;
      const hub = fastify.liveEvents.hub;
      const organisationId = caller.organisationId;

      reply.hijack();
      const raw = reply.raw;
      // What hooks set on the reply (CORS for a browser's EventSource, the rate-limit fields, security headers).
      for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) raw.setHeader(name, value);
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // Proxies that buffer responses (nginx) would hold events back.
        'x-accel-buffering': 'no',
      });
      raw.write(`retry: ${RETRY_MS}\n${formatSseComment('connected')}`);
      const send = (event: LiveEvent) => {
        if (!matchesFilter(filter, event.type)) return;
        // A client that stops reading is cut off rather than buffered without end; it resumes with Last-Event-ID.
        if (raw.writableLength > MAX_BUFFERED_BYTES) raw.destroy();
        else raw.write(formatSseMessage(event));
      };
      // Replay and subscribe in the same turn of the event loop, so no event falls between them.
      if (lastEventId !== undefined && lastEventId !== '') {
        const replay = hub.replaySince(organisationId, lastEventId);
        if (replay.found) replay.events.forEach(send);
        else raw.write(`event: ${REPLAY_UNAVAILABLE}\ndata: ${JSON.stringify({ lastEventId, detail: 'events after this id are no longer held; read the current state from the REST API' })}\n\n`);
      }
      const unsubscribe = hub.subscribe(organisationId, send);
      const heartbeat = setInterval(() => raw.write(formatSseComment('heartbeat')), options.heartbeatMs);
      // Ended from here, so whoever reads it is authorised again when it reconnects.
      const endsAt = streamDeadline(Date.now(), options.maxStreamMs, ticket ? undefined : bearerExpiry(caller.token));
      const expiry = setTimeout(() => raw.end(formatSseComment('stream ended: reconnect with Last-Event-ID')), Math.max(0, endsAt - Date.now()));
      const close = () => {
        clearInterval(heartbeat);
        clearTimeout(expiry);
        unsubscribe();
      };
      open.add(raw);
      raw.on('close', () => {
        open.delete(raw);
        close();
      });
    },
  );
};
