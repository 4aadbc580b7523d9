import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  AcceptedPostSummary,
  AccountCapabilities,
  AccountList,
  AccountResource,
  AccountRetryResult,
  AnalyticsSummary,
  CreatePostBody,
  ExpiringAccounts,
  PendingPostRequest,
  PostList,
  PostResource,
  SnapshotSeries,
  TopPosts,
  UnpostedContent,
  UpdatePostBody,
} from '@postwire/api';
import { zodSchemasPlugin } from '@postwire/service-kit';
import { CONNECT_TICKET_TTL_MS } from '../domain/connect-ticket.ts';
import { STREAM_TICKET_TTL_MS } from '../domain/stream-ticket.ts';
import { type HeaderDoc, type ProblemStatus, Problem, problemResponse } from '../routes/problem-docs.ts';
import { COMPONENT_EXAMPLES } from './openapi-examples.ts';

export type OpenApiOptions = { readonly publicUrl: string; readonly version: string };

/**
 * Shapes several operations share, named in components.schemas (and referenced, not repeated). A body
 * schema appears as `<name>Input` (the zod transform names the input side so).
 */
const COMPONENTS: readonly (readonly [z.ZodType, string])[] = [
  [Problem, 'Problem'],
  [PostResource, 'Post'],
  [PostList, 'PostList'],
  [AcceptedPostSummary, 'PostSummary'],
  [PendingPostRequest, 'PendingPostRequest'],
  [AccountRetryResult, 'AccountRetryResult'],
  [AccountResource, 'Account'],
  [AccountList, 'AccountList'],
  [AccountCapabilities, 'AccountCapabilities'],
  [ExpiringAccounts, 'ExpiringAccounts'],
  [UnpostedContent, 'UnpostedContent'],
  [SnapshotSeries, 'SnapshotSeries'],
  [AnalyticsSummary, 'AnalyticsSummary'],
  [TopPosts, 'TopPosts'],
  [CreatePostBody, 'CreatePost'],
  [UpdatePostBody, 'UpdatePost'],
];

const TAGS = [
  { name: 'identity', description: 'Who the bearer token names' },
  { name: 'connect', description: 'Connecting Instagram professional accounts and Facebook Pages through Meta\'s consent dialog (OAuth)' },
  { name: 'accounts', description: 'Connected accounts: their state, what they can publish, disconnecting them' },
  { name: 'posts', description: 'Drafting, scheduling and publishing posts, and following them to the platform' },
  { name: 'analytics', description: 'How published posts perform: insight snapshots, totals and trends, top posts' },
  { name: 'events', description: "Your organisation's post and account events as they happen (Server-Sent Events)" },
  { name: 'webhooks', description: 'Signed webhooks (Standard Webhooks): endpoints, their delivery log, redelivery' },
];

type RouteSchema = {
  readonly hide?: boolean;
  readonly security?: readonly unknown[];
  readonly response?: Record<string, unknown>;
  readonly [key: string]: unknown;
};
type TransformInput = Parameters<typeof jsonSchemaTransform>[0];

/**
 * Every operation can be refused before its handler runs: an invalid request (400), an Accept it cannot
 * answer (406), a failure of ours (500); one behind the bearer token also 401 and 403. Routes document
 * what only they can answer; these are added where the route has not said it itself.
 */
function commonProblems(schema: RouteSchema): Record<string, unknown> {
  // Every operation spends a rate-limit budget (plugins/protection.ts).
  const statuses: ProblemStatus[] = [400, 406, 429, 500];
  // No `security` of its own: the document's default, the bearer token.
  if (schema.security === undefined) statuses.push(401, 403);
  return Object.fromEntries(statuses.map((status) => [status, problemResponse(status)]));
}

/** Where an answer stands in its rate-limit budget: on every answer given after the budget was counted. */
const RATE_LIMIT_HEADERS: Readonly<Record<string, HeaderDoc>> = {
  RateLimit: {
    type: 'string',
    description:
      'The budget this operation spends, now: `"reads";r=1187;t=42` (r requests left, t seconds until its window ends). ' +
      'Absent when the request was not counted (refused before its budget was reached, or the shared store out of reach)',
  },
  'RateLimit-Policy': {
    type: 'string',
    description: 'That budget\'s quota: `"reads";q=1200;w=60` (q requests per window of w seconds, per organisation)',
  },
};
const RETRY_AFTER: Readonly<Record<string, HeaderDoc>> = {
  'Retry-After': { type: 'integer', description: 'Seconds until the budget\'s window ends and requests are taken again' },
};
/** Refused before a budget is counted: no rate-limit fields (the token, the Accept header), or anywhere (500). */
const UNCOUNTED = new Set(['401', '403', '406', '500']);

function headersOf(status: string, declared: unknown): unknown {
  if (UNCOUNTED.has(status)) return declared;
  return { ...RATE_LIMIT_HEADERS, ...(status === '429' ? RETRY_AFTER : {}), ...(declared as object | undefined) };
}

/**
 * The zod transform, plus what it leaves out: the common problems, and the headers of a documented
 * answer (jsonResponse's `headers`: Location on a 202...), which @fastify/swagger reads from it.
 */
function transform(input: TransformInput) {
  const schema = input.schema as RouteSchema | undefined;
  if (!schema || schema.hide) return jsonSchemaTransform(input);
  const responses: Record<string, unknown> = {};
  const headers = new Map<string, unknown>();
  // An answer without a body (a redirect) is declared with an empty `content`: documented as is.
  const bodiless = new Map<string, Record<string, unknown>>();
  for (const [status, response] of Object.entries({ ...commonProblems(schema), ...schema.response })) {
    if (response === null || typeof response !== 'object' || !('content' in response)) {
      responses[status] = response;
      continue;
    }
    const { headers: routeHeaders, ...rest } = response as { headers?: unknown; content: object; description?: string };
    const declared = headersOf(status, routeHeaders);
    if (Object.keys(rest.content).length === 0) {
      bodiless.set(status, { description: rest.description ?? '', ...(declared ? { headers: declared } : {}), type: 'null' });
      continue;
    }
    if (declared) headers.set(status, declared);
    responses[status] = rest;
  }
  const transformed = jsonSchemaTransform({ ...input, schema: { ...schema, response: responses } } as TransformInput);
  const documented = (transformed.schema as { response?: Record<string, Record<string, unknown>> }).response ?? {};
  for (const [status, declared] of headers) {
    const response = documented[status];
    if (response) response.headers = declared;
  }
  for (const [status, response] of bodiless) documented[status] = response;
  (transformed.schema as { response?: unknown }).response = documented;
  return transformed;
}

/** Components no operation refers to (the input or output twin of a shape, say) are left out. */
function withoutUnusedComponents(document: Record<string, unknown>): Record<string, unknown> {
  const components = (document.components ?? {}) as { schemas?: Record<string, unknown> };
  let schemas = Object.entries(components.schemas ?? {});
  const { components: _components, ...rest } = document;
  // A component only another unused one names is unused too: prune until nothing changes.
  for (;;) {
    const text = JSON.stringify([rest, schemas.map(([, schema]) => schema)]);
    const used = schemas.filter(([name]) => text.includes(`"#/components/schemas/${name}"`));
    if (used.length === schemas.length) break;
    schemas = used;
  }
  const named = Object.fromEntries(
    schemas
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, schema]) => [name, COMPONENT_EXAMPLES[name] ? { ...(schema as object), examples: COMPONENT_EXAMPLES[name] } : schema]),
  );
  return { ...document, components: { ...components, schemas: named } };
}

/**
 * Route schemas are zod: they validate requests, serialise responses and are the OpenAPI document
 * (served at /openapi.json, browsable at /docs). Only routes with tags are published. Shared shapes
 * are components; every error is the one Problem schema (application/problem+json).
 */
export const openApiPlugin = fp(
  async (fastify: FastifyInstance, options: OpenApiOptions) => {
    // Names in zod's global registry, which the zod transform turns into components: idempotent, the
    // same schema keeps the same name however many apps a process builds.
    for (const [schema, id] of COMPONENTS) z.globalRegistry.add(schema, { ...z.globalRegistry.get(schema), id });
    await fastify.register(zodSchemasPlugin);
    await fastify.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Postwire API',
          version: options.version,
          description:
            'Connect Instagram professional accounts and Facebook Pages, schedule and publish posts, follow how they perform.\n\n' +
            'Every error is an RFC 9457 problem (`application/problem+json`, the `Problem` schema) whatever the request\'s ' +
            'Accept: `type` and `code` say what kind, `detail` what happened, `instance` the request path, `requestId` the ' +
            'request as the logs name it. A method a path does not take is 405 with `Allow`; an Accept that takes nothing an ' +
            'operation answers with is 406.',
          contact: { name: 'Postwire API support', url: 'https://postwire.dev/support', email: 'api@postwire.dev' },
          license: { name: 'Proprietary', url: 'https://postwire.dev/terms' },
        },
        servers: [{ url: options.publicUrl, description: 'This gateway' }],
        tags: TAGS,
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A JWT naming the user (`sub`) and the organisation' },
            connectCookie: {
              type: 'apiKey',
              in: 'cookie',
              name: 'pw_connect',
              description: 'Sealed, HttpOnly: set by the connect start in this browser, bound to its state and user, single use, 10 minutes',
            },
            streamTicket: {
              type: 'apiKey',
              in: 'query',
              name: 'ticket',
              description: `Sealed, from POST /v1/events/tickets: opens one event stream, within ${STREAM_TICKET_TTL_MS / 1000} s, for its user, organisation and event types`,
            },
            connectTicket: {
              type: 'apiKey',
              in: 'query',
              name: 'ticket',
              description: `Sealed, from POST /v1/connect/{provider}/tickets: starts a connect flow in a browser, within ${CONNECT_TICKET_TTL_MS / 1000} s, for its user, organisation, provider, returnTo and accountId`,
            },
            connectAttemptCookie: {
              type: 'apiKey',
              in: 'cookie',
              name: 'pw_connect_attempt',
              description: 'Sealed, HttpOnly: set by a callback that was still connecting, so only this browser can see how it ended',
            },
          },
        },
        security: [{ bearer: [] }],
      },
      hideUntagged: true,
      transform,
      transformObject: (input) => withoutUnusedComponents(jsonSchemaTransformObject(input) as Record<string, unknown>) as ReturnType<typeof jsonSchemaTransformObject>,
    });
    await fastify.register(swaggerUi, { routePrefix: '/docs' });
    fastify.get('/openapi.json', { logLevel: 'warn' }, async () => fastify.swagger());
  },
  { name: '@postwire/gateway-openapi', dependencies: ['@postwire/problem'] },
);
