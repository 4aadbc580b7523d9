import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  AccountCapabilities,
  AccountIdParams,
  AccountList,
  AccountListQuery,
  AccountResource,
  ExpiringAccounts,
  ExpiringAccountsQuery,
} from '@postwire/api';

export type AccountReadOptions = { readonly accountsUrl: string };

/** Connected accounts, read from the accounts service (which owns them). */
export const accountReadRoutes: FastifyPluginAsyncZod<AccountReadOptions> = async (fastify, { accountsUrl }) => {
  fastify.get(
    '/accounts',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Connected accounts of your organisation',
        description: '`status=active` lists the accounts that can publish now.',
        querystring: AccountListQuery,
        response: { 200: AccountList },
      },
    },
    (request, reply) => fastify.forwardRead(accountsUrl, request, reply) as Promise<never>,
  );

  fastify.get(
    '/accounts/expiring',
    { schema: { tags: ['accounts'], summary: 'Active accounts whose tokens expire soon', querystring: ExpiringAccountsQuery, response: { 200: ExpiringAccounts } } },
    (request, reply) => fastify.forwardRead(accountsUrl, request, reply) as Promise<never>,
  );

  fastify.get(
    '/accounts/:id',
    { schema: { tags: ['accounts'], summary: 'One connected account', params: AccountIdParams, response: { 200: AccountResource } } },
    (request, reply) => fastify.forwardRead(accountsUrl, request, reply) as Promise<never>,
  );

  fastify.get(
    '/accounts/:id/capabilities',
    { schema: { tags: ['accounts'], summary: 'What the account can publish now', params: AccountIdParams, response: { 200: AccountCapabilities } } },
    (request, reply) => fastify.forwardRead(accountsUrl, request, reply) as Promise<never>,
  );
};
