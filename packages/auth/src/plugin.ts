import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ProblemError } from '@postwire/service-kit';
import type { OrganisationOf } from './membership.ts';
import { AuthError, type Caller, type JwtVerifier, bearerToken } from './verifier.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticate`; routes behind it can rely on it. */
    caller: Caller | null;
  }
  interface FastifyInstance {
    /** onRequest hook: verifies the bearer token and sets `request.caller`, or answers 401/403. */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /**
     * Throws a 403 problem unless `userId` belongs to `organisationId` now (503 when that cannot be checked):
     * for a request whose identity came earlier, sealed, instead of with a bearer token (the connect callback).
     */
    requireMembership: (request: FastifyRequest, userId: string, organisationId: string) => Promise<void>;
  }
}

export type AuthPluginOptions = {
  readonly verify: JwtVerifier;
  /** The user's own organisation (see cachedOrganisationOf): a token naming another one is refused. */
  readonly organisationOf: OrganisationOf;
  readonly realm?: string;
};

export const authPlugin = fp(
  async (fastify: FastifyInstance, options: AuthPluginOptions) => {
    const realm = options.realm ?? 'postwire';
    fastify.decorateRequest('caller', null);
    async function checkMembership(request: FastifyRequest, userId: string, claimed: string, whose: string): Promise<void> {
      const organisationId = await options.organisationOf(userId).catch((error: unknown) => {
        request.log.error({ err: error }, 'membership lookup failed');
        throw new ProblemError(503, 'membership-unavailable', 'Service Unavailable', 'Your organisation could not be checked. Try again shortly.');
      });
      if (organisationId === null) throw new AuthError(403, 'forbidden', `${whose} user is not known here`);
      if (organisationId !== claimed) throw new AuthError(403, 'forbidden', `${whose} organisation is not the user's organisation`);
    }
    fastify.decorate('requireMembership', async (request: FastifyRequest, userId: string, organisationId: string) => {
      try {
        await checkMembership(request, userId, organisationId, 'this flow\'s');
      } catch (error) {
        if (error instanceof AuthError) throw new ProblemError(403, 'forbidden', 'Forbidden', error.message);
        throw error;
      }
    });
    fastify.decorate('authenticate', async (request: FastifyRequest, reply: FastifyReply) => {
      const header = request.headers.authorization;
      const token = bearerToken(header);
      try {
        if (!token) throw new AuthError(401, 'missing', header ? 'the Authorization header is not a Bearer token' : 'a Bearer token is required');
        const caller = await options.verify(token);
        await checkMembership(request, caller.userId, caller.organisationId, 'the token\'s');
        request.caller = caller;
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        // RFC 6750: a challenge on every 401, with the error code once a token was presented.
        if (error.status === 401) {
          const detail = error.challenge === 'invalid_token' ? `, error="invalid_token", error_description="${challengeText(error.message)}"` : '';
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

/** RFC 6750 §3: error_description allows printable ASCII except `"` and `\\`, so it always stays one quoted string. */
function challengeText(text: string): string {
  return text.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '');
}

/** The caller of a route behind `authenticate`. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new ProblemError(401, 'unauthorized', 'Unauthorized', 'a Bearer token is required');
  return request.caller;
}
