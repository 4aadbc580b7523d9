import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '@postwire/auth';

const Caller = z.object({
  userId: z.uuid().describe('The `sub` of the bearer token'),
  organisationId: z.uuid().describe('The organisation every request of this caller is scoped to'),
});

export const meRoutes: FastifyPluginAsyncZod = async (fastify) => {
  fastify.get(
    '/me',
    {
      schema: {
        tags: ['identity'],
        summary: 'Who the bearer token says you are',
        response: { 200: Caller },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return { userId: caller.userId, organisationId: caller.organisationId };
    },
  );
};
