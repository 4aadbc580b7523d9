import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { ProblemError, childTraceContext, formatTraceparent } from '@postwire/service-kit';
import { formatEntityTag, parseEntityTag } from '../domain/entity-tags.ts';

/** Where a read goes on the owning service: a path the route built from its validated parameters. */
export type UpstreamTarget = {
  readonly path: string;
  /** The route's validated query; undefined values are left out. */
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
};

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * A GET to an owning service's read API on behalf of this request: the caller's bearer token (the
     * service verifies it again), the correlation id and a child of the request's trace. Only the
     * configured upstream's origin is ever called, and redirects are never followed. An owner that
     * does not answer is a 503 problem, a slow one a 504.
     */
    readUpstream: (upstream: string, target: UpstreamTarget, request: FastifyRequest) => Promise<Response>;
    /**
     * Reads go to the owning service's read API with the caller's identity (DESIGN.md rule 2). A JSON
     * answer is handed back as data, so the route's response schema checks it once more on the way out;
     * an owner's problem is re-issued as the gateway's own problem; anything else is a 502. With `reply`, the
     * owner's ETag (a resource version it names) becomes the answer's.
     */
    forwardRead: (upstream: string, target: UpstreamTarget, request: FastifyRequest, reply?: FastifyReply) => Promise<unknown>;
  }
}

export type UpstreamOptions = { readonly timeoutMs: number };

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

const badGateway = () => new ProblemError(502, 'upstream-failed', 'Bad Gateway', 'The service that owns this data failed. Try again.');

export const upstreamPlugin = fp(
  async (fastify: FastifyInstance, options: UpstreamOptions) => {
    fastify.decorate('readUpstream', async (upstream: string, target: UpstreamTarget, request: FastifyRequest) => {
      const url = upstreamUrl(upstream, target);
      const headers: Record<string, string> = {
        accept: 'application/json',
        'x-correlation-id': request.correlationId,
        traceparent: formatTraceparent(childTraceContext(request.traceContext)),
      };
      if (request.headers.authorization) headers.authorization = request.headers.authorization;
      try {
        // A redirect would carry the caller's token to wherever the owner points: never follow one.
        return await fetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs) });
      } catch (error) {
        const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
        request.log.warn({ err: error, upstream: url.origin }, 'owning service did not answer');
        throw timedOut
          ? new ProblemError(504, 'upstream-timeout', 'Gateway Timeout', 'The service that owns this data did not answer in time. Try again.')
          : new ProblemError(503, 'upstream-unavailable', 'Service Unavailable', 'The service that owns this data is not reachable. Try again shortly.');
      }
    });

    fastify.decorate('forwardRead', async (upstream: string, target: UpstreamTarget, request: FastifyRequest, reply?: FastifyReply) => {
      const response = await fastify.readUpstream(upstream, target, request);
      const contentType = response.headers.get('content-type') ?? '';
      const json = /^application\/(problem\+)?json\b/.test(contentType);
      const body = json ? await response.json().catch(() => undefined) : await response.body?.cancel();
      if (response.status === 200 && json && body !== undefined) {
        const version = parseEntityTag(response.headers.get('etag'));
        if (reply && version) reply.header('etag', formatEntityTag(version));
        return body;
      }
      if (RELAYED_STATUSES.has(response.status) && json) {
        const problem = UpstreamProblem.safeParse(body);
        if (problem.success) {
          const { type, title, detail } = problem.data;
          const slug = type?.startsWith(PROBLEM_TYPE_BASE) ? type.slice(PROBLEM_TYPE_BASE.length) : undefined;
          throw new ProblemError(response.status, slug && /^[a-z0-9-]{1,64}$/.test(slug) ? slug : 'upstream-refused', title, detail);
        }
      }
      // A redirect, a non-JSON body, a server error: the owner's words never reach the caller.
      request.log.warn({ status: response.status, contentType, upstream: new URL(upstream).origin }, 'owning service answered unusably');
      throw badGateway();
    });
  },
  { name: '@postwire/gateway-upstream', dependencies: ['@postwire/trace-context'] },
);
