import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type Caller, callerOf } from '@postwire/auth';
import type { TokenCipher } from '@postwire/crypto';
import { type DatabaseTransactionConnection, withCallerClaims } from '@postwire/db';
import { ProblemError } from '@postwire/service-kit';
import { type AttemptRow, type DeliveryRow, type EndpointRow, type WebhooksRepository, createWebhooksRepository } from '../db/webhooks-repository.ts';
import { type EntityTag, acceptedVersions } from '../domain/entity-tags.ts';
import { MAX_TYPE_FILTERS, parseTypeFilter } from '../domain/live-events.ts';
import { isBlockedAddress } from '../domain/outbound-address.ts';
import { MAX_ATTEMPTS, RETRY_DELAYS_MS } from '../domain/webhook-retry.ts';
import { generateWebhookSecret, secretKey } from '../domain/webhook-signature.ts';
import { endpointSecretContext } from '../webhooks/secrets.ts';
import { IF_MATCH_HEADER, checkIfMatch, versionedResponses } from './conditional-writes.ts';
import { jsonResponse, locationHeader, problemResponse } from './problem-docs.ts';

export type WebhookRouteOptions = {
  readonly cipher: TokenCipher;
  /** Config GATEWAY_WEBHOOK_ALLOW_PRIVATE_TARGETS: local receivers (tests, benchmarks) only. */
  readonly allowPrivateTargets: boolean;
};

const EndpointUrl = z
  .url({ protocol: /^https?$/, hostname: z.regexes.hostname })
  .max(2048)
  // A refinement runs on what failed the URL check too: it must not throw on text that is no URL.
  .refine((value) => {
    const url = URL.parse(value);
    return url === null || (!url.username && !url.password);
  }, 'a webhook URL carries no credentials')
  .describe('Where deliveries are POSTed (http or https; no credentials in the URL)');

const EventTypes = z
  .array(z.string().min(1).max(100))
  .max(MAX_TYPE_FILTERS)
  .describe('Event types to deliver (`post.published`) or prefixes (`post.*`); empty or absent: every type');

const Secret = z
  .string()
  .refine((value) => secretKey(value) !== null, 'a secret is `whsec_` and the base64 of 24 to 64 random bytes')
  .describe('Your own signing secret; absent: we generate one');

const EndpointIdParams = z.object({ endpointId: z.uuid() });
const DeliveryIdParams = z.object({ endpointId: z.uuid(), deliveryId: z.uuid() });

const Endpoint = z
  .object({
    id: z.uuid(),
    url: z.string(),
    description: z.string().nullable(),
    eventTypes: z.array(z.string()),
    enabled: z.boolean(),
    disabledReason: z.string().nullable().describe('Why deliveries stopped (an endpoint that kept failing is disabled)'),
    disabledAt: z.string().nullable(),
    consecutiveFailures: z.int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({
    id: 'WebhookEndpoint',
    examples: [
      {
        id: '3b0c6a58-9f1e-4d2a-8b7c-5e4f3a2b1c0d',
        url: 'https://hooks.example.com/postwire',
        description: 'CRM sync',
        eventTypes: ['post.published', 'account.*'],
        enabled: true,
        disabledReason: null,
        disabledAt: null,
        consecutiveFailures: 0,
        createdAt: '2026-03-08T09:00:00.000Z',
        updatedAt: '2026-03-08T09:00:00.000Z',
      },
    ],
  });

const EndpointWithSecret = Endpoint.extend({
  secret: z.string().describe('The signing secret: shown here only, keep it safe'),
}).meta({
  id: 'WebhookEndpointWithSecret',
  examples: [
    {
      id: '3b0c6a58-9f1e-4d2a-8b7c-5e4f3a2b1c0d',
      url: 'https://hooks.example.com/postwire',
      description: 'CRM sync',
      eventTypes: ['post.published', 'account.*'],
      enabled: true,
      disabledReason: null,
      disabledAt: null,
      consecutiveFailures: 0,
      createdAt: '2026-03-08T09:00:00.000Z',
      updatedAt: '2026-03-08T09:00:00.000Z',
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=',
    },
  ],
});

const Attempt = z.object({
  attempt: z.int(),
  trigger: z.enum(['scheduled', 'manual']),
  startedAt: z.string(),
  durationMs: z.int(),
  responseStatus: z.int().nullable(),
  responseBody: z.string().nullable().describe('The first 1 KiB of the answer'),
  error: z.string().nullable(),
  succeeded: z.boolean(),
});

const Delivery = z
  .object({
    id: z.uuid(),
    endpointId: z.uuid(),
    eventId: z.uuid().describe('The CloudEvent id, sent as `webhook-id`'),
    eventType: z.string(),
    eventTime: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    attempts: z.int(),
    nextAttemptAt: z.string().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
  })
  .meta({
    id: 'WebhookDelivery',
    examples: [
      {
        id: '9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
        endpointId: '3b0c6a58-9f1e-4d2a-8b7c-5e4f3a2b1c0d',
        eventId: '5e8e7f0c-2b7a-4d8e-8c4f-0b8f2a7d9c11',
        eventType: 'post.published',
        eventTime: '2026-03-08T14:00:01.000Z',
        status: 'succeeded',
        attempts: 1,
        nextAttemptAt: null,
        lastError: null,
        createdAt: '2026-03-08T14:00:01.120Z',
        completedAt: '2026-03-08T14:00:01.180Z',
      },
    ],
  });

const DeliveryWithAttempts = Delivery.extend({
  payload: z.record(z.string(), z.unknown()).describe('The body as sent'),
  attemptLog: z.array(Attempt),
}).meta({
  id: 'WebhookDeliveryWithAttempts',
  examples: [
    {
      id: '9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      endpointId: '3b0c6a58-9f1e-4d2a-8b7c-5e4f3a2b1c0d',
      eventId: '5e8e7f0c-2b7a-4d8e-8c4f-0b8f2a7d9c11',
      eventType: 'post.published',
      eventTime: '2026-03-08T14:00:01.000Z',
      status: 'succeeded',
      attempts: 2,
      nextAttemptAt: null,
      lastError: null,
      createdAt: '2026-03-08T14:00:01.120Z',
      completedAt: '2026-03-08T14:00:06.300Z',
      payload: { type: 'post.published', timestamp: '2026-03-08T14:00:01.000Z', data: { postId: '8d3c2a6e-1f4b-4c2d-9e0f-1a2b3c4d5e6f' } },
      attemptLog: [
        { attempt: 1, trigger: 'scheduled', startedAt: '2026-03-08T14:00:01.150Z', durationMs: 30, responseStatus: 503, responseBody: 'busy', error: 'the endpoint answered 503', succeeded: false },
        { attempt: 2, trigger: 'scheduled', startedAt: '2026-03-08T14:00:06.250Z', durationMs: 41, responseStatus: 200, responseBody: 'ok', error: null, succeeded: true },
      ],
    },
  ],
});

const EndpointList = z.object({ data: z.array(Endpoint) }).meta({ id: 'WebhookEndpointList', examples: [{ data: [{
        id: '3b0c6a58-9f1e-4d2a-8b7c-5e4f3a2b1c0d',
        url: 'https://hooks.example.com/postwire',
        description: 'CRM sync',
        eventTypes: ['post.published', 'account.*'],
        enabled: true,
        disabledReason: null,
        disabledAt: null,
        consecutiveFailures: 0,
        createdAt: '2026-03-08T09:00:00.000Z',
        updatedAt: '2026-03-08T09:00:00.000Z',
      }] }] });
const DeliveryList = z
  .object({ data: z.array(Delivery), nextCursor: z.string().nullable() })
  .meta({ id: 'WebhookDeliveryList', examples: [{ data: [{
        id: '9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
        endpointId: '3b0c6a58-9f1e-4d2a-8b7c-5e4f3a2b1c0d',
        eventId: '5e8e7f0c-2b7a-4d8e-8c4f-0b8f2a7d9c11',
        eventType: 'post.published',
        eventTime: '2026-03-08T14:00:01.000Z',
        status: 'succeeded',
        attempts: 1,
        nextAttemptAt: null,
        lastError: null,
        createdAt: '2026-03-08T14:00:01.120Z',
        completedAt: '2026-03-08T14:00:01.180Z',
      }], nextCursor: null }] });

const DeliveryListQuery = z.object({
  status: z.enum(['pending', 'succeeded', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(200).optional().describe('`nextCursor` of the previous page'),
});

const toEndpoint = (row: EndpointRow): z.infer<typeof Endpoint> => ({
  id: row.id,
  url: row.url,
  description: row.description,
  eventTypes: row.event_types,
  enabled: row.enabled,
  disabledReason: row.disabled_reason,
  disabledAt: row.disabled_at?.toISOString() ?? null,
  consecutiveFailures: row.consecutive_failures,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

/** An endpoint's ETag: its version (the repository's ENDPOINT_VERSION), which If-Match is checked against. */
const versionOf = (row: EndpointRow): EntityTag => ({ weak: false, opaque: row.version });

const toDelivery = (row: DeliveryRow): z.infer<typeof Delivery> => ({
  id: row.id,
  endpointId: row.endpoint_id,
  eventId: row.event_id,
  eventType: row.event_type,
  eventTime: row.event_time.toISOString(),
  status: row.status,
  attempts: row.attempts,
  nextAttemptAt: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
  lastError: row.last_error,
  createdAt: row.created_at.toISOString(),
  completedAt: row.completed_at?.toISOString() ?? null,
});

const toAttempt = (row: AttemptRow): z.infer<typeof Attempt> => ({
  attempt: row.attempt,
  trigger: row.trigger,
  startedAt: row.started_at.toISOString(),
  durationMs: row.duration_ms,
  responseStatus: row.response_status,
  responseBody: row.response_body,
  error: row.error,
  succeeded: row.succeeded,
});

const encodeCursor = (row: DeliveryRow) => Buffer.from(`${row.created_at.toISOString()}|${row.id}`).toString('base64url');

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at = '', id = ''] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at);
  if (Number.isNaN(createdAt.getTime()) || !z.uuid().safeParse(id).success) {
    throw new ProblemError(400, 'invalid-cursor', 'Invalid cursor', 'cursor is not one this API handed out');
  }
  return { createdAt, id };
}

const endpointNotFound = () => new ProblemError(404, 'webhook-endpoint-not-found', 'Webhook endpoint not found', 'no such webhook endpoint in your organisation');
const deliveryNotFound = () => new ProblemError(404, 'webhook-delivery-not-found', 'Webhook delivery not found', 'no such delivery of this endpoint');

function checkEventTypes(eventTypes: readonly string[]): string[] {
  const parsed = parseTypeFilter(eventTypes);
  if (!parsed.ok) {
    throw new ProblemError(400, 'unknown-event-type', 'Unknown event type', `not an event type API consumers can follow: ${parsed.unknown.join(', ')}`, {
      errors: parsed.unknown.map((type) => ({ location: 'body', field: 'eventTypes', code: 'unknown-event-type', message: `${type} is not a post or account event type` })),
    });
  }
  return [...new Set(eventTypes)];
}

/**
 * Refuses a target that resolves to a private, loopback or link-local address (SSRF guard). Checked again,
 * on every address, when each delivery connects: a name may resolve elsewhere later.
 */
export async function checkTarget(url: string, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const refuse = (detail: string) =>
    new ProblemError(422, 'webhook-target-not-allowed', 'Webhook target not allowed', detail, {
      errors: [{ location: 'body', field: 'url', code: 'webhook-target-not-allowed', message: detail }],
    });
  let addresses: readonly string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((entry) => entry.address);
  } catch {
    throw refuse(`${host} does not resolve`);
  }
  const blocked = addresses.find((address) => isBlockedAddress(address));
  if (blocked !== undefined) throw refuse(`${host} resolves to ${blocked}, a private, loopback or link-local address`);
}

const RETRY_NOTE =
  `Deliveries follow Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>). ` +
  `A delivery that gets no 2xx (redirects are not followed; 15 s timeout) is tried ${MAX_ATTEMPTS} times in all, after ` +
  `${RETRY_DELAYS_MS.map((ms) => (ms >= 3_600_000 ? `${ms / 3_600_000} h` : ms >= 60_000 ? `${ms / 60_000} min` : `${ms / 1000} s`)).join(', ')} ` +
  `(a little over a day). An endpoint that keeps failing is disabled with a reason; enabling it again resumes its pending deliveries.`;

/** An organisation's webhook endpoints and their delivery log; RLS keeps every statement to the caller's organisation. */
export const webhookRoutes: FastifyPluginAsyncZod<WebhookRouteOptions> = async (fastify, { cipher, allowPrivateTargets }) => {
  const asCaller = <T>(caller: Caller, work: (connection: DatabaseTransactionConnection) => Promise<T>) =>
    withCallerClaims(fastify.db, { sub: caller.userId, organisationId: caller.organisationId }, work);

  /**
   * A change to one endpoint under If-Match: the statement itself carries the versions it accepts, so nothing can
   * change the endpoint between the check and the write. No row is a 404 when the endpoint is gone, else a 412
   * naming its current version.
   */
  const changeEndpoint = (
    request: FastifyRequest,
    reply: FastifyReply,
    endpointId: string,
    change: (endpoints: WebhooksRepository, versions: readonly string[] | undefined) => Promise<EndpointRow | null>,
  ) => {
    const ifMatch = checkIfMatch(request.headers['if-match']);
    return asCaller(callerOf(request), async (connection) => {
      const endpoints = createWebhooksRepository(connection);
      const changed = await change(endpoints, ifMatch === undefined ? undefined : acceptedVersions(ifMatch));
      if (changed) return changed;
      const current = await endpoints.findEndpoint(endpointId);
      if (!current) throw endpointNotFound();
      reply.versionedBy(versionOf(current));
      throw new ProblemError(412, 'precondition-failed', 'Precondition Failed', 'The webhook endpoint changed since the version If-Match names; nothing was applied.');
    });
  };

  fastify.post(
    '/webhooks/endpoints',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'createWebhookEndpoint',
        summary: 'Register a webhook endpoint',
        description: `The answer shows the signing secret once. ${RETRY_NOTE}`,
        body: z.object({
          url: EndpointUrl,
          description: z.string().max(500).optional(),
          eventTypes: EventTypes.optional(),
          secret: Secret.optional(),
        }),
        response: {
          201: jsonResponse(EndpointWithSecret, 'Registered; the secret is shown here only', locationHeader('Where the endpoint is read: /v1/webhooks/endpoints/{endpointId}')),
          422: problemResponse(422, 'The target resolves to a private, loopback or link-local address (`webhook-target-not-allowed`)'),
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const eventTypes = checkEventTypes(request.body.eventTypes ?? []);
      await checkTarget(request.body.url, allowPrivateTargets);
      const id = randomUUID();
      const secret = request.body.secret ?? generateWebhookSecret();
      const row = await asCaller(caller, (connection) =>
        createWebhooksRepository(connection).createEndpoint({
          id,
          organisationId: caller.organisationId,
          url: request.body.url,
          description: request.body.description ?? null,
          eventTypes,
          secret: cipher.encrypt(secret, endpointSecretContext(id)),
          createdBy: caller.userId,
        }),
      );
      return reply.code(201).header('location', `/v1/webhooks/endpoints/${id}`).send({ ...toEndpoint(row), secret });
    },
  );

  fastify.get(
    '/webhooks/endpoints',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'listWebhookEndpoints',
        summary: "Your organisation's webhook endpoints",
        description: 'Every endpoint your organisation registered, oldest first, enabled or not (a disabled one says why).',
        response: { 200: jsonResponse(EndpointList, 'The endpoints') },
      },
    },
    async (request) => {
      const rows = await asCaller(callerOf(request), (connection) => createWebhooksRepository(connection).listEndpoints());
      return { data: rows.map(toEndpoint) };
    },
  );

  fastify.get(
    '/webhooks/endpoints/:endpointId',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'getWebhookEndpoint',
        summary: 'One webhook endpoint',
        description: 'The endpoint as registered, whether it is enabled, and its current failure streak; never its secret.',
        params: EndpointIdParams,
        response: { 200: jsonResponse(Endpoint, 'The endpoint'), 404: problemResponse(404, 'No such webhook endpoint (or delivery) in your organisation') },
      },
    },
    async (request, reply) => {
      const row = await asCaller(callerOf(request), (connection) => createWebhooksRepository(connection).findEndpoint(request.params.endpointId));
      if (!row) throw endpointNotFound();
      return reply.versionedBy(versionOf(row)).send(toEndpoint(row));
    },
  );

  fastify.patch(
    '/webhooks/endpoints/:endpointId',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'updateWebhookEndpoint',
        summary: 'Change a webhook endpoint, or enable it again',
        description:
          '`enabled: true` on a disabled endpoint clears its failure streak; its pending deliveries resume. With If-Match, only ' +
          'while the endpoint is still at the version you read (412 otherwise, with its current ETag).',
        params: EndpointIdParams,
        headers: z.object(IF_MATCH_HEADER),
        body: z
          .object({
            url: EndpointUrl.optional(),
            description: z.string().max(500).nullable().optional(),
            eventTypes: EventTypes.optional(),
            enabled: z.boolean().optional(),
          })
          .strict(),
        response: versionedResponses({
          200: jsonResponse(Endpoint, 'The endpoint as changed'),
          404: problemResponse(404, 'No such webhook endpoint (or delivery) in your organisation'),
          422: problemResponse(422, 'The target resolves to a private, loopback or link-local address (`webhook-target-not-allowed`)'),
        }),
      },
    },
    async (request, reply) => {
      const { url, description, eventTypes, enabled } = request.body;
      const types = eventTypes === undefined ? undefined : checkEventTypes(eventTypes);
      if (url !== undefined) await checkTarget(url, allowPrivateTargets);
      const row = await changeEndpoint(request, reply, request.params.endpointId, (endpoints, versions) =>
        endpoints.updateEndpoint(
          request.params.endpointId,
          {
            ...(url === undefined ? {} : { url }),
            ...(description === undefined ? {} : { description }),
            ...(types === undefined ? {} : { eventTypes: types }),
            ...(enabled === undefined ? {} : { enabled }),
          },
          versions,
        ),
      );
      if (enabled === true) fastify.webhookDeliveries.wake();
      return reply.versionedBy(versionOf(row)).send(toEndpoint(row));
    },
  );

  fastify.post(
    '/webhooks/endpoints/:endpointId/secret',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'rotateWebhookSecret',
        summary: 'Replace the signing secret',
        description: 'Takes effect for the next attempt; the answer shows the new secret once. With If-Match, only while the endpoint is still at that version.',
        params: EndpointIdParams,
        headers: z.object(IF_MATCH_HEADER),
        body: z.object({ secret: Secret.optional() }).optional(),
        response: versionedResponses({
          200: jsonResponse(EndpointWithSecret, 'The endpoint with its new secret, shown here only'),
          404: problemResponse(404, 'No such webhook endpoint (or delivery) in your organisation'),
        }),
      },
    },
    async (request, reply) => {
      const secret = request.body?.secret ?? generateWebhookSecret();
      const { endpointId } = request.params;
      const row = await changeEndpoint(request, reply, endpointId, (endpoints, versions) =>
        endpoints.updateEndpoint(endpointId, { secret: cipher.encrypt(secret, endpointSecretContext(endpointId)) }, versions),
      );
      return reply.versionedBy(versionOf(row)).send({ ...toEndpoint(row), secret });
    },
  );

  fastify.delete(
    '/webhooks/endpoints/:endpointId',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'deleteWebhookEndpoint',
        summary: 'Remove a webhook endpoint and its delivery log',
        description:
          'Nothing more is delivered to it; pending deliveries and the log go with it. Answers the endpoint as it was. With ' +
          'If-Match, only while the endpoint is still at that version.',
        params: EndpointIdParams,
        headers: z.object(IF_MATCH_HEADER),
        response: {
          200: jsonResponse(Endpoint, 'Removed: the endpoint as it was'),
          404: problemResponse(404, 'No such webhook endpoint (or delivery) in your organisation'),
          412: versionedResponses({})[412],
        },
      },
    },
    async (request, reply) => {
      const deleted = await changeEndpoint(request, reply, request.params.endpointId, (endpoints, versions) => endpoints.deleteEndpoint(request.params.endpointId, versions));
      return toEndpoint(deleted);
    },
  );

  fastify.get(
    '/webhooks/endpoints/:endpointId/deliveries',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'listWebhookDeliveries',
        summary: "An endpoint's deliveries, newest first",
        description: 'One delivery per event the endpoint was sent (or is still to be sent), with its state; page on with `cursor`.',
        params: EndpointIdParams,
        querystring: DeliveryListQuery,
        response: { 200: jsonResponse(DeliveryList, 'A page of deliveries'), 404: problemResponse(404, 'No such webhook endpoint (or delivery) in your organisation') },
      },
    },
    async (request) => {
      const { endpointId } = request.params;
      const { limit, status, cursor } = request.query;
      const before = cursor === undefined ? undefined : decodeCursor(cursor);
      const rows = await asCaller(callerOf(request), async (connection) => {
        const repository = createWebhooksRepository(connection);
        if (!(await repository.findEndpoint(endpointId))) throw endpointNotFound();
        return repository.listDeliveries(endpointId, { limit, ...(status === undefined ? {} : { status }), ...(before === undefined ? {} : { before }) });
      });
      const last = rows.at(-1);
      return { data: rows.map(toDelivery), nextCursor: rows.length === limit && last ? encodeCursor(last) : null };
    },
  );

  fastify.get(
    '/webhooks/endpoints/:endpointId/deliveries/:deliveryId',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'getWebhookDelivery',
        summary: 'One delivery with every attempt',
        description: 'The body as sent and the log of every attempt: when, how long, what the endpoint answered (first 1 KiB), why it failed.',
        params: DeliveryIdParams,
        response: { 200: jsonResponse(DeliveryWithAttempts, 'The delivery and its attempts'), 404: problemResponse(404, 'No such webhook endpoint (or delivery) in your organisation') },
      },
    },
    async (request) => {
      const { endpointId, deliveryId } = request.params;
      const found = await asCaller(callerOf(request), async (connection) => {
        const repository = createWebhooksRepository(connection);
        const delivery = await repository.findDelivery(endpointId, deliveryId);
        return delivery ? { delivery, attempts: await repository.attemptsOf(deliveryId) } : null;
      });
      if (!found) throw deliveryNotFound();
      return { ...toDelivery(found.delivery), payload: found.delivery.payload, attemptLog: found.attempts.map(toAttempt) };
    },
  );

  fastify.post(
    '/webhooks/endpoints/:endpointId/deliveries/:deliveryId/redeliver',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'redeliverWebhook',
        summary: 'Send a delivery again now',
        description: 'One more attempt, logged as `manual`, whatever became of the delivery; the same `webhook-id`, a fresh signature.',
        params: DeliveryIdParams,
        response: {
          202: jsonResponse(Delivery, 'Due now; follow the Location for its outcome', locationHeader('Where the delivery is read: /v1/webhooks/endpoints/{endpointId}/deliveries/{deliveryId}')),
          404: problemResponse(404, 'No such webhook endpoint (or delivery) in your organisation'),
        },
      },
    },
    async (request, reply) => {
      const { endpointId, deliveryId } = request.params;
      const row = await asCaller(callerOf(request), (connection) => createWebhooksRepository(connection).requestRedelivery(endpointId, deliveryId));
      if (!row) throw deliveryNotFound();
      fastify.webhookDeliveries.wake();
      return reply.code(202).header('location', `/v1/webhooks/endpoints/${endpointId}/deliveries/${deliveryId}`).send(toDelivery(row));
    },
  );
};
