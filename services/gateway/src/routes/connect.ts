import oauth2, { type OAuth2Namespace } from '@fastify/oauth2';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '@postwire/auth';
import { EncryptedSecret, type IncomingEvent, type accountEvents, accountRequests, derivedAccountId } from '@postwire/contracts';
import { type TokenCipher, eventFieldContext } from '@postwire/crypto';
import {
  type GraphClient,
  type GraphErrorClassification,
  classifyGraphError,
  graphErrorFromOAuthFailure,
  instagramCodeGrantFromAnswer,
  isGraphError,
  oauthEndpoints,
  tokenGrantFromAnswer,
} from '@postwire/graph';
import { ProblemError, formatTraceparent, sendProblem } from '@postwire/service-kit';
import { randomUUID } from 'node:crypto';
import { OUTCOME_PARAMETERS, checkReturnTo, returnToRefusal, returnToWithOutcome } from '../domain/connect-return.ts';
import {
  CONNECT_ATTEMPT_TTL_MS,
  CONNECT_SESSION_TTL_MS,
  type ConnectResultRecord,
  type ConnectSession,
  PROVIDERS,
  type Provider,
  codeChallengeOf,
  createNonceLedger,
  newConnectSession,
  openConnectAttempt,
  openConnectResult,
  openConnectSession,
  sealConnectAttempt,
  sealConnectResult,
  sealConnectSession,
} from '../domain/connect-session.ts';
import { CONNECT_TICKET_TTL_MS, PAGE_CONNECT_TICKET_TTL_MS, issueConnectTicket } from '../domain/connect-ticket.ts';
import { REQUESTED_SCOPES, SUPPORTS_PKCE } from '../domain/scopes.ts';
import { type ConnectPage, PAGE_CONTENT_SECURITY_POLICY, type PageLinks, renderConnectResult } from './connect-page.ts';
import { type HeaderDoc, jsonResponse, locationHeader, problemResponse, problemResponses } from './problem-docs.ts';

export type ConnectRouteOptions = {
  readonly graph: GraphClient;
  readonly cipher: TokenCipher;
  readonly publicUrl: string;
  /** How long the callback waits for the accounts service to say what it connected. */
  readonly answerTimeoutMs: number;
  /** How long a completed callback's result is shown again on a reload, in the browser that completed it. */
  readonly resultTtlMs: number;
  /** The web apps a flow may return to: returnTo's origin must be one of them. */
  readonly webOrigins: readonly string[];
  readonly now?: () => number;
};

/** Answers for several accounts travel on several partitions: after the first, wait this long for the rest. */
const ANSWER_SETTLE_MS = 400;

const COOKIE = 'pw_connect';
/** Binds a connect still in progress to the browser that started it, so only it can see the outcome. */
const ATTEMPT_COOKIE = 'pw_connect_attempt';
/** How a completed callback ended, so that a reload in the same browser shows it again. */
const RESULT_COOKIE = 'pw_connect_result';
/**
 * @fastify/oauth2 keeps the state and the PKCE verifier in cookies of its own. Here both live in the sealed
 * `pw_connect` cookie instead (bound to the organisation and user, single use), so the plugin's cookies are
 * cleared at start and its verifier cookie is filled from the sealed session at the callback.
 */
const PLUGIN_STATE_COOKIE = 'pw_connect_state';
const PLUGIN_VERIFIER_COOKIE = 'pw_connect_pkce';
const Params = z.object({ provider: z.enum(PROVIDERS) });

/** A connect route answers a browser with a page and a client that asks for JSON with JSON. */
const PAGE_OR_JSON = { produces: ['text/html', 'application/json'] };

/** What a connect ended with, as JSON (`Accept: application/json`); a browser gets it as a page. */
const ConnectOutcome = z
  .object({
    outcome: z.enum(['connected', 'authorized']).describe('connected: done; authorized: access granted, accounts still being connected'),
    provider: z.enum(PROVIDERS),
    message: z.string().describe('What happened, in words a person can act on'),
    socialAccountId: z.uuid().optional(),
    grantedScopes: z.array(z.string()).optional().describe('The permissions granted on the consent screen'),
    accounts: z.array(z.object({ id: z.uuid(), platform: z.string(), accountType: z.string().nullable(), username: z.string().nullable() })),
    failures: z.array(z.object({ accountId: z.uuid(), message: z.string(), missingScopes: z.array(z.string()) })),
    statusUrl: z.string().optional().describe('Still connecting: where the outcome will be (also the Location)'),
  })
  .meta({
    examples: [
      {
        outcome: 'connected',
        provider: 'facebook',
        message: 'Connected 1 account.',
        accounts: [{ id: '2c6f0e4a-9b1d-4f3e-a7c5-6d8e9f0a1b2c', platform: 'instagram', accountType: 'business', username: 'postwire.studio' }],
        failures: [],
      },
    ],
  });

/** An outcome as a page (for a browser) or JSON; errors are problems as JSON. */
const pageOrJson = (description: string, headers?: Readonly<Record<string, HeaderDoc>>) => ({
  ...jsonResponse(ConnectOutcome, description, headers),
  content: { 'application/json': { schema: ConnectOutcome }, 'text/html': { schema: z.string().describe('The result page') } },
});
const STILL_CONNECTING_HEADERS: Record<string, HeaderDoc> = {
  ...locationHeader('Where the outcome will be: /v1/connect/{provider}/attempts/{attemptId}'),
  'Retry-After': { type: 'integer', description: 'Seconds before looking again' },
};
const CONNECT_PROBLEMS = {
  ...problemResponses(502),
  422: problemResponse(422, 'Nothing was connected (`permission-missing`: a permission was not granted, `errors` name each; `connect-failed` otherwise)'),
  504: problemResponse(504, 'Postwire did not hear back about this connection in time (`connect-timeout`): look at the account list'),
};
/** A still-connecting page looks again after this many seconds. */
const REFRESH_SECONDS = 3;
/**
 * The accounts service retries a failing request and then answers with account.connection-failed;
 * after this long without any answer the page stops waiting and says what to do.
 */
const GIVE_UP_AFTER_MS = 2 * 60 * 1000;

/** A Meta short-lived Instagram Login token lives one hour (reference §1). */
const INSTAGRAM_SHORT_LIVED_SECONDS = 3600;

/**
 * OAuth connect flows for Facebook Login (Pages and the Instagram accounts linked to them) and
 * Instagram Login, on @fastify/oauth2 (one instance per provider, its endpoints from the Graph settings:
 * the sandbox or Meta). `start` binds a state nonce, the caller's organisation and a PKCE verifier into
 * a sealed, HttpOnly cookie and sends the browser to the plugin's authorization URL; `callback` checks
 * that Meta returned to the same browser with that state, lets the plugin exchange the code (a form
 * POST), and hands the encrypted short-lived token to the accounts service as `account.authorized`.
 */
export const connectRoutes: FastifyPluginAsyncZod<ConnectRouteOptions> = async (fastify, options) => {
  const now = options.now ?? Date.now;
  const ledger = createNonceLedger();
  const redirectUri = (provider: Provider) => `${options.publicUrl}/v1/connect/${provider}/callback`;
  /** The start URL that carries a new ticket for a flow like this one, and when the ticket expires. */
  const ticketUrl = (provider: Provider, flow: Flow & Who, ttlMs: number) => {
    const { ticket, sealed } = issueConnectTicket(options.cipher, { provider, ...flowOf(flow), userId: flow.userId, organisationId: flow.organisationId, now: now(), ttlMs });
    const url = new URL(`${options.publicUrl}/v1/connect/${provider}/start`);
    url.searchParams.set('ticket', sealed);
    return { url: url.href, expiresAt: ticket.expiresAt };
  };
  /** A page's "Start again": a flow like this one for the same user, opened in a plain browser by its ticket; none when who started it is not known. */
  const startAgainUrl = (provider: Provider, flow: Flow & Partial<Who>) =>
    flow.userId && flow.organisationId ? ticketUrl(provider, { ...flow, userId: flow.userId, organisationId: flow.organisationId }, PAGE_CONNECT_TICKET_TTL_MS).url : undefined;
  /** A start's returnTo, absolute and on a configured web origin, or a 400 problem: never an open redirect. */
  const checkedReturnTo = (value: string | undefined, location: 'querystring' | 'body' = 'querystring'): string | undefined => {
    if (value === undefined) return undefined;
    const checked = checkReturnTo(value, options.webOrigins);
    if (checked.ok) return checked.url;
    const detail = returnToRefusal(checked.reason);
    throw new ProblemError(400, 'return-to-not-allowed', 'returnTo is not allowed', detail, {
      reason: checked.reason,
      errors: [{ location, field: 'returnTo', code: 'return-to-not-allowed', message: detail }],
    });
  };
  const cookie = {
    path: '/v1/connect',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: options.publicUrl.startsWith('https://'),
  };

  // A browser (Accept: text/html) that lands here, from Meta or a status page, gets a readable page, not raw JSON.
  fastify.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown }, request, reply) => {
    if (!request.headers.accept?.includes('text/html') || !wantsPage(request)) throw error;
    const status = error instanceof ProblemError ? error.status : error.validation ? 400 : (error.statusCode ?? 500);
    if (status >= 500) request.log.error({ err: error }, 'connect flow failed');
    else request.log.info({ status, err: error }, 'connect flow refused');
    const provider = PROVIDERS.find((name) => request.url.startsWith(`/v1/connect/${name}/`)) ?? 'facebook';
    // A problem's detail is written for the user; any other server error's message is not.
    const message =
      error instanceof ProblemError || status < 500
        ? error.message
        : 'Something went wrong on our side and nothing was connected. Start again from "Connect accounts".';
    // Who this browser is is not known here: the page says what happened, the web app starts again.
    return sendPage(reply, status, { outcome: 'failed', provider, message }, {});
  });
  // The state of a flow being started, handed to the plugin's generateStateFunction.
  const startingState = new WeakMap<FastifyRequest, string>();
  const settings = options.graph.settings;
  const oauth = {} as Record<Provider, OAuth2Namespace>;
  for (const provider of PROVIDERS) {
    const name = `${provider}OAuth2`;
    await fastify.register(oauth2, {
      name,
      credentials: {
        client: { id: settings.appId, secret: settings.appSecret },
        auth: oauthEndpoints(settings, provider),
        // Instagram Login takes the client credentials only in the form.
        options: { authorizationMethod: 'body' },
      },
      // Meta separates scopes with commas, not OAuth's spaces: one pre-joined entry.
      scope: [REQUESTED_SCOPES[provider].join(',')],
      callbackUri: redirectUri(provider),
      ...(SUPPORTS_PKCE[provider] ? { pkce: 'S256' as const } : {}),
      redirectStateCookieName: PLUGIN_STATE_COOKIE,
      verifierCookieName: PLUGIN_VERIFIER_COOKIE,
      cookie,
      generateStateFunction: (request: FastifyRequest) => {
        const state = startingState.get(request);
        if (state === undefined) throw new Error('no connect flow is being started on this request');
        return state;
      },
      // The sealed cookie is the state store: the callback's state must be its nonce, for this provider, unexpired.
      checkStateFunction: (request: FastifyRequest) => {
        const state = (request.query as { state?: string }).state;
        return openConnectSession(options.cipher, request.cookies[COOKIE], { provider, state, now: now() }).ok;
      },
    });
    oauth[provider] = fastify.getDecorator<OAuth2Namespace>(name);
  }

  fastify.post(
    '/connect/:provider/tickets',
    {
      onRequest: fastify.authenticate,
      schema: {
        tags: ['connect'],
        operationId: 'createConnectTicket',
        summary: 'A URL that starts connecting accounts in a browser',
        description:
          'For a web app: a browser navigating to startConnect cannot send a bearer token, and a cookie set in answer to a ' +
          'cross-site fetch is refused. Ask for a ticket with your bearer token, then send the browser to the `url` answered ' +
          '(`window.location.assign(url)`, a top-level navigation): it starts the flow as startConnect does, for your user and ' +
          `organisation (still checked then) and the \`returnTo\` and \`accountId\` given here. The ticket expires after ` +
          `${CONNECT_TICKET_TTL_MS / 1000} s; within that time it can start the same flow again. Keep it like a token.`,
        params: Params,
        body: z
          .strictObject({
            accountId: z.uuid().optional().describe('Reconnect this existing account instead of connecting new ones'),
            returnTo: z
              .string()
              .min(1)
              .optional()
              .describe('Where the callback sends the browser back with the outcome (see startConnect): an absolute http(s) URL on one of the configured web origins'),
          })
          .nullish()
          .meta({ examples: [{ returnTo: 'https://app.example.com/settings/accounts' }] }),
        response: {
          201: jsonResponse(
            z
              .object({
                url: z.url().describe("startConnect's URL with the ticket in it: navigate the browser there"),
                expiresAt: z.iso.datetime().describe('When the ticket stops starting flows'),
              })
              .meta({
                examples: [
                  {
                    url: 'https://api.postwire.dev/v1/connect/instagram/start?ticket=enc%3Av1%3Ak2026%3Aq8x0Jm3v9bQe1T4z%3AZm9yLWV4YW1wbGUtb25seQ%3A0s8Ue3h5YpQk2Vb7Nw1c9A',
                    expiresAt: '2026-03-08T14:02:00.000Z',
                  },
                ],
              }),
            'The start URL with the ticket, for this browser only',
            { 'Cache-Control': { type: 'string', description: '`no-store`: a ticket is a credential' } },
          ),
          400: problemResponse(400, 'Not a valid request: a wrong field (`invalid-request`), or a `returnTo` this gateway does not return to (`return-to-not-allowed`)'),
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { provider } = request.params;
      const returnTo = checkedReturnTo(request.body?.returnTo, 'body');
      const accountId = request.body?.accountId;
      const { url, expiresAt } = ticketUrl(provider, { userId: caller.userId, organisationId: caller.organisationId, returnTo, accountId }, CONNECT_TICKET_TTL_MS);
      request.log.info({ provider, reconnect: Boolean(accountId), returnTo: returnTo ? new URL(returnTo).origin : undefined }, 'connect ticket issued');
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ url, expiresAt: new Date(expiresAt).toISOString() });
    },
  );

  fastify.get(
    '/connect/:provider/start',
    {
      // The bearer token, or in a browser a connect ticket (POST /v1/connect/{provider}/tickets) in `ticket`.
      onRequest: fastify.authenticateCaller,
      // The redirect has no body: any Accept is answered, JSON when it names JSON.
      config: { produces: ['application/json', 'text/html'], ticket: 'connect' },
      schema: {
        tags: ['connect'],
        operationId: 'startConnect',
        summary: 'Start connecting Instagram or Facebook accounts',
        description:
          'Redirects (302) to Meta\'s consent dialog. With `Accept: application/json` it answers the dialog URL instead (200), ' +
          'for clients that open it themselves. Either way the flow is bound to this browser by the HttpOnly `pw_connect` ' +
          'cookie (Set-Cookie) for 10 minutes. With `returnTo` (a web app\'s URL on one of the gateway\'s configured web ' +
          'origins) the callback sends the browser back there with the outcome in the query instead of showing a result page: ' +
          `\`${OUTCOME_PARAMETERS.outcome}\` (\`connected\` or \`failed\`), \`${OUTCOME_PARAMETERS.provider}\`, ` +
          `\`${OUTCOME_PARAMETERS.accounts}\` (the connected account ids, comma-separated) and \`${OUTCOME_PARAMETERS.code}\` ` +
          '(the problem code when something failed: `consent-declined`, `permission-missing`, `connect-failed`, ' +
          '`connect-timeout`, `meta-exchange-failed`, `forbidden`; beside `connected`, why some chosen accounts were not). ' +
          'A browser has no bearer token: a web app asks for a ticket (createConnectTicket) and navigates the browser to the URL ' +
          'it answers, which carries the ticket in `ticket` instead; the flow (returnTo, accountId) is then the ticket\'s.',
        security: [{ bearer: [] }, { connectTicket: [] }],
        params: Params,
        querystring: z.object({
          ticket: z
            .string()
            .min(1)
            .max(2048)
            .optional()
            .describe('A connect ticket from createConnectTicket, for this provider, instead of the bearer token (not both); returnTo and accountId then come from it'),
          accountId: z.uuid().optional().describe('Reconnect this existing account instead of connecting new ones'),
          returnTo: z
            .string()
            .min(1)
            .optional()
            .describe(
              'Where to send the browser back with the outcome: an absolute http(s) URL, at most 1024 characters, whose origin is one ' +
                'of the configured web origins (GATEWAY_WEB_ORIGINS); anything else is refused (`return-to-not-allowed`)',
            )
            .meta({ example: 'https://app.example.com/settings/accounts' }),
        }),
        response: {
          200: jsonResponse(
            z
              .object({ authorizationUrl: z.url(), expiresAt: z.iso.datetime() })
              .meta({ examples: [{ authorizationUrl: 'https://www.facebook.com/v23.0/dialog/oauth?client_id=1234567890&state=8f2c', expiresAt: '2026-03-08T14:10:00.000Z' }] }),
            'With `Accept: application/json`: the consent dialog URL to open',
            { 'Set-Cookie': { type: 'string', description: '`pw_connect`: the sealed flow, HttpOnly, 10 minutes' } },
          ),
          302: {
            description: "Without JSON in Accept: to Meta's consent dialog",
            headers: {
              Location: { type: 'string', description: "Meta's consent dialog" },
              'Set-Cookie': { type: 'string', description: '`pw_connect`: the sealed flow, HttpOnly, 10 minutes' },
            },
            content: {},
          },
          400: problemResponse(
            400,
            'Not a valid start: a wrong parameter (`invalid-request`), a `returnTo` this gateway does not return to (`return-to-not-allowed`), ' +
              'both a bearer token and a ticket (`ambiguous-credentials`), or a ticket beside `returnTo` or `accountId` (`invalid-request`)',
          ),
          401: problemResponse(401, 'No valid bearer token or connect ticket (expired, for another provider, or not one of ours): ask for a new ticket'),
          403: problemResponse(403, "The token's (or ticket's) organisation is not the user's"),
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { provider } = request.params;
      const ticket = request.connectTicket;
      if (ticket && (request.query.returnTo !== undefined || request.query.accountId !== undefined)) {
        const detail = 'A ticket names its flow: send returnTo and accountId when asking for the ticket, not beside it.';
        throw new ProblemError(400, 'invalid-request', 'Bad Request', detail, {
          errors: [{ location: 'querystring', field: request.query.returnTo === undefined ? 'accountId' : 'returnTo', code: 'invalid-request', message: detail }],
        });
      }
      const flow = ticket ? flowOf(ticket) : request.query;
      const returnTo = checkedReturnTo(flow.returnTo);
      const session = newConnectSession({
        provider,
        organisationId: caller.organisationId,
        userId: caller.userId,
        pkce: SUPPORTS_PKCE[provider],
        now: now(),
        ...(flow.accountId ? { accountId: flow.accountId } : {}),
        ...(returnTo ? { returnTo } : {}),
      });
      reply.setCookie(COOKIE, sealConnectSession(options.cipher, session), { ...cookie, maxAge: CONNECT_SESSION_TTL_MS / 1000 });
      startingState.set(request, session.nonce);
      const authorizationUrl = new URL(await oauth[provider].generateAuthorizationUri(request, reply));
      // The challenge is for the verifier sealed in pw_connect, not for the one the plugin drew for its own cookie.
      if (session.codeVerifier) authorizationUrl.searchParams.set('code_challenge', codeChallengeOf(session.codeVerifier));
      reply.clearCookie(PLUGIN_STATE_COOKIE, cookie);
      reply.clearCookie(PLUGIN_VERIFIER_COOKIE, cookie);
      request.log.info({ provider, ticket: ticket !== null, reconnect: Boolean(flow.accountId), returnTo: returnTo ? new URL(returnTo).origin : undefined }, 'connect flow started');
      if (request.headers.accept?.includes('application/json')) {
        return { authorizationUrl: authorizationUrl.toString(), expiresAt: new Date(session.expiresAt).toISOString() };
      }
      return reply.redirect(authorizationUrl.toString(), 302);
    },
  );

  fastify.get(
    '/connect/:provider/callback',
    {
      config: PAGE_OR_JSON,
      schema: {
        tags: ['connect'],
        operationId: 'completeConnect',
        summary: 'Where Meta sends the browser back after consent',
        description:
          'Not called directly: Meta sends the browser here. Authenticated by the `pw_connect` cookie the start set in this ' +
          'browser (not a bearer token): the state must be that flow\'s, unexpired and unused. Exchanges the code and hands the ' +
          'encrypted token to the accounts service. Answers a page, or JSON with `Accept: application/json` (errors as problems: ' +
          '`consent-declined` when access was declined, `permission-missing` when a permission was not granted). A flow started ' +
          'with `returnTo` is sent back there instead (303) with the outcome in the query (see startConnect), unless it is still ' +
          'connecting (202: the status page sends it back once the outcome is known). The outcome is kept in the HttpOnly ' +
          '`pw_connect_result` cookie of this browser for GATEWAY_CONNECT_RESULT_TTL_MS (10 minutes by default): a reload or repeat ' +
          'of this callback answers the same again, without exchanging the code or connecting anything twice.',
        security: [{ connectCookie: [] }],
        params: Params,
        querystring: z.object({
          code: z.string().min(1).max(2048).optional(),
          state: z.string().max(256).optional(),
          error: z.string().max(200).optional(),
          error_reason: z.string().max(200).optional(),
          error_description: z.string().max(1000).optional(),
        }),
        response: {
          200: pageOrJson('Connected: the accounts'),
          202: pageOrJson('Access granted, still connecting: the page looks again by itself, a client follows the Location', STILL_CONNECTING_HEADERS),
          303: RETURN_TO_REDIRECT,
          400: problemResponse(400, 'Not a valid callback: no flow of this browser (`connect-session-invalid`), already completed (`connect-session-used`), or access declined (`consent-declined`)'),
          403: problemResponse(403, 'The user who started the flow no longer belongs to its organisation'),
          ...CONNECT_PROBLEMS,
        },
      },
    },
    async (request, reply) => {
      const { provider } = request.params;
      const query = request.query;
      // A reload or repeat of a callback this browser completed: the same answer again, nothing re-run.
      const kept = openConnectResult(options.cipher, request.cookies[RESULT_COOKIE], { provider, state: query.state, now: now() });
      if (kept) {
        request.log.info({ provider, status: kept.status }, 'connect callback repeated: its kept result answered again');
        return answer(request, reply, kept);
      }
      // Whatever happens next, this flow is over: the cookie goes.
      reply.clearCookie(COOKIE, cookie);
      const opened = openConnectSession(options.cipher, request.cookies[COOKIE], { provider, state: query.state, now: now() });
      if (!opened.ok) {
        request.log.warn({ provider, reason: opened.reason }, 'connect callback refused');
        throw new ProblemError(
          400,
          'connect-session-invalid',
          'This connection attempt is not valid',
          opened.reason === 'expired'
            ? 'The connection took longer than 10 minutes. Start again.'
            : 'The answer from Meta does not belong to a connection started in this browser. Start again.',
          { reason: opened.reason },
        );
      }
      const { session } = opened;
      if (!ledger.consume(session.nonce, session.expiresAt, now())) {
        throw new ProblemError(400, 'connect-session-used', 'This connection attempt was already completed', 'Start again to connect more accounts.');
      }
      const settled = await complete(request, reply, provider, session, query);
      return answer(request, reply, keep(reply, { ...settled, nonce: session.nonce, provider, ...flowOf(session), ...whoOf(session) }));
    },
  );

  type CallbackQuery = { code?: string | undefined; error?: string | undefined; error_reason?: string | undefined; error_description?: string | undefined };
  type Settled = Pick<ConnectResultRecord, 'status' | 'result' | 'attemptId'>;

  /**
   * Completes a flow whose state checked out: the membership, Meta's answer, the code exchange, the
   * account.authorized request and its answers. A problem on the way is this flow's outcome too, kept like
   * any other; anything else (a failure of ours) is thrown.
   */
  async function complete(request: FastifyRequest, reply: FastifyReply, provider: Provider, session: ConnectSession, query: CallbackQuery): Promise<Settled> {
    try {
      // The organisation was checked at the start, up to ten minutes ago: the user must still belong to it.
      await fastify.requireMembership(request, session.userId, session.organisationId);
      if (query.error || !query.code) {
        const denied = query.error === 'access_denied';
        request.log.info({ provider, error: query.error, reason: query.error_reason }, 'connect flow ended without a code');
        return {
          status: 400,
          result: {
            outcome: denied ? 'denied' : 'failed',
            message: denied
              ? 'No accounts were connected: access was declined on the consent screen.'
              : `No accounts were connected: Meta answered "${query.error_description ?? query.error ?? 'no code'}".`,
            accounts: [],
            failures: [],
          },
        };
      }

      const grant = await exchange(provider, request, session.codeVerifier);
      const socialAccountId = session.accountId ?? derivedAccountId(session.organisationId, provider, grant.platformUserId);
      const shortLivedToken = EncryptedSecret.parse(
        options.cipher.encrypt(grant.accessToken, eventFieldContext('account.authorized', socialAccountId, 'shortLivedToken')),
      );
      // Listen before speaking: the answers are caused by this event id.
      const eventId = randomUUID();
      const answers = fastify.answers.awaitAnswers(eventId, { timeoutMs: options.answerTimeoutMs, settleMs: ANSWER_SETTLE_MS });
      await fastify.kafka.producer.publish(accountRequests, [
        {
          type: 'account.authorized',
          data: {
            socialAccountId,
            platform: provider,
            platformUserId: grant.platformUserId,
            shortLivedToken,
            tokenExpiresAt: new Date(now() + grant.expiresInSeconds * 1000).toISOString(),
            grantedScopes: grant.scopes,
            reconnect: session.accountId !== undefined,
          },
          metadata: {
            id: eventId,
            organisationId: session.organisationId,
            actorId: session.userId,
            correlationId: request.correlationId,
            traceparent: formatTraceparent(request.traceContext),
          },
        },
      ]);
      request.log.info({ provider, socialAccountId, eventId, scopes: grant.scopes.length }, 'account authorized');

      const outcome = summarise(await answers);
      request.log.info({ provider, eventId, connected: outcome.accounts.length, failures: outcome.failures.length }, 'connect flow answered');
      const granted = { socialAccountId, grantedScopes: grant.scopes };
      if (outcome.accounts.length > 0 || outcome.failures.length > 0) return settle(outcome, granted);
      // No answer yet: the accounts service may still be retrying. This browser can look again.
      const authorizedAt = now();
      const attempt = { attemptId: eventId, provider, expiresAt: authorizedAt + CONNECT_ATTEMPT_TTL_MS, answerBy: authorizedAt + GIVE_UP_AFTER_MS, nonce: session.nonce };
      reply.setCookie(ATTEMPT_COOKIE, sealConnectAttempt(options.cipher, { ...attempt, ...flowOf(session), ...whoOf(session) }), { ...cookie, maxAge: CONNECT_ATTEMPT_TTL_MS / 1000 });
      return { status: 202, attemptId: eventId, result: { ...granted, outcome: 'authorized', message: STILL_CONNECTING, accounts: [], failures: [] } };
    } catch (error) {
      if (!(error instanceof ProblemError)) throw error;
      return {
        status: error.status,
        result: {
          outcome: 'failed',
          message: error.message,
          accounts: [],
          failures: [],
          problem: { code: error.problemType, title: error.title, ...(Object.keys(error.extensions).length > 0 ? { extensions: scalars(error.extensions) } : {}) },
        },
      };
    }
  }

  /** Keeps the outcome in this browser for a reload (when it fits in a cookie); answers it. */
  function keep(reply: FastifyReply, outcome: Omit<ConnectResultRecord, 'expiresAt'>): ConnectResultRecord {
    const record = { ...outcome, expiresAt: now() + options.resultTtlMs };
    const sealed = options.resultTtlMs > 0 ? sealConnectResult(options.cipher, record) : undefined;
    if (sealed) reply.setCookie(RESULT_COOKIE, sealed, { ...cookie, maxAge: Math.ceil(options.resultTtlMs / 1000) });
    return record;
  }

  /**
   * Answers an outcome: back to the flow's returnTo (303) once it is known; otherwise a page, JSON or a problem.
   * Still connecting is always the status page, which sends the browser back once it knows.
   */
  function answer(request: FastifyRequest, reply: FastifyReply, record: ConnectResultRecord) {
    const { provider, status, result } = record;
    const startAgain = startAgainUrl(provider, record);
    if (status === 202 && record.attemptId) {
      const statusUrl = `/v1/connect/${provider}/attempts/${record.attemptId}`;
      reply.header('location', statusUrl).header('retry-after', String(REFRESH_SECONDS));
      return sendResult(request, reply, 202, { ...result, provider, statusUrl }, { ...(startAgain ? { startAgain } : {}), refresh: `${REFRESH_SECONDS};url=${statusUrl}` });
    }
    // Checked again: a web origin taken out of the configuration since the start is not returned to.
    if (record.returnTo && checkReturnTo(record.returnTo, options.webOrigins).ok) {
      const accountIds = result.accounts.map((account) => account.id);
      const failed = status >= 400 || result.failures.length > 0;
      return reply.redirect(
        returnToWithOutcome(record.returnTo, {
          outcome: accountIds.length > 0 ? 'connected' : 'failed',
          provider,
          accountIds,
          ...(failed ? { code: problemCodeOf(status, result) } : {}),
        }),
        303,
      );
    }
    return sendResult(request, reply, status, { ...result, provider }, startAgain ? { startAgain } : {});
  }

  fastify.get(
    '/connect/:provider/attempts/:attemptId',
    {
      config: PAGE_OR_JSON,
      schema: {
        tags: ['connect'],
        operationId: 'getConnectAttempt',
        summary: 'How a connect that was still in progress ended',
        description:
          'Where a still-connecting callback page (202) points: only the browser that completed the callback may look. ' +
          '200 connected, 422 failed (for example after the accounts service gave up on Meta), 202 still connecting, ' +
          '504 no answer in time. A page, or JSON with `Accept: application/json`; a flow started with `returnTo` is sent ' +
          'back there (303) once the outcome is known. Looking again after that answers the same outcome for ' +
          'GATEWAY_CONNECT_RESULT_TTL_MS.',
        security: [{ connectAttemptCookie: [] }],
        params: Params.extend({ attemptId: z.uuid() }),
        response: {
          200: pageOrJson('Connected: the accounts'),
          202: pageOrJson('Still connecting', STILL_CONNECTING_HEADERS),
          303: RETURN_TO_REDIRECT,
          404: problemResponse(404, 'Not an attempt of this browser, or more than 10 minutes old (`connect-attempt-not-found`)'),
          ...CONNECT_PROBLEMS,
        },
      },
    },
    async (request, reply) => {
      const { provider, attemptId } = request.params;
      const kept = openConnectResult(options.cipher, request.cookies[RESULT_COOKIE], { provider, attemptId, now: now() });
      if (kept && kept.status !== 202) return answer(request, reply, kept);
      const attempt = openConnectAttempt(options.cipher, request.cookies[ATTEMPT_COOKIE], { attemptId, provider, now: now() });
      if (!attempt) {
        throw new ProblemError(404, 'connect-attempt-not-found', 'This connection attempt is not known here', 'It was started in another browser or is more than 10 minutes old. Open your account list, or start again.');
      }
      const flow = { provider, attemptId, ...flowOf(attempt), ...whoOf(attempt), ...(attempt.nonce ? { nonce: attempt.nonce } : {}) };
      const outcome = summarise(fastify.answers.recentAnswers(attemptId));
      if (outcome.accounts.length > 0 || outcome.failures.length > 0) {
        reply.clearCookie(ATTEMPT_COOKIE, cookie);
        return answer(request, reply, keep(reply, { ...flow, ...settle(outcome) }));
      }
      if (now() < attempt.answerBy) {
        return answer(request, reply, { ...flow, status: 202, result: { outcome: 'authorized', message: STILL_CONNECTING, accounts: [], failures: [] }, expiresAt: attempt.expiresAt });
      }
      reply.clearCookie(ATTEMPT_COOKIE, cookie);
      const timedOut: Settled = {
        status: 504,
        result: {
          outcome: 'failed',
          accounts: [],
          failures: [],
          message:
            'Postwire did not hear back about this connection in time. Open your account list: if the accounts you chose are not there, start again from "Connect accounts".',
        },
      };
      return answer(request, reply, keep(reply, { ...flow, ...timedOut }));
    },
  );

  type Grant = { accessToken: string; platformUserId: string; scopes: string[]; expiresInSeconds: number };

  /** The plugin's code exchange (a form POST to the provider's token endpoint), read with the Graph client's rules. */
  async function exchange(provider: Provider, request: FastifyRequest, codeVerifier: string | undefined): Promise<Grant> {
    const where = { method: 'POST', path: oauthEndpoints(settings, provider).tokenPath };
    try {
      // The plugin sends the verifier it finds in its cookie: the one sealed in pw_connect.
      if (codeVerifier) request.cookies[PLUGIN_VERIFIER_COOKIE] = codeVerifier;
      let answer: unknown;
      try {
        // Without `reply`: the plugin's cookies were never left in the browser, so there is nothing for it to clear.
        answer = (await oauth[provider].getAccessTokenFromAuthorizationCodeFlow(request)).token;
      } catch (error) {
        throw graphErrorFromOAuthFailure(error, where);
      }
      if (provider === 'instagram') {
        const grant = instagramCodeGrantFromAnswer(answer, where);
        // A user id beyond 2^53 sent as a JSON number was rounded by the plugin's parser: ask Meta for the exact one.
        const userId = grant.userId ?? (await options.graph.instagramMe(grant.accessToken)).userId;
        return { accessToken: grant.accessToken, platformUserId: userId, scopes: grant.permissions, expiresInSeconds: INSTAGRAM_SHORT_LIVED_SECONDS };
      }
      const grant = tokenGrantFromAnswer(answer, where);
      const inspected = await options.graph.debugToken(grant.accessToken);
      if (!inspected.isValid || !inspected.userId) throw new ProblemError(502, 'meta-exchange-failed', 'Meta did not confirm the login', 'Start again.');
      return {
        accessToken: grant.accessToken,
        platformUserId: inspected.userId,
        scopes: [...inspected.scopes],
        expiresInSeconds: grant.expiresIn ?? 3600,
      };
    } catch (error) {
      if (isGraphError(error)) {
        const classification = classifyGraphError(error);
        throw new ProblemError(502, 'meta-exchange-failed', 'Meta did not accept the login', exchangeFailureMessage(classification), {
          metaClass: classification.class,
        });
      }
      throw error;
    }
  }
};

export type ConnectedAccount = { readonly id: string; readonly platform: string; readonly accountType: string | null; readonly username: string | null };
export type ConnectFailure = { readonly accountId: string; readonly message: string; readonly missingScopes: readonly string[] };

/** An outcome as answered: the kept result and its provider, and where a still-connecting one is looked up. */
type ConnectResult = ConnectResultRecord['result'] & { readonly provider: Provider; readonly statusUrl?: string };

const STILL_CONNECTING = 'Access granted. Postwire is still connecting the accounts you chose; this page shows the result as soon as it is known. Keep it open.';

/** The 303 back to a flow's returnTo, as the document declares it. */
const RETURN_TO_REDIRECT = {
  description: `A flow started with \`returnTo\`: back there, with \`${OUTCOME_PARAMETERS.outcome}\` and the rest of the outcome in the query`,
  headers: {
    Location: {
      type: 'string',
      description: `The flow's returnTo with the outcome, e.g. https://app.example.com/settings/accounts?${OUTCOME_PARAMETERS.outcome}=connected&${OUTCOME_PARAMETERS.provider}=instagram&${OUTCOME_PARAMETERS.accounts}=2c6f0e4a-9b1d-4f3e-a7c5-6d8e9f0a1b2c`,
    },
  },
  content: {},
} as const;

function summarise(events: readonly IncomingEvent<typeof accountEvents>[]) {
  const accounts: ConnectedAccount[] = [];
  const failures: ConnectFailure[] = [];
  for (const event of events) {
    if (event.type === 'account.connected') {
      accounts.push({ id: event.data.socialAccountId, platform: event.data.platform, accountType: event.data.accountType, username: event.data.username });
    } else if (event.type === 'account.connection-failed') {
      failures.push({ accountId: event.data.socialAccountId, message: event.data.error.message, missingScopes: [...(event.data.missingScopes ?? [])] });
    }
  }
  return { accounts, failures };
}

/** Connected (200) when any account connected, else failed (422) with each reason. */
function settle(
  outcome: { accounts: ConnectedAccount[]; failures: ConnectFailure[] },
  granted: { socialAccountId?: string; grantedScopes?: string[] } = {},
): { status: number; result: ConnectResultRecord['result'] } {
  const { accounts, failures } = outcome;
  const common = { ...granted, accounts, failures: failures.map((failure) => ({ ...failure, missingScopes: [...failure.missingScopes] })) };
  if (accounts.length > 0) {
    return { status: 200, result: { ...common, outcome: 'connected', message: `Connected ${accounts.length} account${accounts.length === 1 ? '' : 's'}.` } };
  }
  return { status: 422, result: { ...common, outcome: 'failed', message: `No accounts were connected: ${[...new Set(failures.map((failure) => failure.message))].join(' ')}` } };
}

type Flow = { readonly returnTo?: string | undefined; readonly accountId?: string | undefined };
type Who = { readonly userId: string; readonly organisationId: string };

/** Who started a flow, when it is known: a page's "Start again" starts one for them. */
function whoOf(flow: Partial<Who>): Who | Record<string, never> {
  return flow.userId && flow.organisationId ? { userId: flow.userId, organisationId: flow.organisationId } : {};
}

/** What a flow started with and a page's "Start again" repeats: its returnTo and the account it reconnects. */
function flowOf(flow: Flow) {
  return { ...(flow.returnTo ? { returnTo: flow.returnTo } : {}), ...(flow.accountId ? { accountId: flow.accountId } : {}) };
}

/** Which problem an outcome is: the one it ended with, else declined, no answer in time, a permission missing, or failed. */
function problemCodeOf(status: number, result: ConnectResultRecord['result']): string {
  if (result.problem) return result.problem.code;
  if (result.outcome === 'denied') return 'consent-declined';
  if (status === 504) return 'connect-timeout';
  return result.failures.some((failure) => failure.missingScopes.length > 0) ? 'permission-missing' : 'connect-failed';
}

const PROBLEM_TITLES: Readonly<Record<string, string>> = {
  'consent-declined': 'Access was declined',
  'connect-timeout': 'No answer in time',
};

/** A problem's extensions as a cookie keeps them: its scalar values. */
function scalars(extensions: Readonly<Record<string, unknown>>): Record<string, string | number | boolean> {
  return Object.fromEntries(
    Object.entries(extensions).filter((entry): entry is [string, string | number | boolean] => ['string', 'number', 'boolean'].includes(typeof entry[1])),
  );
}

/** A browser that did not ask for JSON gets a page. */
function wantsPage(request: FastifyRequest): boolean {
  return !request.headers.accept?.includes('application/json');
}

/** A result page, with the policy that lets it show its inline style and nothing else run. */
function sendPage(reply: FastifyReply, status: number, page: ConnectPage, links: PageLinks) {
  // Its "Start again" link carries a ticket: the page is this browser's and is not kept.
  return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').header('content-security-policy', PAGE_CONTENT_SECURITY_POLICY).send(renderConnectResult(page, links));
}

/**
 * A page for a browser; for a client, JSON, and an error as a problem (its code says which: declined,
 * a permission missing, failed, no answer in time, or the problem the flow ended with), with the
 * outcome's fields as extensions.
 */
function sendResult(request: FastifyRequest, reply: FastifyReply, status: number, result: ConnectResult, links: PageLinks) {
  if (wantsPage(request)) return sendPage(reply, status, result, links);
  const { message, problem, ...outcome } = result;
  if (status < 400) return reply.code(status).send({ ...outcome, message });
  const code = problemCodeOf(status, result);
  const missing = result.failures.flatMap((failure) => failure.missingScopes.map((scope) => ({ field: 'scope', code: 'permission-missing', message: `${scope} was not granted` })));
  return sendProblem(reply, {
    type: `https://postwire.dev/problems/${code}`,
    code,
    title: problem?.title ?? PROBLEM_TITLES[code] ?? 'Nothing was connected',
    status,
    detail: message,
    ...outcome,
    ...problem?.extensions,
    ...(missing.length > 0 ? { errors: missing } : {}),
    requestId: request.id,
  });
}

/**
 * The code exchange is not retried (Meta redeems a code once), so the reader is told what to do, never
 * that something will be retried for them.
 */
function exchangeFailureMessage(classification: GraphErrorClassification): string {
  switch (classification.class) {
    case 'transient':
    case 'ambiguous':
    case 'rate-limited':
    case 'policy-block':
      return 'Meta is temporarily unavailable, so nothing was connected. Start again from "Connect accounts" in a few minutes.';
    default:
      return 'Meta did not accept the login, so nothing was connected. Start again from "Connect accounts".';
  }
}
