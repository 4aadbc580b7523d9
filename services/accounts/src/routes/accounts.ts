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
import { type Caller, callerOf } from '@postwire/auth';
import { type DatabaseTransactionConnection, withCallerClaims } from '@postwire/db';
import { ProblemError } from '@postwire/service-kit';
import { createAccountReads } from '../db/read-queries.ts';

/**
 * The accounts read API. The gateway forwards the caller's bearer token; it is verified again here,
 * and every query runs as accounts_app with the caller's claims, so RLS has the last word.
 */
export const accountRoutes: FastifyPluginAsyncZod = async (fastify) => {
  fastify.addHook('onRequest', fastify.authenticate);

  const asCaller = <T>(caller: Caller, work: (reads: ReturnType<typeof createAccountReads>, connection: DatabaseTransactionConnection) => Promise<T>) =>
    withCallerClaims(fastify.db, { sub: caller.userId, organisationId: caller.organisationId }, (connection) =>
      work(createAccountReads(connection), connection),
    );

  const notFound = (id: string) => new ProblemError(404, 'account-not-found', 'Account not found', `No account ${id} in your organisation.`);

  fastify.get(
    '/accounts',
    { schema: { tags: ['accounts'], summary: 'Connected accounts of your organisation', querystring: AccountListQuery, response: { 200: AccountList } } },
    async (request) => {
      const caller = callerOf(request);
      return { data: await asCaller(caller, (reads) => reads.list(caller.organisationId, request.query)) };
    },
  );

  fastify.get(
    '/accounts/expiring',
    { schema: { tags: ['accounts'], summary: 'Active accounts whose tokens expire soon', querystring: ExpiringAccountsQuery, response: { 200: ExpiringAccounts } } },
    async (request) => {
      const caller = callerOf(request);
      return { data: await asCaller(caller, (reads) => reads.expiring(caller.organisationId, request.query.days)) };
    },
  );

  fastify.get(
    '/accounts/:id',
    { schema: { tags: ['accounts'], summary: 'One connected account', params: AccountIdParams, response: { 200: AccountResource } } },
    async (request) => {
      const caller = callerOf(request);
      const account = await asCaller(caller, (reads) => reads.get(caller.organisationId, request.params.id));
      if (!account) throw notFound(request.params.id);
      return account;
    },
  );

  fastify.get(
    '/accounts/:id/capabilities',
    { schema: { tags: ['accounts'], summary: 'What the account can publish now', params: AccountIdParams, response: { 200: AccountCapabilities } } },
    async (request) => {
      const caller = callerOf(request);
      const capabilities = await asCaller(caller, (reads) => reads.capabilities(caller.organisationId, request.params.id));
      if (!capabilities) throw notFound(request.params.id);
      return {
        accountId: request.params.id,
        canPostFeed: capabilities.can_post_feed ?? false,
        canPostStories: capabilities.can_post_stories ?? false,
        canPostReels: capabilities.can_post_reels ?? false,
        isActive: capabilities.is_active,
      };
    },
  );
};
