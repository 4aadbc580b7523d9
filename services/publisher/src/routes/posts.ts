import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { PostIdParams, PostList, PostListQuery, PostResource } from '@postwire/api';
import { type Caller, callerOf } from '@postwire/auth';
import { withCallerClaims } from '@postwire/db';
import { ProblemError } from '@postwire/service-kit';
import { InvalidCursorError, createPostReads } from '../db/read-queries.ts';

/** Runs reads as publisher_app with the caller's claims, so RLS has the last word; a foreign cursor is a 400. */
export async function asCaller<T>(pool: Parameters<typeof withCallerClaims>[0], caller: Caller, work: (reads: ReturnType<typeof createPostReads>) => Promise<T>): Promise<T> {
  try {
    return await withCallerClaims(pool, { sub: caller.userId, organisationId: caller.organisationId }, (connection) => work(createPostReads(connection)));
  } catch (error) {
    if (error instanceof InvalidCursorError) throw new ProblemError(400, 'invalid-cursor', 'Bad Request', error.message);
    throw error;
  }
}

/**
 * The publisher's posts read API. The gateway forwards the caller's bearer token; it is verified again here, and
 * every query runs as publisher_app with the caller's claims.
 */
export const postRoutes: FastifyPluginAsyncZod = async (fastify) => {
  fastify.addHook('onRequest', fastify.authenticate);

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
    async (request) => {
      const caller = callerOf(request);
      return asCaller(fastify.db, caller, (reads) => reads.list(caller.organisationId, request.query));
    },
  );

  fastify.get(
    '/posts/:postId',
    { schema: { tags: ['posts'], summary: 'One post', params: PostIdParams, response: { 200: PostResource } } },
    async (request, reply) => {
      const caller = callerOf(request);
      const found = await asCaller(fastify.db, caller, (reads) => reads.get(caller.organisationId, request.params.postId));
      if (!found) throw new ProblemError(404, 'post-not-found', 'Post not found', `No post ${request.params.postId} in your organisation.`);
      // The post's version as a strong ETag: the gateway answers it, and checks If-Match against it.
      return reply.header('etag', `"${found.version}"`).send(found.post);
    },
  );
};
