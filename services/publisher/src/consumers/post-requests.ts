import { type EventOf, type EventTypeOf, type MediaItem, type PostContent, type PostStatus, type postEvents, type postRequests } from '@postwire/contracts';
import type { TokenCipher } from '@postwire/crypto';
import type { CommonQueryMethods, DatabasePool } from '@postwire/db';
import { type GraphClient, isGraphError, toErrorInfo } from '@postwire/graph';
import { NonRetryableError } from '@postwire/kafka';
import type { Consumed, DeadLetterHandlers, Emit, InboxContext, InboxHandlers } from '@postwire/outbox';
import { Counter, type Registry } from 'prom-client';
import { accountTokenContext, createAccountsProjection } from '../db/accounts-projection.ts';
import { createContentCounters } from '../db/content-counters.ts';
import { type PostMediaRow, type PostState, type PostsRepository, createPostsRepository, toContent } from '../db/posts-repository.ts';
import { probePostMedia } from '../domain/media-probe.ts';
import { type PostCommand, transition } from '../domain/post-state.ts';
import { type AccountView, type Intent, type Violation, facebookFormat, validatePost } from '../domain/validation.ts';
import type { IntakeSettings } from './intake-config.ts';

type In = typeof postRequests;
type Out = typeof postEvents;
type RequestType = EventTypeOf<In>;
type PostEvent = EventOf<Out>;
/** A request about one post (every type but the account-wide retry). */
type PostRequestType = Exclude<RequestType, 'post.account-retry-requested'>;
type AnswerViolation = { readonly field: string; readonly code: string; readonly message: string };

export type PostRequestsDependencies = {
  /** The worker pool: reads made before the transaction (what to probe, what to delete on the platform). */
  readonly pool: DatabasePool;
  readonly graph: GraphClient;
  readonly cipher: TokenCipher;
  readonly settings: IntakeSettings;
  readonly metrics: Registry;
  readonly now?: () => Date;
};

const NOT_FOUND: AnswerViolation = { field: 'postId', code: 'post-not-found', message: 'there is no such post in your organisation' };
const STALE: AnswerViolation = {
  field: 'If-Match',
  code: 'precondition-failed',
  message: 'the post changed since the version If-Match names; read it again and decide on what it is now',
};

/** If-Match: a request made against a version of the post the post is no longer at (the gateway answers 412). */
function isStale(event: Consumed<In, PostRequestType>, post: PostState): boolean {
  const expected = 'expectedVersion' in event.data ? event.data.expectedVersion : undefined;
  return expected !== undefined && expected !== post.version;
}

/** A post as a request finds it: its row, media and account, or nothing when it is not the requester's to see. */
type Loaded = { readonly post: PostState; readonly media: readonly PostMediaRow[]; readonly account: AccountView | null };

/** What a request would do to a post: refused with violations, or a write whose media must answer first. */
type Plan =
  | { readonly ok: false; readonly violations: readonly AnswerViolation[] }
  | {
      readonly ok: true;
      /** Probed before accepting (queued or published now); none for drafts and cancels. */
      readonly probe: readonly MediaItem[];
      readonly write: (posts: PostsRepository) => Promise<{ readonly status: PostStatus; readonly scheduledFor: Date | null }>;
    };

async function accountView(connection: CommonQueryMethods, socialAccountId: string, organisationId: string): Promise<AccountView | null> {
  const account = await createAccountsProjection(connection).forValidation(socialAccountId);
  // Another organisation's account is as unknown as one never connected.
  if (account === null || account.organisation_id !== organisationId) return null;
  return { platform: account.platform, status: account.status, capabilities: account.capabilities };
}

async function load(connection: CommonQueryMethods, event: Consumed<In, PostRequestType>, lock: boolean): Promise<Loaded | null> {
  const posts = createPostsRepository(connection);
  const post = lock ? await posts.lock(event.data.postId) : await posts.find(event.data.postId);
  // Another organisation's post (or one under another account key) does not exist for this requester.
  if (post === null || post.organisation_id !== event.metadata.organisationId || post.social_account_id !== event.data.socialAccountId) return null;
  return { post, media: await posts.media(post.id), account: await accountView(connection, post.social_account_id, post.organisation_id) };
}

const iso = (value: Date | null) => (value === null ? null : value.toISOString());
const dateOf = (epochMs: number | null) => (epochMs === null ? null : new Date(epochMs));

function refusedTransition(status: PostStatus, command: PostCommand): AnswerViolation | undefined {
  const next = transition(status, command);
  return next.allowed ? undefined : { field: 'status', code: next.code, message: next.message };
}

/**
 * `postwire.post-requests.v1`, one function per request type. Each answers post.accepted or post.rejected
 * (requestId = the request's event id) in the transaction that applies it. Whatever is asked outside (the media
 * probe, a platform delete) comes first, outside any transaction; the decision is then taken again on the
 * locked row, so the engine claiming the post meanwhile is seen.
 */
export function postRequestHandlers(dependencies: PostRequestsDependencies): InboxHandlers<In, Out> {
  const { pool, graph, cipher, settings } = dependencies;
  const clock = dependencies.now ?? (() => new Date());
  const outcomes = new Counter({
    name: 'postwire_publisher_post_requests_total',
    help: 'Post requests applied, by request type and answer (accepted, rejected)',
    labelNames: ['type', 'outcome'],
    registers: [dependencies.metrics],
  });
  const probes = new Counter({
    name: 'postwire_publisher_media_probes_total',
    help: 'Media URLs probed when accepting posts, by outcome (ok, or the violation code)',
    labelNames: ['outcome'],
    registers: [dependencies.metrics],
  });

  async function probe(media: readonly MediaItem[]): Promise<Violation[]> {
    const violations = await probePostMedia(media, settings.mediaProbe);
    probes.inc({ outcome: 'ok' }, media.length - violations.length);
    for (const violation of violations) probes.inc({ outcome: violation.code });
    return violations;
  }

  async function reject(event: Consumed<In, PostRequestType>, emit: Emit<Out>, violations: readonly AnswerViolation[], context: InboxContext<Out>): Promise<void> {
    outcomes.inc({ type: event.type, outcome: 'rejected' });
    context.logger.info({ postId: event.data.postId, type: event.type, codes: violations.map((violation) => violation.code) }, 'post request rejected');
    await emit([
      {
        type: 'post.rejected',
        data: { postId: event.data.postId, socialAccountId: event.data.socialAccountId, requestId: event.metadata.id, requestType: event.type, violations: [...violations] },
      },
    ]);
  }

  async function accept(
    event: Consumed<In, RequestType>,
    emit: Emit<Out>,
    post: Pick<PostState, 'id' | 'social_account_id' | 'platform' | 'post_type'>,
    state: { readonly status: PostStatus; readonly scheduledFor: Date | null },
    also: readonly PostEvent[] = [],
  ): Promise<void> {
    outcomes.inc({ type: event.type, outcome: 'accepted' });
    await emit([
      {
        type: 'post.accepted',
        data: {
          postId: post.id,
          socialAccountId: post.social_account_id,
          requestId: event.metadata.id,
          requestType: event.type,
          status: state.status,
          platform: post.platform,
          postType: post.post_type,
          scheduledFor: iso(state.scheduledFor),
        },
      },
      ...also,
    ]);
  }

  /** Validation of the post as it would be, then (only when nothing else is wrong) the media probe. */
  function validated(content: PostContent, account: AccountView | null, intent: Intent, scheduledFor: Date | null, now: Date): Violation[] {
    return validatePost({ content, account, intent, scheduledFor, now, scheduleSkewMs: settings.scheduleSkewMs });
  }

  /**
   * A request about an existing post: planned once to know what to probe, then planned again on the locked row
   * inside the transaction, where it is refused or written and answered.
   */
  async function onExisting(event: Consumed<In, PostRequestType>, context: InboxContext<Out>, planOf: (loaded: Loaded, now: Date) => Plan): Promise<void> {
    // If-Match is decided on the locked row, like everything else: a change committed meanwhile is seen.
    const plan = (loaded: Loaded, now: Date): Plan => (isStale(event, loaded.post) ? { ok: false, violations: [STALE] } : planOf(loaded, now));
    const now = clock();
    const before = await load(pool, event, false);
    const first = before === null ? undefined : plan(before, now);
    const probed = first?.ok === true && first.probe.length > 0 ? await probe(first.probe) : [];
    await context.apply(async (connection, emit) => {
      const loaded = await load(connection, event, true);
      if (loaded === null) return reject(event, emit, [NOT_FOUND], context);
      const decided = plan(loaded, now);
      if (!decided.ok) return reject(event, emit, decided.violations, context);
      // Refused on the first look but acceptable now (the engine moved the post meanwhile): its media were never
      // probed, so the event is applied again from the start (the consumer retries it).
      if (first?.ok !== true && decided.probe.length > 0) throw new Error(`post ${loaded.post.id} changed while ${event.type} was prepared; applying it again`);
      if (probed.length > 0) return reject(event, emit, probed, context);
      const state = await decided.write(createPostsRepository(connection));
      await accept(event, emit, loaded.post, state);
    });
  }

  /** post.drafted, or post.scheduled with content: a new post, or the same idempotent request again. */
  /**
   * The plan of a request that queues a post as it stands (schedule, publish now, retry): `command` allowed from
   * its status, its content valid for `intent` at the time `at` gives, its media answering; `queue` writes it.
   */
  function queueAsItStands(
    command: PostCommand,
    intent: Intent,
    at: (now: Date) => Date,
    queue: (posts: PostsRepository, postId: string, scheduledFor: Date) => Promise<void>,
  ): (loaded: Loaded, now: Date) => Plan {
    return ({ post, media, account }, now) => {
      const refused = refusedTransition(post.status, command);
      if (refused) return { ok: false, violations: [refused] };
      const content = toContent(post, media);
      const scheduledFor = at(now);
      const violations = validated(content, account, intent, scheduledFor, now);
      if (violations.length > 0) return { ok: false, violations };
      return {
        ok: true,
        probe: content.media,
        write: async (posts) => {
          await queue(posts, post.id, scheduledFor);
          return { status: 'queued', scheduledFor };
        },
      };
    };
  }

  async function create(
    event: Consumed<In, 'post.drafted' | 'post.scheduled'>,
    context: InboxContext<Out>,
    content: PostContent,
    scheduledFor: Date | null,
    requestHash: string | undefined,
  ): Promise<void> {
    const { data, metadata } = event;
    const createdBy = metadata.actorId;
    if (createdBy === undefined) throw new NonRetryableError(`${event.type} ${metadata.id} carries no acting user`);
    const now = clock();
    const intent: Intent = scheduledFor === null ? 'draft' : 'queue';
    const account = await accountView(pool, data.socialAccountId, metadata.organisationId);
    const violations = validated(content, account, intent, scheduledFor, now);
    const existing = await createPostsRepository(pool).find(data.postId);
    const probed = existing === null && violations.length === 0 && intent !== 'draft' ? await probe(content.media) : [];
    await context.apply(async (connection, emit) => {
      const posts = createPostsRepository(connection);
      const found = await posts.lock(data.postId);
      if (found !== null) return answerRepeated(event, emit, found, requestHash, context);
      const refused = [...violations, ...probed];
      if (refused.length > 0) return reject(event, emit, refused, context);
      const status = intent === 'draft' ? 'draft' : 'queued';
      await posts.insert({
        id: data.postId,
        organisationId: metadata.organisationId,
        socialAccountId: data.socialAccountId,
        createdBy,
        content,
        facebookFormat: facebookFormat(content),
        status,
        scheduledFor,
        requestHash: requestHash ?? null,
      });
      context.logger.info({ postId: data.postId, status, platform: content.platform, postType: content.postType }, 'post created');
      await accept(event, emit, { id: data.postId, social_account_id: data.socialAccountId, platform: content.platform, post_type: content.postType }, { status, scheduledFor });
    });
  }

  /**
   * The post id derives from (organisation, Idempotency-Key): a retried request finds its post. The same body
   * (same hash) is answered again with the post as it is now; another body under that key is refused.
   */
  async function answerRepeated(
    event: Consumed<In, 'post.drafted' | 'post.scheduled'>,
    emit: Emit<Out>,
    found: PostState,
    requestHash: string | undefined,
    context: InboxContext<Out>,
  ): Promise<void> {
    if (found.organisation_id !== event.metadata.organisationId) return reject(event, emit, [NOT_FOUND], context);
    if (requestHash !== undefined && found.request_hash === requestHash && found.social_account_id === event.data.socialAccountId) {
      return accept(event, emit, found, { status: found.status, scheduledFor: dateOf(found.scheduled_for) });
    }
    const violation: AnswerViolation =
      requestHash === undefined
        ? { field: 'postId', code: 'post-exists', message: 'a post with this id exists already' }
        : { field: 'requestHash', code: 'idempotency-key-reused', message: 'this Idempotency-Key was used for a different request' };
    return reject(event, emit, [violation], context);
  }

  /** Asks Meta to delete a published post; false when Meta does not allow it or the account cannot act any more. */
  async function deleteOnPlatform(post: PostState, context: InboxContext<Out>): Promise<boolean> {
    const account = await createAccountsProjection(pool).forPlatformCall(post.social_account_id);
    if (account === null || post.platform_post_id === null) return false;
    const token = cipher.decrypt(account.access_token, accountTokenContext(account.social_account_id));
    try {
      return await graph.deleteObject(post.platform_post_id, token);
    } catch (error) {
      if (!isGraphError(error)) throw error;
      const info = toErrorInfo(error);
      // A transient failure is retried with the event; a refusal (token, permission, gone) leaves the platform copy.
      if (info.retryable) throw error;
      context.logger.warn({ postId: post.id, category: info.category, code: info.code, subcode: info.subcode }, 'the platform refused to delete the post; deleting ours only');
      return false;
    }
  }

  return {
    async 'post.drafted'(event, context) {
      await create(event, context, event.data.content, null, event.data.requestHash);
    },

    async 'post.scheduled'(event, context) {
      const { data } = event;
      const scheduledFor = new Date(data.scheduledFor);
      if (data.content !== undefined) return create(event, context, data.content, scheduledFor, data.requestHash);
      await onExisting(event, context, queueAsItStands('schedule', 'queue', () => scheduledFor, (posts, postId, at) => posts.setStatus(postId, 'queued', at)));
    },

    async 'post.updated'(event, context) {
      const { changes, scheduledFor: requested } = event.data;
      await onExisting(event, context, ({ post, media, account }, now) => {
        const refused = refusedTransition(post.status, 'update');
        if (refused) return { ok: false, violations: [refused] };
        const content: PostContent = { ...toContent(post, media), ...changes };
        // null unschedules (back to draft), a time (re)schedules, nothing keeps the post's state and time.
        const scheduledFor = requested === undefined ? dateOf(post.scheduled_for) : requested === null ? null : new Date(requested);
        const status = requested === undefined ? (post.status === 'queued' ? 'queued' : 'draft') : requested === null ? 'draft' : 'queued';
        const intent: Intent = status === 'draft' ? 'draft' : requested === undefined ? 'publish-now' : 'queue';
        const violations = validated(content, account, intent, scheduledFor, now);
        if (violations.length > 0) return { ok: false, violations };
        return {
          ok: true,
          probe: status === 'queued' ? content.media : [],
          write: async (posts) => {
            await posts.update(post.id, post.organisation_id, { content, facebookFormat: facebookFormat(content), status, scheduledFor, mediaChanged: changes.media !== undefined });
            return { status, scheduledFor };
          },
        };
      });
    },

    async 'post.publish-requested'(event, context) {
      // Due now: the engine's next pass claims it like any due post, so a racing schedule publishes once.
      await onExisting(event, context, queueAsItStands('publish-now', 'publish-now', (now) => now, (posts, postId, at) => posts.setStatus(postId, 'queued', at)));
    },

    async 'post.cancelled'(event, context) {
      await onExisting(event, context, ({ post }) => {
        const refused = refusedTransition(post.status, 'cancel');
        if (refused) return { ok: false, violations: [refused] };
        const scheduledFor = dateOf(post.scheduled_for);
        return {
          ok: true,
          probe: [],
          write: async (posts) => {
            await posts.setStatus(post.id, 'draft', scheduledFor);
            return { status: 'draft', scheduledFor };
          },
        };
      });
    },

    async 'post.retry-requested'(event, context) {
      await onExisting(event, context, queueAsItStands('retry', 'publish-now', (now) => now, (posts, postId, at) => posts.requeue(postId, at)));
    },

    async 'post.delete-requested'(event, context) {
      const { data } = event;
      const before = await load(pool, event, false);
      // The platform first, outside the transaction: Meta's answer decides nothing about ours, only what we report.
      // A stale If-Match never reaches the platform.
      const deletedFromPlatform =
        before !== null && before.post.status === 'published' && data.deleteFromPlatform && !isStale(event, before.post) ? await deleteOnPlatform(before.post, context) : false;
      await context.apply(async (connection, emit) => {
        const loaded = await load(connection, event, true);
        if (loaded === null) return reject(event, emit, [NOT_FOUND], context);
        const { post } = loaded;
        // Once the platform copy is gone (decided at the version If-Match named), ours follows whatever changed since.
        if (!deletedFromPlatform && isStale(event, post)) return reject(event, emit, [STALE], context);
        const refused = refusedTransition(post.status, 'delete');
        if (refused) return reject(event, emit, [refused], context);
        await createPostsRepository(connection).markDeleted(post.id);
        if (post.status === 'published' && post.content_id !== null) await createContentCounters(connection).unpublished(post.content_id);
        const deletedAt = clock().toISOString();
        context.logger.info({ postId: post.id, wasPublished: post.status === 'published', deletedFromPlatform }, 'post deleted');
        await accept(event, emit, post, { status: 'deleted', scheduledFor: dateOf(post.scheduled_for) }, [
          {
            type: 'post.deleted',
            data: { postId: post.id, socialAccountId: post.social_account_id, platform: post.platform, reason: 'user-request', deletedFromPlatform, deletedAt },
          },
        ]);
      });
    },

    async 'post.account-retry-requested'(event, context) {
      const { data, metadata } = event;
      const now = clock();
      const posts = createPostsRepository(pool);
      const account = await accountView(pool, data.socialAccountId, metadata.organisationId);
      // Each failed post is decided on its own: one whose media no longer answers stays failed, the others go.
      const refusals = new Map<string, readonly AnswerViolation[]>();
      for (const post of await posts.failedOfAccount(metadata.organisationId, data.socialAccountId, false)) {
        const content = toContent(post, await posts.media(post.id));
        const violations = validated(content, account, 'publish-now', now, now);
        refusals.set(post.id, violations.length > 0 ? violations : await probe(content.media));
      }
      await context.apply(async (connection, emit) => {
        const locked = await createPostsRepository(connection).failedOfAccount(metadata.organisationId, data.socialAccountId, true);
        for (const post of locked) {
          const violations = refusals.get(post.id);
          if (violations === undefined || violations.length > 0) {
            // Failed after the look above (or refused): answered, left as it is.
            const answer = violations ?? [{ field: 'postId', code: 'post-not-changeable', message: 'the post failed while the retry was being prepared; retry it again' }];
            outcomes.inc({ type: event.type, outcome: 'rejected' });
            await emit([{ type: 'post.rejected', data: { postId: post.id, socialAccountId: post.social_account_id, requestId: metadata.id, requestType: event.type, violations: [...answer] } }]);
            continue;
          }
          await createPostsRepository(connection).requeue(post.id, now);
          await accept(event, emit, post, { status: 'queued', scheduledFor: now });
        }
        context.logger.info({ socialAccountId: data.socialAccountId, failedPosts: locked.length }, 'account retry applied');
      });
    },
  };
}

/**
 * A request given up (its handler kept failing, or it can never apply): the requester still hears, as a rejection
 * that says to try again, so the gateway's wait ends and nothing was changed. The account-wide retry names no post
 * to answer about; the gateway's 202 covers it.
 */
export const postRequestFailures: DeadLetterHandlers<In, Out> = Object.fromEntries(
  (['post.drafted', 'post.scheduled', 'post.updated', 'post.publish-requested', 'post.cancelled', 'post.delete-requested', 'post.retry-requested'] as const).map((type) => [
    type,
    async (event: Consumed<In, PostRequestType>, failure: { readonly reason: string }, { apply, logger }: Parameters<NonNullable<DeadLetterHandlers<In, Out>[PostRequestType]>>[2]) => {
      logger.warn({ postId: event.data.postId, type: event.type, reason: failure.reason }, 'post request given up; answered as rejected');
      await apply(async (_connection, emit) => {
        await emit([
          {
            type: 'post.rejected',
            data: {
              postId: event.data.postId,
              socialAccountId: event.data.socialAccountId,
              requestId: event.metadata.id,
              requestType: event.type,
              violations: [{ field: 'postId', code: 'request-failed', message: 'the request could not be applied; nothing was changed, try again later' }],
            },
          },
        ]);
      });
    },
  ]),
);
