import { randomFillSync } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** W3C Trace Context: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`. */
export type TraceContext = { readonly traceId: string; readonly parentId: string; readonly flags: string };

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function parseTraceparent(header: string | undefined): TraceContext | undefined {
  const match = header ? TRACEPARENT.exec(header.trim().toLowerCase()) : null;
  if (!match) return undefined;
  const [, traceId = '', parentId = '', flags = ''] = match;
  if (/^0+$/.test(traceId) || /^0+$/.test(parentId)) return undefined;
  return { traceId, parentId, flags };
}

// Ids are cut from a block of random bytes drawn 4 KiB at a time: a request takes two or three ids, and a
// draw per id (randomBytes: a buffer and a call into OpenSSL each) was ~2 % of the gateway's CPU under load.
const randomBlock = Buffer.allocUnsafe(4096);
let randomOffset = randomBlock.length;
function randomHex(bytes: number): string {
  if (randomOffset + bytes > randomBlock.length) {
    randomFillSync(randomBlock);
    randomOffset = 0;
  }
  randomOffset += bytes;
  return randomBlock.toString('hex', randomOffset - bytes, randomOffset);
}

/** The context for work done on behalf of `parent`: same trace, a new span of ours. */
export function childTraceContext(parent?: TraceContext): TraceContext {
  return {
    traceId: parent?.traceId ?? randomHex(16),
    parentId: randomHex(8),
    flags: parent?.flags ?? '01',
  };
}

export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.parentId}-${context.flags}`;
}

declare module 'fastify' {
  interface FastifyRequest {
    traceContext: TraceContext;
    correlationId: string;
  }
}

const CORRELATION_HEADER = 'x-correlation-id';
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Every request joins the caller's trace (or starts one) and carries a correlation id: the caller's
 * `X-Correlation-Id` when it is well-formed, else the trace id. Both go into every log line of the
 * request and back to the caller, and onward on every event the request causes.
 */
export const traceContextPlugin = fp(
  async (fastify: FastifyInstance) => {
    // Worked out once per raw request: when Fastify makes the request's logger (so its own "incoming request"
    // and "request completed" lines carry the ids too) and in onRequest, whichever comes first.
    const contexts = new WeakMap<IncomingMessage, { readonly traceContext: TraceContext; readonly correlationId: string }>();
    const contextOf = (raw: IncomingMessage) => {
      let context = contexts.get(raw);
      if (!context) {
        const header = raw.headers.traceparent;
        const traceContext = childTraceContext(parseTraceparent(Array.isArray(header) ? header[0] : header));
        const offered = raw.headers[CORRELATION_HEADER];
        const correlationId = typeof offered === 'string' && CORRELATION_ID.test(offered) ? offered : traceContext.traceId;
        context = { traceContext, correlationId };
        contexts.set(raw, context);
      }
      return context;
    };
    fastify.setChildLoggerFactory((logger, bindings, options, raw) => {
      const { traceContext, correlationId } = contextOf(raw);
      return logger.child({ ...bindings, correlationId, traceId: traceContext.traceId }, options);
    });
    fastify.decorateRequest('traceContext', null as unknown as TraceContext);
    fastify.decorateRequest('correlationId', '');
    fastify.addHook('onRequest', async (request, reply) => {
      const { traceContext, correlationId } = contextOf(request.raw);
      request.traceContext = traceContext;
      request.correlationId = correlationId;
      reply.header(CORRELATION_HEADER, correlationId);
      reply.header('traceparent', formatTraceparent(traceContext));
    });
  },
  { name: '@postwire/trace-context' },
);
