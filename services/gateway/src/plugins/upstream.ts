import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Agent, errors, request as undiciRequest } from 'undici';
import { z } from 'zod';
import { ProblemError, childTraceContext, formatTraceparent } from '@postwire/service-kit';
import { type EntityTag, formatEntityTag, parseEntityTag } from '../domain/entity-tags.ts';

/** Where a read goes on the owning service: a path the route built from its validated parameters. */
export type UpstreamTarget = {
  readonly path: string;
  /** The route's validated query; undefined values are left out. */
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
};

/** An owner's answer, read whole. */
export type UpstreamAnswer = {
  readonly status: number;
  /** Its headers, names in lower case. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly contentType: string;
  readonly body: Buffer;
};

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * A GET to an owning service's read API on behalf of this request: the caller's bearer token (the
     * service verifies it again), the correlation id and a child of the request's trace. Only the
     * configured upstream's origin is ever called, and redirects are never followed. An owner that
     * does not answer is a 503 problem, a slow one a 504.
     */
    readUpstream: (upstream: string, target: UpstreamTarget, request: FastifyRequest) => Promise<UpstreamAnswer>;
    /**
     * Reads go to the owning service's read API with the caller's identity (DESIGN.md rule 2). A 200 JSON
     * answer is handed back as the owner's bytes, for the route to send as they are (`sendJson`): the owners
     * are ours and their answers contract-tested, so the route's response schema documents the answer without
     * checking it again. An owner's problem is re-issued as the gateway's own problem; anything else is a 502.
     * With `reply`, the owner's ETag (a resource version it names) becomes the answer's.
     */
    forwardRead: (upstream: string, target: UpstreamTarget, request: FastifyRequest, reply?: FastifyReply) => Promise<Buffer>;
  }
}

export type UpstreamOptions = {
  readonly timeoutMs: number;
  /** Keep-alive connections kept per owner (each answers one request at a time). */
  readonly connections?: number;
};

const PROBLEM_TYPE_BASE = 'https://postwire.dev/problems/';

/** What the gateway takes from an owner's 4xx problem: nothing but these fields, bounded. */
const UpstreamProblem = z.object({
  type: z.string().max(200).optional(),
  title: z.string().min(1).max(200),
  detail: z.string().max(1000).optional(),
});

/** Owner answers that are the caller's own doing and may be told to them. */
const RELAYED_STATUSES = new Set([400, 403, 404, 409, 422]);

export function upstreamUrl(upstream: string, target: UpstreamTarget): URL {
  const base = new URL(upstream);
  // A path that is not plainly absolute ("//host", "http:...") could name another origin.
  if (!target.path.startsWith('/') || target.path.startsWith('//')) throw new Error(`not an upstream path: ${target.path}`);
  const url = new URL(target.path, base.origin);
  if (url.origin !== base.origin) throw new Error(`upstream path leaves ${base.origin}`);
  for (const [name, value] of Object.entries(target.query ?? {})) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  return url;
}

const JSON_TYPE = /^application\/(problem\+)?json\b/;

/** JSON bytes as data, or undefined when they are not JSON. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The JSON in an owner's answer, or undefined when it is not JSON. */
export const jsonOf = (answer: UpstreamAnswer): unknown => (JSON_TYPE.test(answer.contentType) ? parseJson(answer.body) : undefined);

/** The resource version an owner's answer names (its ETag), if it names one. */
export function entityTagOf(answer: UpstreamAnswer): EntityTag | undefined {
  const etag = answer.headers.etag;
  return parseEntityTag(typeof etag === 'string' ? etag : undefined);
}

/** Sends JSON bytes (an owner's answer, forwarded) as they are: no serializer, no response schema check. */
export function sendJson(reply: FastifyReply, body: Buffer): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(body);
}

/** What undici throws when an owner took too long to connect, to answer or to finish answering. */
const TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

const badGateway = () => new ProblemError(502, 'upstream-failed', 'Bad Gateway', 'The service that owns this data failed. Try again.');

export const upstreamPlugin = fp(
  async (fastify: FastifyInstance, options: UpstreamOptions) => {
    // One keep-alive pool per owner's origin, for this app: enough connections that a burst of reads does not
    // queue behind one another. No interceptors: a redirect is answered as it is and never followed.
    const agent = new Agent({
      connections: options.connections ?? 128,
      connect: { timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    fastify.addHook('onClose', async () => {
      await agent.close();
    });

    fastify.decorate('readUpstream', async (upstream: string, target: UpstreamTarget, request: FastifyRequest): Promise<UpstreamAnswer> => {
      const url = upstreamUrl(upstream, target);
      const headers: Record<string, string> = {
        accept: 'application/json',
        'x-correlation-id': request.correlationId,
        traceparent: formatTraceparent(childTraceContext(request.traceContext)),
      };
      if (request.headers.authorization) headers.authorization = request.headers.authorization;
      try {
        // A redirect would carry the caller's token to wherever the owner points: undici.request never follows one.
        const response = await undiciRequest(url, { method: 'GET', headers, dispatcher: agent });
        const chunks: Buffer[] = [];
        for await (const chunk of response.body) chunks.push(chunk as Buffer);
        const contentType = response.headers['content-type'];
        return {
          status: response.statusCode,
          headers: response.headers,
          contentType: typeof contentType === 'string' ? contentType : '',
          body: chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks),
        };
      } catch (error) {
        const timedOut = error instanceof errors.UndiciError && TIMEOUTS.has(error.code);
        request.log.warn({ err: error, upstream: url.origin }, 'owning service did not answer');
        throw timedOut
          ? new ProblemError(504, 'upstream-timeout', 'Gateway Timeout', 'The service that owns this data did not answer in time. Try again.')
          : new ProblemError(503, 'upstream-unavailable', 'Service Unavailable', 'The service that owns this data is not reachable. Try again shortly.');
      }
    });

    fastify.decorate('forwardRead', async (upstream: string, target: UpstreamTarget, request: FastifyRequest, reply?: FastifyReply) => {
      const answer = await fastify.readUpstream(upstream, target, request);
      if (answer.status === 200 && /^application\/json\b/.test(answer.contentType)) {
        const version = entityTagOf(answer);
        if (reply && version) reply.header('etag', formatEntityTag(version));
        return answer.body;
      }
      if (RELAYED_STATUSES.has(answer.status)) {
        const problem = UpstreamProblem.safeParse(jsonOf(answer));
        if (problem.success) {
          const { type, title, detail } = problem.data;
          const slug = type?.startsWith(PROBLEM_TYPE_BASE) ? type.slice(PROBLEM_TYPE_BASE.length) : undefined;
          throw new ProblemError(answer.status, slug && /^[a-z0-9-]{1,64}$/.test(slug) ? slug : 'upstream-refused', title, detail);
        }
      }
      // A redirect, a non-JSON body, a server error: the owner's words never reach the caller.
      request.log.warn({ status: answer.status, contentType: answer.contentType, upstream: new URL(upstream).origin }, 'owning service answered unusably');
      throw badGateway();
    });
  },
  { name: '@postwire/gateway-upstream', dependencies: ['@postwire/trace-context'] },
);
