import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Counter, Histogram } from 'prom-client';
import { z } from 'zod';
import { callerOf } from '@postwire/auth';
import { ContractViolationError, type OutgoingEvent, type PostRequest, postRequests } from '@postwire/contracts';
import { ProblemError, formatTraceparent } from '@postwire/service-kit';
import {
  AcceptedPostSummary,
  AccountIdPathParams,
  AccountRetryResult,
  CancelPostBody,
  CreatePostBody,
  DeletePostQuery,
  PendingPostRequest,
  PostIdParams,
  PostList,
  PostListQuery,
  PostResource,
  UnpostedContent,
  UnpostedContentQuery,
  UpdatePostBody,
  offsetInstant,
} from '@postwire/api';
import { checkIdempotencyKey, postIdFor, prefersRespondAsync, rejectionDetail, requestHashOf, writeOutcome } from '../domain/post-requests.ts';
import type { EntityTag } from '../domain/entity-tags.ts';
import { IF_MATCH_HEADER, checkIfMatch, expectedVersion, versionedResponses } from './conditional-writes.ts';
import type { PostAnswer } from '../plugins/answers.ts';
import { entityTagOf, jsonOf, sendJson } from '../plugins/upstream.ts';
import { jsonResponse, locationHeader, problemResponses } from './problem-docs.ts';

export type PostRouteOptions = {
  /** The publisher's read API (reads, and the read-back after a write). */
  readonly publisherUrl: string;
  /** The accounts service's read API: an account's visibility before retrying its posts. */
  readonly accountsUrl: string;
  /** How long a write waits for post.accepted / post.rejected (config GATEWAY_POST_WAIT_MS). */
  readonly answerTimeoutMs: number;
  readonly now?: () => number;
};

/** An account's retried posts answer one by one, on one partition: after the first, wait this long for the rest. */
const ACCOUNT_RETRY_SETTLE_MS = 500;

/** A write answers the post as the publisher now has it; this is all it needs of a read-back to trust it. */
const VisiblePost = z.object({ id: z.uuid(), socialAccountId: z.uuid() });

/** The list's time window takes the same instants as scheduledFor (an offset is required), normalised to UTC. */
const ListQuery = PostListQuery.extend({
  from: offsetInstant('from').optional().describe('scheduled_for (published_at for published posts) at or after this instant'),
  to: offsetInstant('to').optional().describe('scheduled_for (published_at for published posts) before this instant'),
});

const Location = locationHeader('Where the post is read: /v1/posts/{postId}');
const Pending = jsonResponse(
  PendingPostRequest,
  'Not answered in time (or `Prefer: respond-async`): the request is on Kafka; read the post at the Location',
  { ...Location, 'Preference-Applied': { type: 'string', description: '`respond-async` when the Prefer header was honoured' } },
);
const WrittenPost = z.union([PostResource, AcceptedPostSummary]);
const Written = (description: string) =>
  jsonResponse(WrittenPost, `${description}: the post as the publisher has it now (its accepted summary when it cannot be read back)`, Location);
const PREFER_HEADER = {
  prefer: z.string().max(200).optional().describe('`respond-async` answers 202 at once, without waiting for the publisher (RFC 7240)'),
};
const writeProblems = problemResponses(404, 422, 502, 503, 504);
/** A change to an existing post: If-Match may name the version it was made against (412 when the post moved on). */
const CHANGE_HEADERS = z.object({ ...PREFER_HEADER, ...IF_MATCH_HEADER });
const Changed = (description: string) => versionedResponses({ 200: Written(description), 202: Pending, ...writeProblems });
const readProblems = problemResponses(502, 503, 504);

/**
 * The posts API. Reads go to the publisher's read API with the caller's token, where RLS decides.
 * Writes follow DESIGN.md's write path: a request event on Kafka (acks from all in-sync replicas), then
 * a short wait for the publisher's post.accepted / post.rejected naming it: 201/200 with the post read
 * back, 422 with every violation, or 202 with a Location when no answer comes in time.
 */
export const postRoutes: FastifyPluginAsyncZod<PostRouteOptions> = async (fastify, options) => {
  const now = options.now ?? Date.now;
  const requests = new Counter({
    name: 'postwire_gateway_post_requests_total',
    help: 'Post requests sent to the publisher, by request type and how the caller was answered',
    labelNames: ['type', 'outcome'] as const,
    registers: [fastify.metrics],
  });
  const answerWait = new Histogram({
    name: 'postwire_gateway_post_answer_seconds',
    help: "Time from producing a post request to the publisher's answer (requests answered in time)",
    labelNames: ['type'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [fastify.metrics],
  });

  /** The post as the caller may see it (RLS decides, in the publisher), with its version (ETag); or a 404 problem. */
  async function visiblePost(request: FastifyRequest, postId: string): Promise<z.infer<typeof VisiblePost> & { readonly tag: EntityTag | undefined }> {
    const response = await fastify.readUpstream(options.publisherUrl, { path: `/v1/posts/${postId}` }, request);
    if (response.status === 404) throw new ProblemError(404, 'post-not-found', 'Post not found', `No post ${postId} in your organisation.`, { postId });
    if (response.status === 401 || response.status === 403) {
      throw new ProblemError(response.status, response.status === 401 ? 'unauthorized' : 'forbidden', response.status === 401 ? 'Unauthorized' : 'Forbidden', 'The publisher refused this caller.');
    }
    const post = VisiblePost.safeParse(jsonOf(response));
    if (response.status !== 200 || !post.success) {
      request.log.warn({ status: response.status, postId }, 'publisher answered a post read unusably');
      throw new ProblemError(502, 'upstream-failed', 'Bad Gateway', 'The publisher failed. Try again.');
    }
    return { ...post.data, tag: entityTagOf(response) };
  }

  /**
   * The post a change is about, and the version the publisher must still find it at (If-Match). The check here
   * answers a stale tag at once; the publisher's, on the locked row, is the one that cannot race.
   */
  async function changedPost(request: FastifyRequest, reply: FastifyReply, postId: string) {
    const ifMatch = checkIfMatch(request.headers['if-match']);
    const post = await visiblePost(request, postId);
    const expected = ifMatch === undefined ? {} : expectedVersion(ifMatch, post.tag, reply);
    return { target: { postId, socialAccountId: post.socialAccountId }, expected };
  }

  /** After an accepted write: the post as the publisher now has it (and its version), or undefined when it cannot be read. */
  async function readBack(request: FastifyRequest, postId: string): Promise<{ readonly post: PostResource; readonly tag: EntityTag | undefined } | undefined> {
    try {
      const response = await fastify.readUpstream(options.publisherUrl, { path: `/v1/posts/${postId}` }, request);
      const post = PostResource.safeParse(jsonOf(response));
      if (response.status === 200 && post.success) return { post: post.data, tag: entityTagOf(response) };
      request.log.warn({ status: response.status, postId }, 'accepted post not read back; answering its summary');
    } catch (error) {
      request.log.warn({ err: error, postId }, 'accepted post not read back; answering its summary');
    }
    return undefined;
  }

  /**
   * Produces the request (acks from all in-sync replicas) on behalf of the caller. When Kafka does not
   * take it, nothing was requested: a 503 the caller may retry (with its Idempotency-Key, safely).
   */
  async function produce(request: FastifyRequest, eventId: string, event: PostRequest): Promise<void> {
    const caller = callerOf(request);
    const outgoing: OutgoingEvent<typeof postRequests> = {
      ...event,
      metadata: {
        id: eventId,
        organisationId: caller.organisationId,
        actorId: caller.userId,
        correlationId: request.correlationId,
        traceparent: formatTraceparent(request.traceContext),
      },
    };
    try {
      await fastify.kafka.producer.publish(postRequests, [outgoing]);
    } catch (error) {
      // An event its contract refuses is this code's fault, not Kafka's: a 500, not a retry hint.
      if (error instanceof ContractViolationError) throw error;
      requests.inc({ type: event.type, outcome: 'not-sent' });
      request.log.error({ err: error, type: event.type, eventId }, 'post request not sent');
      throw new ProblemError(503, 'request-not-sent', 'Service Unavailable', 'The request could not be queued and was not applied. Try again shortly.');
    }
  }

  /** Emits one post's request event and answers the caller as the write path says. */
  async function submit(request: FastifyRequest, reply: FastifyReply, event: PostRequest & { data: { postId: string } }, creates: boolean) {
    const { postId } = event.data;
    const eventId = randomUUID();
    const location = `/v1/posts/${postId}`;
    const respondAsync = prefersRespondAsync(request.headers.prefer);
    // Listen before speaking: the answer names this event id and may come back at once.
    const answers = respondAsync ? undefined : fastify.answers.awaitPostAnswers(eventId, { timeoutMs: options.answerTimeoutMs, settleMs: 0 });
    const sentAt = performance.now();
    await produce(request, eventId, event);
    request.log.info({ type: event.type, postId, eventId }, 'post request sent');
    const pending = { status: 'pending' as const, postId, requestEventId: eventId, location };
    if (!answers) {
      requests.inc({ type: event.type, outcome: 'async' });
      return reply.code(202).header('location', location).header('preference-applied', 'respond-async').send(pending);
    }
    const received: PostAnswer[] = await answers;
    const outcome = writeOutcome(
      received.map((answer) => (answer.type === 'post.rejected' ? { type: answer.type, postId: answer.data.postId, violations: answer.data.violations } : { type: answer.type, postId: answer.data.postId })),
      { postId, creates },
    );
    if (outcome.kind !== 'pending') answerWait.observe({ type: event.type }, (performance.now() - sentAt) / 1000);
    requests.inc({ type: event.type, outcome: outcome.kind });
    request.log.info({ type: event.type, postId, eventId, outcome: outcome.kind }, 'post request answered');
    if (outcome.kind === 'pending') return reply.code(202).header('location', location).send(pending);
    if (outcome.kind === 'precondition-failed') {
      // The caller's next step is to read the post again: the answer names its current version.
      const current = await readBack(request, postId);
      if (current?.tag) reply.versionedBy(current.tag);
      throw new ProblemError(412, 'precondition-failed', 'Precondition Failed', 'The post changed since the version If-Match names; nothing was applied.', {
        postId,
        requestEventId: eventId,
      });
    }
    if (outcome.kind === 'rejected') {
      throw new ProblemError(422, 'post-rejected', 'The publisher refused this request', rejectionDetail(outcome.violations), {
        postId,
        requestEventId: eventId,
        errors: outcome.violations.map(({ field, code, message }) => ({ field, code, message })),
      });
    }
    const accepted = received.find((answer) => answer.type === 'post.accepted' && answer.data.postId === postId);
    const written = await readBack(request, postId);
    if (written?.tag) reply.versionedBy(written.tag);
    return reply.code(outcome.status).header('location', location).send(written?.post ?? summaryOf(accepted));
  }

  fastify.post(
    '/posts',
    {
      schema: {
        tags: ['posts'],
        operationId: 'createPost',
        summary: 'Create a post: a draft, scheduled, or published now',
        description:
          'Without `scheduledFor` or `publishNow` the post is a draft. `scheduledFor` must carry an offset (`Z` or `±hh:mm`); it is ' +
          'stored as the UTC instant. The publisher validates the post against the account (status, capabilities, media, caption ' +
          'limits) and answers: 201 with the post, 422 with every violation, or 202 with a Location when it has not answered within ' +
          'a short wait (`Prefer: respond-async` skips the wait). With `Idempotency-Key`, a retry with the same body names the same ' +
          'post (and answers as the first did); the same key with another body is 422 `idempotency-key-reused`.',
        headers: z.object({
          ...PREFER_HEADER,
          'idempotency-key': z.string().optional().describe('1-255 visible ASCII characters; the post id derives from it and your organisation'),
        }),
        body: CreatePostBody,
        response: { 201: Written('Created'), 202: Pending, ...writeProblems },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const idempotency = checkIdempotencyKey(request.headers['idempotency-key']);
      if (!idempotency.ok) {
        throw new ProblemError(400, 'invalid-idempotency-key', 'Invalid request', idempotency.message, {
          errors: [{ location: 'headers', field: 'Idempotency-Key', code: 'invalid-idempotency-key', message: idempotency.message }],
        });
      }
      const { socialAccountId, scheduledFor, publishNow, ...content } = request.body;
      const postId = idempotency.key ? postIdFor(caller.organisationId, idempotency.key) : randomUUID();
      const requestHash = idempotency.key ? { requestHash: requestHashOf(request.body) } : {};
      const target = { postId, socialAccountId };
      // Publish now is a new post scheduled for the gateway's now: the publisher claims it at once.
      const time = publishNow === true ? new Date(now()).toISOString() : scheduledFor;
      const event: PostRequest & { data: { postId: string } } =
        time === undefined
          ? { type: 'post.drafted', data: { ...target, content, ...requestHash } }
          : { type: 'post.scheduled', data: { ...target, scheduledFor: time, content, ...requestHash } };
      return submit(request, reply, event, true);
    },
  );

  fastify.get(
    '/posts',
    {
      schema: {
        tags: ['posts'],
        operationId: 'listPosts',
        summary: "Your organisation's posts",
        description:
          'Filters combine: `status` takes several (comma-separated), `from`/`to` bound scheduled_for (published_at for published ' +
          'posts) and need an offset. `status=draft,queued&from=..&to=..` lists what is planned for a window. Pages follow ' +
          '`nextCursor`.',
        querystring: ListQuery,
        response: { 200: jsonResponse(PostList, 'A page of posts'), ...readProblems },
      },
    },
    async (request, reply) => {
      const { status, ...query } = request.query;
      return sendJson(reply, await fastify.forwardRead(options.publisherUrl, { path: '/v1/posts', query: { ...query, status: status?.join(',') } }, request));
    },
  );

  fastify.get(
    '/posts/:postId',
    {
      schema: {
        tags: ['posts'],
        operationId: 'getPost',
        summary: 'One post, with its status, error and metrics',
        description: 'Where a 202 points. `errorMessage` says why a failed post failed, in words a person can act on.',
        params: PostIdParams,
        response: { 200: jsonResponse(PostResource, 'The post'), ...problemResponses(404), ...readProblems },
      },
    },
    // The publisher names the post's version: its ETag, so If-Match on a change can be checked against it.
    async (request, reply) => sendJson(reply, await fastify.forwardRead(options.publisherUrl, { path: `/v1/posts/${request.params.postId}` }, request, reply)),
  );

  fastify.patch(
    '/posts/:postId',
    {
      schema: {
        tags: ['posts'],
        operationId: 'updatePost',
        summary: 'Change or reschedule a post that is not yet publishing',
        description:
          'Send only what changes (the platform cannot). `scheduledFor` alone reschedules (a draft becomes queued); ' +
          '`scheduledFor: null` unschedules (back to draft). A post being published, published or failed cannot change (422 ' +
          '`post-not-changeable`).',
        params: PostIdParams,
        headers: CHANGE_HEADERS,
        body: UpdatePostBody,
        response: Changed('Applied'),
      },
    },
    async (request, reply) => {
      const { target, expected } = await changedPost(request, reply, request.params.postId);
      const { scheduledFor, ...changes } = request.body;
      const event: PostRequest & { data: { postId: string } } =
        Object.keys(changes).length > 0
          ? { type: 'post.updated', data: { ...target, changes, ...(scheduledFor === undefined ? {} : { scheduledFor }), ...expected } }
          : typeof scheduledFor === 'string'
            ? { type: 'post.scheduled', data: { ...target, scheduledFor, ...expected } }
            : // The body must change something: with no other field, scheduledFor is null here.
              { type: 'post.cancelled', data: { ...target, reason: 'unscheduled', ...expected } };
      return submit(request, reply, event, false);
    },
  );

  const command = (
    path: string,
    operationId: string,
    summary: string,
    description: string,
    type: 'post.publish-requested' | 'post.retry-requested',
  ) =>
    fastify.post(
      path,
      {
        schema: {
          tags: ['posts'],
          operationId,
          summary,
          description,
          params: PostIdParams,
          headers: CHANGE_HEADERS,
          response: Changed('Applied'),
        },
      },
      async (request, reply) => {
        const { target, expected } = await changedPost(request, reply, request.params.postId);
        return submit(request, reply, { type, data: { ...target, ...expected } }, false);
      },
    );

  command(
    '/posts/:postId/publish',
    'publishPost',
    'Publish a draft or queued post now',
    'The publisher claims it at once; a publish-now racing the scheduler still publishes once. 200 when accepted (status queued, ' +
      'then processing and published: follow GET /v1/posts/{postId}).',
    'post.publish-requested',
  );
  command(
    '/posts/:postId/retry',
    'retryPost',
    'Publish a failed post again',
    'A failed post goes back to the queue, due now, with its retry count reset and its error cleared. Only failed posts (422 otherwise).',
    'post.retry-requested',
  );

  fastify.post(
    '/posts/:postId/cancel',
    {
      schema: {
        tags: ['posts'],
        operationId: 'cancelPost',
        summary: 'Cancel a queued post (back to draft)',
        description: 'Only a queued post can be cancelled; one being published cannot (422 `post-not-changeable`).',
        params: PostIdParams,
        headers: CHANGE_HEADERS,
        // A cancel without a body is the usual case: Fastify hands an absent body over as null.
        body: CancelPostBody.nullish(),
        response: Changed('Applied'),
      },
    },
    async (request, reply) => {
      const { target, expected } = await changedPost(request, reply, request.params.postId);
      const reason = request.body?.reason;
      return submit(request, reply, { type: 'post.cancelled', data: { ...target, ...(reason ? { reason } : {}), ...expected } }, false);
    },
  );

  fastify.delete(
    '/posts/:postId',
    {
      schema: {
        tags: ['posts'],
        operationId: 'deletePost',
        summary: 'Delete a post (and, with fromPlatform=true, the published post on Instagram or Facebook)',
        description:
          'The post is kept with status `deleted`. A published post with `fromPlatform=true` is deleted on the platform first ' +
          'where Meta allows it. A post being published cannot be deleted (422).',
        params: PostIdParams,
        querystring: DeletePostQuery,
        headers: CHANGE_HEADERS,
        response: Changed('Applied'),
      },
    },
    async (request, reply) => {
      const { target, expected } = await changedPost(request, reply, request.params.postId);
      return submit(request, reply, { type: 'post.delete-requested', data: { ...target, deleteFromPlatform: request.query.fromPlatform, ...expected } }, false);
    },
  );

  fastify.post(
    '/accounts/:accountId/posts/retry',
    {
      schema: {
        tags: ['posts'],
        operationId: 'retryAccountPosts',
        summary: 'Retry every failed post of an account (after reconnecting it)',
        description:
          'Each failed post goes back to the queue. 200 lists the posts the publisher put back within a short wait; 202 when none ' +
          'answered in time (or none had failed): list them with GET /v1/posts?account={accountId}.',
        params: AccountIdPathParams,
        headers: z.object(PREFER_HEADER),
        response: {
          200: jsonResponse(AccountRetryResult, 'The posts the publisher put back in the queue (and those it refused)', locationHeader("The account's posts: /v1/posts?account={accountId}")),
          202: jsonResponse(AccountRetryResult, 'No answer in time, or `Prefer: respond-async`: the request is on Kafka', locationHeader("The account's posts: /v1/posts?account={accountId}")),
          ...problemResponses(404),
          ...readProblems,
        },
      },
    },
    async (request, reply) => {
      const { accountId } = request.params;
      // Only an account the caller can see: its owner (the accounts service) decides.
      const visible = await fastify.readUpstream(options.accountsUrl, { path: `/v1/accounts/${accountId}` }, request);
      if (visible.status === 404) throw new ProblemError(404, 'account-not-found', 'Account not found', `No account ${accountId} in your organisation.`);
      if (visible.status !== 200) throw new ProblemError(502, 'upstream-failed', 'Bad Gateway', 'The accounts service failed. Try again.');
      const eventId = randomUUID();
      const respondAsync = prefersRespondAsync(request.headers.prefer);
      const answers = respondAsync ? undefined : fastify.answers.awaitPostAnswers(eventId, { timeoutMs: options.answerTimeoutMs, settleMs: ACCOUNT_RETRY_SETTLE_MS });
      await produce(request, eventId, { type: 'post.account-retry-requested', data: { socialAccountId: accountId } });
      const received = (await answers) ?? [];
      const retried = received.flatMap((answer) => (answer.type === 'post.accepted' ? [{ postId: answer.data.postId, status: answer.data.status }] : []));
      const refused = received.flatMap((answer) => (answer.type === 'post.rejected' ? [{ postId: answer.data.postId, violations: answer.data.violations }] : []));
      const answered = received.length > 0;
      requests.inc({ type: 'post.account-retry-requested', outcome: respondAsync ? 'async' : answered ? 'accepted' : 'pending' });
      reply.code(answered ? 200 : 202).header('location', `/v1/posts?account=${accountId}`);
      if (respondAsync) reply.header('preference-applied', 'respond-async');
      return reply.send({ socialAccountId: accountId, status: answered ? 'applied' : 'pending', requestEventId: eventId, retried, refused });
    },
  );

  fastify.get(
    '/content/unposted',
    {
      schema: {
        tags: ['posts'],
        operationId: 'listUnpostedContent',
        summary: 'Finished videos not yet posted anywhere',
        description: "Your organisation's completed videos that no post has published yet, newest first.",
        querystring: UnpostedContentQuery,
        response: { 200: jsonResponse(UnpostedContent, 'A page of finished videos no post has published yet'), ...readProblems },
      },
    },
    async (request, reply) => sendJson(reply, await fastify.forwardRead(options.publisherUrl, { path: '/v1/content/unposted', query: request.query }, request)),
  );
};

function summaryOf(answer: PostAnswer | undefined): z.infer<typeof AcceptedPostSummary> | undefined {
  if (answer?.type !== 'post.accepted') return undefined;
  const { postId, socialAccountId, status, platform, postType, scheduledFor } = answer.data;
  return { id: postId, socialAccountId, status, platform, postType, scheduledFor };
}
