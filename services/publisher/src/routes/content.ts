import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { UnpostedContent, UnpostedContentQuery } from '@postwire/api';
import { callerOf } from '@postwire/auth';
import { asCaller } from './posts.ts';

/** The host's content as the publisher sees it: what has not been posted yet (the seed's example query 5). */
export const contentRoutes: FastifyPluginAsyncZod = async (fastify) => {
  fastify.addHook('onRequest', fastify.authenticate);

  fastify.get(
    '/content/unposted',
    {
      schema: {
        tags: ['content'],
        summary: "Your organisation's finished videos not posted to social media yet, newest first",
        querystring: UnpostedContentQuery,
        response: { 200: UnpostedContent },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return asCaller(fastify.db, caller, (reads) => reads.unposted(caller.organisationId, request.query));
    },
  );
};
