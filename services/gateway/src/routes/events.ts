import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '@postwire/auth';
import { ProblemError } from '@postwire/service-kit';
import { formatSseComment, formatSseMessage, matchesFilter, parseTypeFilter, typeFilterEntries } from '../domain/live-events.ts';
import type { LiveEvent } from '../events/event-hub.ts';


export type EventRouteOptions = {
  /** Config GATEWAY_EVENTS_HEARTBEAT_MS. */
  readonly heartbeatMs: number;
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

export const eventRoutes: FastifyPluginAsyncZod<EventRouteOptions> = async (fastify, options) => {
  const open = new Set<ServerResponse>();
  // A closing gateway ends its streams first (the server would wait for them), so clients reconnect elsewhere at once.
  fastify.addHook('preClose', async () => {
    for (const stream of open) stream.end();
  });

  fastify.get(
    '/events',
    {
      // What the Accept check (406) compares with: a stream, not JSON.
      config: { produces: ['text/event-stream'] },
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
          'Events come at least once: skip an id you have seen.',
        querystring: z.strictObject({
          types: z
            .string()
            .min(1)
            .max(2000)
            .optional()
            .describe('Comma-separated event types (`post.published`) or prefixes (`post.*`); absent: every type'),
        }),
        // The ids this stream hands out are CloudEvent ids, which Postwire makes UUIDs.
        headers: z.looseObject({ 'last-event-id': z.uuid().optional().describe('The `id` of the last message received, to resume after it') }),
        response: {
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
      const parsed = parseTypeFilter(typeFilterEntries(request.query.types));
      if (!parsed.ok) {
        throw new ProblemError(400, 'unknown-event-type', 'Unknown event type', `not an event type API consumers can follow: ${parsed.unknown.join(', ')}`, {
          errors: parsed.unknown.map((type) => ({ location: 'querystring', field: 'types', code: 'unknown-event-type', message: `${type} is not a post or account event type` })),
        });
      }
      const { filter } = parsed;
      const lastEventId = request.headers['last-event-id'];
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
      const close = () => {
        clearInterval(heartbeat);
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
