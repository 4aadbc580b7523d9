import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { type EntityTag, formatEntityTag, noneMatchHolds, parseEntityTag, parseTagCondition, representationTag } from '../domain/entity-tags.ts';
import type { HeaderDoc } from '../routes/problem-docs.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set on the JSON reads this plugin validates: their 200s carry an ETag and honour If-None-Match. */
    readonly entityTagged?: boolean;
  }
  interface FastifyReply {
    /** Names the current version of the resource this answer is about (its ETag), instead of a hash of its bytes. */
    versionedBy: (tag: EntityTag) => FastifyReply;
  }
}

/** API answers are the caller's own and change: a cache may keep one but must ask again before reusing it. */
export const API_CACHE_CONTROL = 'private, no-cache';

export const ETAG_HEADER: Record<string, HeaderDoc> = {
  ETag: { type: 'string', description: 'A strong validator of this answer: send it back in If-None-Match (or If-Match on a change)' },
  'Cache-Control': { type: 'string', description: '`private, no-cache`: a cache may keep the answer but must revalidate it (If-None-Match) first' },
};

const IF_NONE_MATCH = z
  .string()
  .max(4096)
  .optional()
  .describe('ETags of answers you hold (or `*`): when one still matches (weak comparison), the answer is 304 without a body');

const NOT_MODIFIED = {
  description: 'Not Modified: the ETag you sent in If-None-Match still names the current answer; reuse yours',
  headers: { ETag: ETAG_HEADER.ETag, 'Cache-Control': ETAG_HEADER['Cache-Control'] },
  content: {},
};

type DocumentedResponse = { headers?: Record<string, HeaderDoc>; content?: Record<string, unknown> };

/** A read whose 200 is JSON: validated by its bytes (or the version its route names). */
function isJsonRead(route: RouteOptions): boolean {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const ok = (route.schema?.response as Record<string, DocumentedResponse> | undefined)?.[200];
  return methods.includes('GET') && ok?.content?.['application/json'] !== undefined;
}

/**
 * Conditional reads (RFC 9110 §13): every JSON read in this scope answers its 200 with a strong ETag (the
 * version its route names with `reply.versionedBy`, else a hash of the exact bytes) and `Cache-Control:
 * private, no-cache`; an If-None-Match that still matches answers 304 without a body. The routes' documents
 * gain the header, the 304 and the ETag, so what is documented is what happens.
 */
export const conditionalReadsPlugin = fp(
  async (fastify: FastifyInstance) => {
    fastify.decorateReply('versionedBy', function (this: FastifyReply, tag: EntityTag) {
      return this.header('etag', formatEntityTag(tag));
    });

    fastify.addHook('onRoute', (route) => {
      if (!isJsonRead(route) || !route.schema) return;
      route.config = { ...route.config, entityTagged: true };
      const headers = route.schema.headers as z.ZodObject | undefined;
      route.schema.headers = (headers ?? z.object({})).extend({ 'if-none-match': IF_NONE_MATCH });
      const responses = route.schema.response as Record<string, DocumentedResponse>;
      const ok = responses[200] ?? {};
      route.schema.response = { ...responses, 200: { ...ok, headers: { ...ok.headers, ...ETAG_HEADER } }, 304: NOT_MODIFIED };
    });

    fastify.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload?: unknown) => void) => {
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', API_CACHE_CONTROL);
      if (!request.routeOptions.config.entityTagged || reply.statusCode !== 200 || (typeof payload !== 'string' && !Buffer.isBuffer(payload))) return done(null);
      const named = parseEntityTag(reply.getHeader('etag') as string | undefined);
      const current = named ?? representationTag(payload);
      if (!named) reply.header('etag', formatEntityTag(current));
      const condition = parseTagCondition(request.headers['if-none-match']);
      // A malformed If-None-Match is no condition at all: the full answer is always a safe one.
      if (!condition.ok || condition.condition === undefined || noneMatchHolds(condition.condition, current)) return done(null);
      reply.code(304).removeHeader('content-type').removeHeader('content-length');
      done(null, null);
    });
  },
  { name: '@postwire/gateway-conditional-reads' },
);
