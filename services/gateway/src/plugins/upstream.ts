import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { PROBLEM_CONTENT_TYPE, ProblemError, childTraceContext, formatTraceparent } from '@postwire/service-kit';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * A GET to an owning service's read API on behalf of this request: the caller's bearer token (the
     * service verifies it again), the correlation id and a child of the request's trace. An owner that
     * does not answer is a 503 problem, a slow one a 504.
     */
    readUpstream: (upstream: string, path: string, request: FastifyRequest) => Promise<Response>;
    /** Reads go to the owning service's read API with the caller's identity (DESIGN.md rule 2). */
    forwardRead: (upstream: string, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  }
}

export type UpstreamOptions = { readonly timeoutMs: number };

/**
 * Forwarding keeps the path and query; a JSON answer is handed back as data so the route's response
 * schema checks it once more on the way out, and a problem answer passes through as it is.
 */
export const upstreamPlugin = fp(
  async (fastify: FastifyInstance, options: UpstreamOptions) => {
    fastify.decorate('readUpstream', async (upstream: string, path: string, request: FastifyRequest) => {
      const target = new URL(path, upstream);
      const headers: Record<string, string> = {
        accept: 'application/json',
        'x-correlation-id': request.correlationId,
        traceparent: formatTraceparent(childTraceContext(request.traceContext)),
      };
      if (request.headers.authorization) headers.authorization = request.headers.authorization;
      try {
        return await fetch(target, { headers, signal: AbortSignal.timeout(options.timeoutMs) });
      } catch (error) {
        const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
        request.log.warn({ err: error, upstream: target.origin }, 'owning service did not answer');
        throw timedOut
          ? new ProblemError(504, 'upstream-timeout', 'Gateway Timeout', 'The service that owns this data did not answer in time. Try again.')
          : new ProblemError(503, 'upstream-unavailable', 'Service Unavailable', 'The service that owns this data is not reachable. Try again shortly.');
      }
    });

    fastify.decorate('forwardRead', async (upstream: string, request: FastifyRequest, reply: FastifyReply) => {
      const response = await fastify.readUpstream(upstream, request.url, request);
      const contentType = response.headers.get('content-type') ?? '';
      const body = await response.text();
      reply.code(response.status);
      if (response.ok && contentType.startsWith('application/json')) return JSON.parse(body) as unknown;
      if (response.status >= 500) {
        request.log.warn({ status: response.status, upstream }, 'owning service failed');
        throw new ProblemError(502, 'upstream-failed', 'Bad Gateway', 'The service that owns this data failed. Try again.');
      }
      return reply.type(contentType || PROBLEM_CONTENT_TYPE).serializer((payload: unknown) => String(payload)).send(body);
    });
  },
  { name: '@postwire/gateway-upstream', dependencies: ['@postwire/trace-context'] },
);
