import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ProblemError } from '@postwire/service-kit';
import { AuthError, type Caller, type JwtVerifier, bearerToken } from './verifier.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticate`; routes behind it can rely on it. */
    caller: Caller | null;
  }
  interface FastifyInstance {
    /** onRequest hook: verifies the bearer token and sets `request.caller`, or answers 401/403. */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

export type AuthPluginOptions = { readonly verify: JwtVerifier; readonly realm?: string };

export const authPlugin = fp(
  async (fastify: FastifyInstance, options: AuthPluginOptions) => {
    const realm = options.realm ?? 'postwire';
    fastify.decorateRequest('caller', null);
    fastify.decorate('authenticate', async (request: FastifyRequest, reply: FastifyReply) => {
      const header = request.headers.authorization;
      const token = bearerToken(header);
      try {
        if (!token) throw new AuthError(401, 'missing', header ? 'the Authorization header is not a Bearer token' : 'a Bearer token is required');
        request.caller = await options.verify(token);
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        // RFC 6750: a challenge on every 401, with the error code once a token was presented.
        if (error.status === 401) {
          const detail = error.challenge === 'invalid_token' ? `, error="invalid_token", error_description="${error.message}"` : '';
          reply.header('www-authenticate', `Bearer realm="${realm}"${detail}`);
          throw new ProblemError(401, 'unauthorized', 'Unauthorized', error.message);
        }
        throw new ProblemError(403, 'forbidden', 'Forbidden', error.message);
      }
      request.log = request.log.child({ userId: request.caller.userId, organisationId: request.caller.organisationId });
    });
  },
  { name: '@postwire/auth', dependencies: ['@postwire/problem'] },
);

/** The caller of a route behind `authenticate`. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new ProblemError(401, 'unauthorized', 'Unauthorized', 'a Bearer token is required');
  return request.caller;
}
