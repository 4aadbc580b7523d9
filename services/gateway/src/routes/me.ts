import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '@postwire/auth';
import { jsonResponse } from './problem-docs.ts';

const Caller = z
  .object({
    userId: z.uuid().describe('The `sub` of the bearer token'),
    organisationId: z.uuid().describe('The organisation every request of this caller is scoped to'),
  })
  .meta({ examples: [{ userId: '7a1d9e3c-2b4f-4e6a-8c0d-1e2f3a4b5c6d', organisationId: '4f9c2b1e-7d3a-4c5b-9e8f-0a1b2c3d4e5f' }] });

export const meRoutes: FastifyPluginAsyncZod = async (fastify) => {
  fastify.get(
    '/me',
    {
      schema: {
        tags: ['identity'],
        operationId: 'getMe',
        summary: 'Who the bearer token says you are',
        description: 'The user and organisation the bearer token names, once the organisation is checked to be the user\'s own.',
        response: { 200: jsonResponse(Caller, 'The caller') },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return { userId: caller.userId, organisationId: caller.organisationId };
    },
  );
};
