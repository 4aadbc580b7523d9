import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { PostIdParams, PostList, PostListQuery, PostResource } from '@postwire/api';
import { type Caller, callerOf } from '@postwire/auth';
import { type CallerClaims, withCallerClaims } from '@postwire/db';
import { ProblemError } from '@postwire/service-kit';
import { InvalidCursorError, createPostPages, createPostReads } from '../db/read-queries.ts';

const claimsOf = (caller: Caller): CallerClaims => ({ sub: caller.userId, organisationId: caller.organisationId });

/** A cursor this API did not hand out is the caller's mistake: a 400. */
function refuseForeignCursor(error: unknown): never {
  if (error instanceof InvalidCursorError) throw new ProblemError(400, 'invalid-cursor', 'Bad Request', error.message);
  throw error;
}

/** Runs reads as publisher_app with the caller's claims, so RLS has the last word; a foreign cursor is a 400. */
export async function asCaller<T>(pool: Parameters<typeof withCallerClaims>[0], caller: Caller, work: (reads: ReturnType<typeof createPostReads>) => Promise<T>): Promise<T> {
  return withCallerClaims(pool, claimsOf(caller), (connection) => work(createPostReads(connection))).catch(refuseForeignCursor);
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The publisher's posts read API. The gateway forwards the caller's bearer token; it is verified again here, and
 * every query runs as publisher_app with the caller's claims. Posts come from the database as the API's JSON and
 * are sent as they are: the response schemas document them, and the read API's tests check them against it.
 */
export const postRoutes: FastifyPluginAsyncZod = async (fastify) => {
  fastify.addHook('onRequest', fastify.authenticate);
  const pages = createPostPages(fastify.db);

  fastify.get(
    '/posts',
    {
      schema: {
        tags: ['posts'],
        summary: "Your organisation's posts, by their time (scheduled, or published), then id",
        description: 'Deleted posts are listed only when `status` names them. `from`/`to` apply to scheduled_for, or published_at for published posts.',
        querystring: PostListQuery,
        response: { 200: PostList },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const page = await pages.list(claimsOf(caller), request.query).catch(refuseForeignCursor);
      return reply.type(JSON_TYPE).send(page as never);
    },
  );

  fastify.get(
    '/posts/:postId',
    { schema: { tags: ['posts'], summary: 'One post', params: PostIdParams, response: { 200: PostResource } } },
    async (request, reply) => {
      const found = await pages.get(claimsOf(callerOf(request)), request.params.postId);
      if (!found) throw new ProblemError(404, 'post-not-found', 'Post not found', `No post ${request.params.postId} in your organisation.`);
      // The post's version as a strong ETag: the gateway answers it, and checks If-Match against it.
      return reply.header('etag', `"${found.version}"`).type(JSON_TYPE).send(found.post as never);
    },
  );
};
