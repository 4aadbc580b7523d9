import { hostname } from 'node:os';
import { type OutgoingEvent, type Platform, postEvents } from '@postwire/contracts';
import type { TokenCipher } from '@postwire/crypto';
import type { DatabasePool } from '@postwire/db';
import { type GraphClient, type GraphErrorInfo, classifyGraphError, isGraphError, toErrorInfo } from '@postwire/graph';
import { appendToOutbox } from '@postwire/outbox';
import type { FastifyBaseLogger } from 'fastify';
import { createContentCounters } from '../db/content-counters.ts';
import { type ClaimedPost, type PublishingLimitRecord, createPublishingQueries, mediaOf } from '../db/publishing-queries.ts';
import { accountTokenContext } from '../db/accounts-projection.ts';
import { finalCaption } from '../domain/caption.ts';
import { PUBLISHER } from '../service.ts';
import { lateness } from '../domain/lateness.ts';
import { type MediaProbeSettings, probePostMedia } from '../domain/media-probe.ts';
import { type OutcomeDecision, type StepFailure, decideOutcome } from '../domain/outcome.ts';
import { attemptNumber } from '../domain/retry-policy.ts';
import type { PublishingMetrics } from '../workers/publishing-metrics.ts';
import type { PublishingEngineSettings } from '../workers/publishing-engine-config.ts';
import { PublishRefusedError } from './engine-errors.ts';
import { MediaProcessingError } from './facebook-flow.ts';
import { ClaimLostError, type PlatformFlow, type PostToPublish, type PublishAccount, type StepOutcome } from './flow.ts';

/** Where the engine's events go: the publisher's outbox, as the publisher's CloudEvents source. */
const PUBLISHER_OUTBOX = { schema: PUBLISHER.schema, source: PUBLISHER.source } as const;

type PostEventOut = OutgoingEvent<typeof postEvents>;

/** What a post whose account cannot publish is told (the account expired, was disconnected, or is in error). */
export const RECONNECT_MESSAGE = 'The connection to this account is no longer valid (expired, revoked or disconnected). Reconnect the account, then retry the post.';

export type PublishingEngineDependencies = {
  /** The worker role's pool (BYPASSRLS): the engine publishes for every organisation. */
  readonly pool: DatabasePool;
  readonly graph: GraphClient;
  readonly cipher: TokenCipher;
  readonly flows: Partial<Record<Platform, PlatformFlow>>;
  readonly settings: PublishingEngineSettings;
  /** The intake's media probe, run again before an attempt touches the platform (Meta fetches the URLs then). */
  readonly mediaProbe: MediaProbeSettings;
  readonly logger: FastifyBaseLogger;
  readonly metrics: PublishingMetrics;
  /** The flows' clock (publish marks, quota windows); claims and leases use the database's. */
  readonly now?: () => Date;
  readonly random?: () => number;
};

export type PublishingEngine = {
  readonly instanceId: string;
  start(): void;
  /** Claims what is due now and runs those steps to their end: for tests and operator commands. */
  runOnce(): Promise<number>;
  /** No new claims; the steps in hand finish (they release their claims), then anything still held is released. */
  stop(): Promise<void>;
  /** Posts this instance is working on now. */
  inHand(): number;
};

type Claimed = { readonly row: ClaimedPost; readonly post: PostToPublish; readonly account: PublishAccount; readonly missed: string | undefined };

/**
 * The publishing engine: a dispatcher that claims due posts up to its free slots (one post per account at a time,
 * in turns across organisations, safe across instances) and runs one step of each post's platform flow. A step
 * ends in a wait (the claim is released and the post looked at again later), published, a retry, or a failure;
 * each in one transaction with its event.
 */
export function createPublishingEngine(dependencies: PublishingEngineDependencies): PublishingEngine {
  const { pool, graph, cipher, flows, settings, metrics } = dependencies;
  const logger = dependencies.logger.child({ component: 'publishing-engine' });
  const now = dependencies.now ?? (() => new Date());
  const random = dependencies.random ?? Math.random;
  const instanceId = settings.instanceId ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const queries = createPublishingQueries(pool);
  const inHand = new Map<string, Promise<void>>();
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let leaseTimer: NodeJS.Timeout | undefined;
  let dueTimer: NodeJS.Timeout | undefined;
  let started = false;
  let ticking: Promise<number> | undefined;
  let again = false;

  /** Free slots that make a finished step start a claim pass before the timer does. */
  const claimBatchSize = Math.max(1, Math.floor(settings.concurrency / 8));
  const outcomeSettings = { retry: settings.retry, rateLimitFallbackMs: settings.rateLimitFallbackMs, quotaRecheckMs: settings.quotaRecheckMs };

  function toPost(row: ClaimedPost): PostToPublish {
    return {
      id: row.id,
      organisationId: row.organisation_id,
      socialAccountId: row.social_account_id,
      platform: row.platform,
      postType: row.post_type,
      facebookFormat: row.facebook_format,
      text: finalCaption(row.caption, row.hashtags),
      media: mediaOf(row),
      locationId: row.location_id,
      shareToFeed: row.share_to_feed ?? false,
      linkUrl: row.link_url,
      firstComment: row.first_comment,
      collaborators: row.collaborators,
      trialGraduation: row.trial_graduation,
      scheduledFor: row.scheduled_for === null ? null : new Date(row.scheduled_for),
      publishingSince: new Date(row.publishing_started_at),
    };
  }

  function toAccount(row: ClaimedPost): PublishAccount {
    return {
      socialAccountId: row.social_account_id,
      platform: row.platform,
      accountType: row.account_type,
      platformAccountId: row.platform_account_id,
      pageId: row.page_id,
      username: row.username,
    };
  }

  /**
   * One short transaction: candidates from the due index, their accounts locked (SKIP LOCKED), the posts and
   * accounts leased, and post.publishing written for each attempt that starts now (not for a post that missed
   * its window: it fails right after, without having started).
   */
  async function claimBatch(limit: number): Promise<{ readonly claimed: Claimed[]; readonly contended: boolean }> {
    const scan = Math.min(5_000, Math.max(500, limit * 40));
    return pool.transaction(async (connection) => {
      const inTransaction = createPublishingQueries(connection);
      const candidates = await inTransaction.dueCandidates(limit, scan, instanceId);
      if (candidates.length === 0) return { claimed: [], contended: false };
      const locked = await inTransaction.lockFreeAccounts([...new Set(candidates.map((candidate) => candidate.social_account_id))]);
      const lockedSet = new Set(locked);
      const picked = candidates.filter((candidate) => lockedSet.has(candidate.social_account_id)).map((candidate) => candidate.id);
      const rows = await inTransaction.claim(picked, locked, instanceId, settings.leaseMs);
      const claimed = rows.map((row): Claimed => {
        const post = toPost(row);
        const verdict = row.previous_status === 'queued' ? lateness(post.scheduledFor, new Date(row.claimed_at), settings.maxLatenessMs) : { kind: 'on-time' as const };
        return { row, post, account: toAccount(row), missed: verdict.kind === 'missed' ? verdict.message : undefined };
      });
      const announced: PostEventOut[] = claimed
        .filter((entry) => entry.row.new_attempt && entry.missed === undefined)
        .map(({ row }) => {
          const container = row.publish_state.container;
          return {
            type: 'post.publishing',
            data: {
              postId: row.id,
              socialAccountId: row.social_account_id,
              platform: row.platform,
              postType: row.post_type,
              attempt: attemptNumber(row.retry_count ?? 0),
              ...(typeof container === 'string' ? { containerId: container } : {}),
            },
            metadata: { organisationId: row.organisation_id },
          };
        });
      await appendToOutbox(connection, PUBLISHER_OUTBOX, postEvents, announced);
      // Another instance took some of these accounts or posts meanwhile: there may be more to claim right away.
      return { claimed, contended: rows.length < candidates.length };
    });
  }

  async function published(claimed: Claimed, outcome: Extract<StepOutcome, { kind: 'published' }>): Promise<void> {
    const { row, post } = claimed;
    const limit = publishingLimitOf(outcome.progress);
    const done = await pool.transaction(async (connection) => {
      const marked = await createPublishingQueries(connection).markPublished(
        { id: row.id, socialAccountId: row.social_account_id },
        instanceId,
        { progress: outcome.progress, platformPostId: outcome.platformPostId, platformUrl: outcome.platformUrl },
        limit,
      );
      if (marked === null) return null;
      if (marked.content_id !== null) await createContentCounters(connection).published(marked.content_id);
      await appendToOutbox(connection, PUBLISHER_OUTBOX, postEvents, [
        {
          type: 'post.published',
          data: {
            postId: row.id,
            socialAccountId: row.social_account_id,
            platform: row.platform,
            postType: row.post_type,
            contentId: marked.content_id,
            platformPostId: outcome.platformPostId,
            platformUrl: httpsUrlOrNull(outcome.platformUrl),
            mediaCount: outcome.mediaCount,
            publishedAt: new Date(marked.published_at).toISOString(),
          },
          metadata: { organisationId: row.organisation_id },
        },
      ]);
      return marked;
    });
    if (done === null) {
      logger.warn({ postId: row.id }, 'published, but the claim was lost before it was recorded; the next claim reconciles');
      return;
    }
    metrics.outcomes.inc({ platform: row.platform, post_type: row.post_type, outcome: 'published' });
    metrics.claimToPublish.observe({ platform: row.platform }, Math.max(0, (done.published_at - post.publishingSince.getTime()) / 1000));
    if (post.scheduledFor !== null) metrics.scheduleToPublish.observe({ platform: row.platform }, Math.max(0, (done.published_at - post.scheduledFor.getTime()) / 1000));
    logger.info({ postId: row.id, platform: row.platform, platformPostId: outcome.platformPostId }, 'post published');
  }

  async function waited(claimed: Claimed, outcome: Extract<StepOutcome, { kind: 'wait' }>): Promise<void> {
    const { row } = claimed;
    const nextAttemptAt = new Date(Date.now() + outcome.checkAfterMs);
    const pause = outcome.reason === 'processing' ? undefined : { until: nextAttemptAt, reason: outcome.reason };
    await queries.wait({ id: row.id, socialAccountId: row.social_account_id }, instanceId, outcome.progress, nextAttemptAt, {
      ...(pause === undefined ? {} : { pause }),
      publishingLimit: publishingLimitOf(outcome.progress),
    });
    if (outcome.reason === 'quota') metrics.quotaWaits.inc({ platform: row.platform });
    metrics.outcomes.inc({ platform: row.platform, post_type: row.post_type, outcome: outcome.reason === 'processing' ? 'waiting' : outcome.reason });
    wakeBeforeTimer(outcome.checkAfterMs);
  }

  /** A post to look at again sooner than the next timer pass (a container polled after 1 s) gets a wake of its own. */
  function wakeBeforeTimer(inMs: number): void {
    if (!started || stopping || inMs >= settings.claimIntervalMs) return;
    setTimeout(wake, inMs).unref();
  }

  async function applyDecision(claimed: Claimed, decision: OutcomeDecision): Promise<void> {
    const { row } = claimed;
    const ref = { id: row.id, socialAccountId: row.social_account_id };
    const metadata = { organisationId: row.organisation_id };
    const retryCount = row.retry_count ?? 0;
    switch (decision.kind) {
      case 'wait': {
        await queries.wait(ref, instanceId, undefined, decision.nextAttemptAt, { pause: { until: decision.nextAttemptAt, reason: decision.reason } });
        if (decision.reason === 'quota') metrics.quotaWaits.inc({ platform: row.platform });
        metrics.outcomes.inc({ platform: row.platform, post_type: row.post_type, outcome: decision.reason });
        logger.info({ postId: row.id, reason: decision.reason, until: decision.nextAttemptAt.toISOString() }, 'account paused; the post waits');
        return;
      }
      case 'retry': {
        await pool.transaction(async (connection) => {
          const scheduled = await createPublishingQueries(connection).scheduleRetry(ref, instanceId, decision.retryCount, decision.nextAttemptAt, decision.error);
          if (scheduled === null) return;
          await appendToOutbox(connection, PUBLISHER_OUTBOX, postEvents, [
            {
              type: 'post.retrying',
              data: {
                postId: row.id,
                socialAccountId: row.social_account_id,
                platform: row.platform,
                attempt: attemptNumber(retryCount),
                maxRetries: row.max_retries ?? 3,
                nextAttemptAt: decision.nextAttemptAt.toISOString(),
                error: eventError(decision.error),
              },
              metadata,
            },
          ]);
        });
        metrics.outcomes.inc({ platform: row.platform, post_type: row.post_type, outcome: 'retrying' });
        logger.warn({ postId: row.id, attempt: attemptNumber(retryCount), category: decision.error.category, code: decision.error.code, subcode: decision.error.subcode }, 'publishing step failed; retrying');
        return;
      }
      case 'fail':
        await fail(claimed, decision.error, decision.accountStatus);
    }
  }

  async function fail(claimed: Claimed, error: GraphErrorInfo, accountStatus: 'expired' | null): Promise<void> {
    const { row } = claimed;
    await pool.transaction(async (connection) => {
      const failed = await createPublishingQueries(connection).markFailed({ id: row.id, socialAccountId: row.social_account_id }, instanceId, error, accountStatus);
      if (failed === null) return;
      await appendToOutbox(connection, PUBLISHER_OUTBOX, postEvents, [
        {
          type: 'post.failed',
          data: {
            postId: row.id,
            socialAccountId: row.social_account_id,
            platform: row.platform,
            attempts: attemptNumber(failed.retry_count ?? 0),
            error: eventError(error),
            failedAt: now().toISOString(),
          },
          metadata: { organisationId: row.organisation_id },
        },
      ]);
    });
    metrics.outcomes.inc({ platform: row.platform, post_type: row.post_type, outcome: 'failed' });
    logger.warn({ postId: row.id, category: error.category, code: error.code, subcode: error.subcode, accountStatus }, 'post failed');
  }

  /**
   * The media URLs answered when the post was accepted; Meta fetches them now. One that no longer answers fails
   * (or retries) here, with a message naming it, rather than as Meta's vaguer download error.
   */
  async function mediaFailure(post: PostToPublish): Promise<StepFailure | undefined> {
    const violations = await probePostMedia(post.media, dependencies.mediaProbe);
    const first = violations[0];
    if (first === undefined) return undefined;
    const position = post.media.length > 1 ? ` (${first.field.replace(/\.url$/, '')})` : '';
    return {
      kind: 'media',
      info: { category: 'bad-media', message: `Before publishing, ${first.message}${position}.`, retryable: first.code === 'media-unreachable' },
    };
  }

  function failureOf(error: unknown): StepFailure {
    if (error instanceof PublishRefusedError) return { kind: 'refused', info: error.info };
    if (error instanceof MediaProcessingError) return { kind: 'refused', info: { category: 'bad-media', message: error.message, retryable: false } };
    if (isGraphError(error)) return { kind: 'graph', classification: classifyGraphError(error), info: toErrorInfo(error) };
    logger.error({ err: error }, 'publishing step failed for a reason other than Meta');
    return { kind: 'internal' };
  }

  async function step(claimed: Claimed): Promise<void> {
    const { row, post, account } = claimed;
    const started = performance.now();
    try {
      if (claimed.missed !== undefined) {
        await fail(claimed, { category: 'invalid-request', message: claimed.missed, retryable: false }, null);
        return;
      }
      if (row.account_status !== 'active') {
        await fail(claimed, { category: 'token', message: RECONNECT_MESSAGE, retryable: false }, null);
        return;
      }
      const flow = flows[row.platform];
      if (flow === undefined) {
        // No flow for this platform in this build: leave the post for an instance that has one.
        await queries.wait({ id: row.id, socialAccountId: row.social_account_id }, instanceId, undefined, new Date(Date.now() + 60_000));
        logger.warn({ postId: row.id, platform: row.platform }, 'no publishing flow for this platform here');
        return;
      }
      if (row.new_attempt && Object.keys(row.publish_state).length === 0 && post.media.length > 0) {
        const media = await mediaFailure(post);
        if (media !== undefined) {
          await applyDecision(claimed, decideOutcome(media, { retryCount: row.retry_count ?? 0, maxRetries: row.max_retries ?? 3 }, now(), outcomeSettings, random));
          return;
        }
      }
      let outcome: StepOutcome;
      try {
        const token = cipher.decrypt(row.access_token, accountTokenContext(row.social_account_id));
        outcome = await flow.step(post, row.publish_state, {
          graph,
          token,
          account,
          now,
          logger,
          save: async (progress) => {
            if (!(await queries.saveProgress(row.id, instanceId, { ...progress }, settings.leaseMs))) throw new ClaimLostError(row.id);
          },
        });
      } catch (error) {
        if (error instanceof ClaimLostError) {
          logger.warn({ postId: row.id }, 'claim lost mid-step; another instance has the post');
          return;
        }
        await applyDecision(claimed, decideOutcome(failureOf(error), { retryCount: row.retry_count ?? 0, maxRetries: row.max_retries ?? 3 }, now(), outcomeSettings, random));
        return;
      }
      if (outcome.kind === 'published') await published(claimed, outcome);
      else await waited(claimed, outcome);
    } finally {
      metrics.steps.observe({ platform: row.platform }, (performance.now() - started) / 1000);
    }
  }

  function launch(claimed: Claimed): Promise<void> {
    const running = step(claimed)
      .catch((error: unknown) => {
        // The step's own bookkeeping failed (database down): the lease runs out and the post is taken again.
        logger.error({ err: error, postId: claimed.row.id }, 'publishing step could not record its outcome');
      })
      .finally(() => {
        inHand.delete(claimed.row.id);
        // Claim again at once only when a batch's worth of slots is free: one claim transaction per finished
        // step would cap throughput at the claim rate. The timer picks up the rest (a lone post included).
        if (settings.concurrency - inHand.size >= claimBatchSize) wake();
      });
    inHand.set(claimed.row.id, running);
    return running;
  }

  async function tick(): Promise<{ claimed: number; running: Promise<void>[] }> {
    const running: Promise<void>[] = [];
    let claimedNow = 0;
    // A pass that lost candidates to another instance claiming at the same moment tries again (a few times)
    // for the slots still free, instead of leaving them idle until the next pass.
    for (let round = 0; round < 3; round += 1) {
      const free = settings.concurrency - inHand.size;
      if (stopping || free <= 0) break;
      const batch = await claimBatch(free);
      metrics.claims.inc(batch.claimed.length);
      claimedNow += batch.claimed.length;
      running.push(...batch.claimed.map(launch));
      if (batch.claimed.length >= free) break;
      if (!batch.contended) {
        await wakeAtNextDue();
        break;
      }
    }
    return { claimed: claimedNow, running };
  }

  /**
   * Nothing more is due now: when a post falls due before the next timer pass, wake exactly then, so a post
   * scheduled for 09:00:00.000 is claimed at that moment rather than up to an interval later.
   */
  async function wakeAtNextDue(): Promise<void> {
    if (!started) return;
    const inMs = await queries.nextDueInMs(settings.claimIntervalMs);
    clearTimeout(dueTimer);
    if (inMs === null || stopping) return;
    dueTimer = setTimeout(wake, Math.max(0, inMs));
    dueTimer.unref();
  }

  /** Runs a tick unless one is running (then one more runs after it). */
  function wake(): void {
    if (stopping) return;
    if (ticking !== undefined) {
      again = true;
      return;
    }
    ticking = tick()
      .then((result) => result.claimed)
      .catch((error: unknown) => {
        logger.error({ err: error }, 'claiming due posts failed');
        return 0;
      })
      .finally(() => {
        ticking = undefined;
        if (again) {
          again = false;
          setImmediate(wake);
        }
      });
  }

  function schedule(): void {
    if (stopping) return;
    timer = setTimeout(() => {
      wake();
      schedule();
    }, settings.claimIntervalMs);
    timer.unref();
  }

  function renewLeases(): void {
    if (stopping || inHand.size === 0) return;
    queries.renewLeases([...inHand.keys()], instanceId, settings.leaseMs).catch((error: unknown) => logger.error({ err: error }, 'renewing claim leases failed'));
  }

  return {
    instanceId,
    start() {
      started = true;
      schedule();
      leaseTimer = setInterval(renewLeases, Math.max(1_000, Math.floor(settings.leaseMs / 3)));
      leaseTimer.unref();
      wake();
    },
    async runOnce() {
      const { claimed, running } = await tick();
      await Promise.all(running);
      return claimed;
    },
    async stop() {
      stopping = true;
      clearTimeout(timer);
      clearTimeout(dueTimer);
      clearInterval(leaseTimer);
      await ticking;
      await Promise.all(inHand.values());
      await queries.releaseAll(instanceId);
    },
    inHand: () => inHand.size,
  };
}

function publishingLimitOf(progress: Readonly<Record<string, unknown>>): PublishingLimitRecord | undefined {
  const limit = progress.publishingLimit;
  if (typeof limit !== 'object' || limit === null) return undefined;
  const { quotaTotal, quotaUsage, windowSeconds, checkedAt } = limit as Record<string, unknown>;
  if (typeof quotaTotal !== 'number' || typeof quotaUsage !== 'number' || typeof windowSeconds !== 'number' || typeof checkedAt !== 'string') return undefined;
  return { quotaTotal, quotaUsage, windowSeconds, checkedAt };
}

/** Permalinks are https URLs; anything else is left out of the event rather than failing it. */
function httpsUrlOrNull(url: string | null): string | null {
  return url !== null && /^https?:\/\//.test(url) && url.length <= 2048 ? url : null;
}

/** The contracts' ErrorInfo: a message within its 2,000 characters. */
function eventError(error: GraphErrorInfo): GraphErrorInfo {
  return { ...error, message: error.message.slice(0, 2000) };
}
