import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '@postwire/auth';
import { accountRequests } from '@postwire/contracts';
import { ProblemError, formatTraceparent } from '@postwire/service-kit';
import {
  AccountCapabilities,
  AccountIdParams,
  AccountList,
  AccountListQuery,
  AccountResource,
  ExpiringAccounts,
  ExpiringAccountsQuery,
} from '@postwire/api';
import { sendJson } from '../plugins/upstream.ts';
import { jsonResponse, locationHeader, problemResponses } from './problem-docs.ts';

const readProblems = problemResponses(502, 503, 504);

export type AccountReadOptions = { readonly accountsUrl: string };

/** Connected accounts, read from the accounts service (which owns them). */
export const accountReadRoutes: FastifyPluginAsyncZod<AccountReadOptions> = async (fastify, { accountsUrl }) => {
  fastify.get(
    '/accounts',
    {
      schema: {
        tags: ['accounts'],
        operationId: 'listAccounts',
        summary: 'Connected accounts of your organisation',
        description: 'Every Instagram account and Facebook Page your organisation connected, in any state. `status=active` lists the accounts that can publish now.',
        querystring: AccountListQuery,
        response: { 200: jsonResponse(AccountList, 'The accounts'), ...readProblems },
      },
    },
    async (request, reply) => sendJson(reply, await fastify.forwardRead(accountsUrl, { path: '/v1/accounts', query: request.query }, request)),
  );

  fastify.get(
    '/accounts/expiring',
    {
      schema: {
        tags: ['accounts'],
        operationId: 'listExpiringAccounts',
        summary: 'Active accounts whose tokens expire soon',
        description: 'Active accounts whose Meta token expires within `days` days: reconnect them before they stop publishing.',
        querystring: ExpiringAccountsQuery,
        response: { 200: jsonResponse(ExpiringAccounts, 'The accounts, soonest first'), ...readProblems },
      },
    },
    async (request, reply) => sendJson(reply, await fastify.forwardRead(accountsUrl, { path: '/v1/accounts/expiring', query: request.query }, request)),
  );

  fastify.get(
    '/accounts/:id',
    {
      schema: {
        tags: ['accounts'],
        operationId: 'getAccount',
        summary: 'One connected account',
        description: 'Its state, what it can publish and when its token expires; never the token.',
        params: AccountIdParams,
        response: { 200: jsonResponse(AccountResource, 'The account'), ...problemResponses(404), ...readProblems },
      },
    },
    async (request, reply) => sendJson(reply, await fastify.forwardRead(accountsUrl, { path: `/v1/accounts/${request.params.id}` }, request)),
  );

  fastify.get(
    '/accounts/:id/capabilities',
    {
      schema: {
        tags: ['accounts'],
        operationId: 'getAccountCapabilities',
        summary: 'What the account can publish now',
        description: 'Feed posts, stories and reels, as the granted permissions and the account type allow, and whether it is active.',
        params: AccountIdParams,
        response: { 200: jsonResponse(AccountCapabilities, 'What it can publish'), ...problemResponses(404), ...readProblems },
      },
    },
    async (request, reply) => sendJson(reply, await fastify.forwardRead(accountsUrl, { path: `/v1/accounts/${request.params.id}/capabilities` }, request)),
  );

  fastify.delete(
    '/accounts/:id',
    {
      schema: {
        tags: ['accounts'],
        operationId: 'deleteAccount',
        summary: 'Disconnect an account, or delete it with its posts',
        description:
          'Accepted at once (202); the accounts service erases the token and announces `account.disconnected`, which cancels ' +
          'queued posts. `mode=delete` also removes the account and its posts. Follow the Location to see the result.',
        params: AccountIdParams,
        querystring: z.object({
          mode: z.enum(['disconnect', 'delete']).default('disconnect'),
          revokeOnPlatform: z.stringbool().default(false).describe('Also revoke the app permissions at Meta'),
        }),
        response: {
          202: jsonResponse(
            z
              .object({ status: z.literal('accepted'), accountId: z.uuid(), mode: z.enum(['disconnect', 'delete']) })
              .meta({ examples: [{ status: 'accepted', accountId: '2c6f0e4a-9b1d-4f3e-a7c5-6d8e9f0a1b2c', mode: 'disconnect' }] }),
            'Accepted: the accounts service disconnects (or deletes) it shortly',
            locationHeader('The account: /v1/accounts/{id}'),
          ),
          ...problemResponses(404),
          ...readProblems,
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { id } = request.params;
      // Only an account the caller can see may be disconnected: ask its owner first.
      const visible = await fastify.readUpstream(accountsUrl, { path: `/v1/accounts/${id}` }, request);
      if (visible.status === 404) throw new ProblemError(404, 'account-not-found', 'Account not found', `No account ${id} in your organisation.`);
      if (visible.status === 401 || visible.status === 403) {
        throw new ProblemError(visible.status, visible.status === 401 ? 'unauthorized' : 'forbidden', visible.status === 401 ? 'Unauthorized' : 'Forbidden', 'The accounts service refused this caller.');
      }
      if (visible.status !== 200) throw new ProblemError(502, 'upstream-failed', 'Bad Gateway', 'The accounts service failed. Try again.');
      await fastify.kafka.producer.publish(accountRequests, [
        {
          type: 'account.disconnect-requested',
          data: { socialAccountId: id, mode: request.query.mode, revokeOnPlatform: request.query.revokeOnPlatform },
          metadata: {
            organisationId: caller.organisationId,
            actorId: caller.userId,
            correlationId: request.correlationId,
            traceparent: formatTraceparent(request.traceContext),
          },
        },
      ]);
      request.log.info({ accountId: id, mode: request.query.mode }, 'disconnect requested');
      return reply.code(202).header('location', `/v1/accounts/${id}`).send({ status: 'accepted', accountId: id, mode: request.query.mode });
    },
  );
};
