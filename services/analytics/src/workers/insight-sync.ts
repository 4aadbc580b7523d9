import { randomUUID } from 'node:crypto';
import { analyticsEvents } from '@postwire/contracts';
import type { TokenCipher } from '@postwire/crypto';
import type { DatabasePool } from '@postwire/db';
import { type GraphClient, GraphApiError, classifyGraphError, isGraphError } from '@postwire/graph';
import type { ServiceLogger } from '@postwire/kafka';
import { appendToOutbox } from '@postwire/outbox';
import { forEachBounded } from '@postwire/service-kit';
import { z } from 'zod';
import { createAccountsProjection } from '../db/accounts-projection.ts';
import { createSnapshotsRepository } from '../db/snapshots-repository.ts';
import { type ClaimedSync, createSyncsRepository } from '../db/syncs-repository.ts';
import { createTrackedPostsRepository } from '../db/tracked-posts-repository.ts';
import {
  FACEBOOK_COUNT_FIELDS,
  type FacebookCounts,
  type InsightValues,
  type MappedInsights,
  engagementRate,
  insightPlan,
  mapFacebookPost,
  mapFacebookReel,
  mapInstagram,
} from '../domain/insights.ts';
import { type SyncFailure, classifySyncFailure, mayRetry, notYetDecision, retryDelayMs } from '../domain/outcome.ts';
import { usageObjectId } from '../domain/pacing.ts';
import { hoursSincePublished, storyInsightsOpen } from '../domain/schedule.ts';
import { ANALYTICS, accountTokenContext } from '../service.ts';
import type { MetaPacer } from './meta-pacer.ts';
import type { SyncMetrics } from './sync-metrics.ts';
import type { SyncSettings } from './sync-config.ts';

export type InsightSyncDependencies = {
  /** The worker role's pool (BYPASSRLS): syncs cover every organisation. */
  readonly pool: DatabasePool;
  readonly graph: GraphClient;
  readonly pacer: MetaPacer;
  readonly cipher: TokenCipher;
  readonly logger: ServiceLogger;
  readonly metrics: SyncMetrics;
  readonly settings: SyncSettings;
  /** The service clock (schedules, pauses, snapshot times); tests move it with the sandbox's. */
  readonly now: () => Date;
  readonly random?: () => number;
};

export type SyncPassReport = { readonly claimed: number; readonly done: number };

/** Meta's insights answer: values may be numbers or, for reactions by type, objects; an empty list while data lags. */
const InsightsAnswer = z.object({
  data: z.array(z.object({ name: z.string(), values: z.array(z.object({ value: z.unknown() })).optional() })),
});
const FacebookCountFields = z.object({
  reactions: z.object({ summary: z.object({ total_count: z.number() }).optional() }).optional(),
  comments: z.object({ summary: z.object({ total_count: z.number() }).optional() }).optional(),
  shares: z.object({ count: z.number() }).optional(),
});
const VideoPost = z.object({ post_id: z.string().optional() });

/** Thrown inside a transaction when the claim was lost: nothing of that transaction may stay. */
class LeaseLost extends Error {}

/**
 * One pass of the insight syncs: claim due syncs (lease, SKIP LOCKED), read each post's insights from Meta at the
 * pace the usage headers allow, and store a snapshot plus `post.metrics-synced` in one transaction, or decide
 * what the failure means (retry with backoff, pause the account or the app, wait for a token, stop).
 */
export function createInsightSync(dependencies: InsightSyncDependencies) {
  const { pool, graph, pacer, cipher, logger, metrics, settings, now } = dependencies;
  const random = dependencies.random ?? Math.random;
  const owner = randomUUID();

  async function call<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      const result = await work();
      metrics.metaCalls.inc({ operation, outcome: 'ok' });
      return result;
    } catch (error) {
      metrics.metaCalls.inc({ operation, outcome: classifyGraphError(error).class });
      throw error;
    }
  }

  function values(answer: z.infer<typeof InsightsAnswer>): InsightValues {
    return Object.fromEntries(answer.data.map((entry) => {
      const raw = entry.values?.[0]?.value;
      return [entry.name, typeof raw === 'number' ? raw : undefined];
    }));
  }

  async function facebookCounts(postId: string, token: string): Promise<FacebookCounts> {
    const fields = await call('facebook-post-fields', () => graph.get(`/${encodeURIComponent(postId)}`, { token, params: { fields: FACEBOOK_COUNT_FIELDS }, schema: FacebookCountFields, retries: 0 }));
    return { reactions: fields.reactions?.summary?.total_count, comments: fields.comments?.summary?.total_count, shares: fields.shares?.count };
  }

  /** The Meta calls of one sync; each waits for its turn with the pacer. 'stop' when usage says the budget is spent. */
  async function readInsights(sync: ClaimedSync, token: string, objectId: string): Promise<MappedInsights | { readonly kind: 'budget-spent'; readonly scope: 'app' | 'account'; readonly waitMs: number }> {
    const { post } = sync;
    const plan = insightPlan(post.platform, post.post_type);
    const mediaId = post.platform_post_id ?? '';
    const turn = async () => {
      const taken = await pacer.take(objectId);
      if (taken.kind === 'stop') throw new BudgetSpent(taken.scope, taken.waitMs);
    };
    const readFacebookPost = async (postId: string, names: readonly string[], video: boolean): Promise<MappedInsights> => {
      await turn();
      const insights = await call('facebook-post-insights', () =>
        graph.get(`/${encodeURIComponent(postId)}/insights`, { token, params: { metric: names.join(',') }, schema: InsightsAnswer, retries: 0 }),
      );
      const found = values(insights);
      // No figures yet: the counts would not make a snapshot either, so they are not asked for.
      if (mapFacebookPost(found, { reactions: 0, comments: 0, shares: 0 }, video).kind === 'not-yet') return { kind: 'not-yet' };
      await turn();
      return mapFacebookPost(found, await facebookCounts(postId, token), video);
    };
    try {
      switch (plan.source) {
        case 'instagram-media': {
          await turn();
          const answer = await call('instagram-insights', () => graph.get(`/${encodeURIComponent(mediaId)}/insights`, { token, params: { metric: plan.metrics.join(',') }, schema: InsightsAnswer, retries: 0 }));
          return mapInstagram(post.post_type, values(answer));
        }
        case 'facebook-post':
          return await readFacebookPost(mediaId, plan.metrics, false);
        case 'facebook-reel': {
          // The publisher keeps the reel's post id (usually) or its video id: a post answers post insights, a
          // video only video_insights. Once the video path worked, the post behind it is remembered.
          if (post.facebook_post_id === null) {
            try {
              return await readFacebookPost(mediaId, plan.metrics, true);
            } catch (error) {
              if (!(error instanceof GraphApiError && error.code === 100 && error.subcode === 33)) throw error;
            }
          }
          await turn();
          const insights = await call('facebook-video-insights', () =>
            graph.get(`/${encodeURIComponent(mediaId)}/video_insights`, { token, params: { metric: plan.videoMetrics.join(',') }, schema: InsightsAnswer, retries: 0 }),
          );
          const found = values(insights);
          if (mapFacebookReel(found, { reactions: 0, comments: 0, shares: 0 }).kind === 'not-yet') return { kind: 'not-yet' };
          let facebookPostId = post.facebook_post_id;
          if (facebookPostId === null) {
            await turn();
            const video = await call('facebook-video', () => graph.get(`/${encodeURIComponent(mediaId)}`, { token, params: { fields: 'post_id' }, schema: VideoPost, retries: 0 }));
            if (video.post_id === undefined) return { kind: 'not-yet' };
            facebookPostId = video.post_id;
            await createTrackedPostsRepository(pool).rememberFacebookPost(post.id, facebookPostId);
          }
          await turn();
          return mapFacebookReel(found, await facebookCounts(facebookPostId, token));
        }
        case 'none':
          return { kind: 'not-yet' };
      }
    } catch (error) {
      if (error instanceof BudgetSpent) return { kind: 'budget-spent', scope: error.scope, waitMs: error.waitMs };
      throw error;
    }
  }

  async function store(sync: ClaimedSync, mapped: Extract<MappedInsights, { kind: 'available' }>, at: Date): Promise<void> {
    const { post } = sync;
    const rate = engagementRate(mapped.metrics);
    const hours = post.published_at === null ? null : hoursSincePublished(new Date(post.published_at), at);
    await pool.transaction(async (connection) => {
      const snapshotId = await createSnapshotsRepository(connection).insert({ postId: post.id, metrics: mapped.metrics, engagementRate: rate, snapshotAt: at, hoursSincePublished: hours ?? 0 });
      const finished = await createSyncsRepository(connection).finish(sync.id, owner, { status: 'done', reason: null, snapshotId, at });
      if (!finished) throw new LeaseLost();
      await appendToOutbox(connection, ANALYTICS, analyticsEvents, [
        {
          type: 'post.metrics-synced',
          data: {
            postId: post.id,
            socialAccountId: post.social_account_id,
            platform: post.platform,
            postType: post.post_type,
            platformPostId: post.platform_post_id ?? '',
            snapshotId,
            metrics: mapped.metrics,
            engagementRate: rate,
            hoursSincePublished: hours,
            snapshotAt: at.toISOString(),
          },
          metadata: { organisationId: post.organisation_id },
        },
      ]);
    });
  }

  async function applyFailure(sync: ClaimedSync, failure: SyncFailure, at: Date): Promise<string> {
    const syncs = createSyncsRepository(pool);
    switch (failure.kind) {
      case 'retry': {
        const attempts = sync.attempts + 1;
        if (!mayRetry(attempts, settings.retry)) {
          await syncs.finish(sync.id, owner, { status: 'failed', reason: failure.reason, snapshotId: null, at });
          return 'failed';
        }
        await syncs.retryAt(sync.id, owner, new Date(at.getTime() + retryDelayMs(attempts, settings.retry, random())), failure.reason, true);
        return 'retried';
      }
      case 'rate-limited': {
        const until = new Date(at.getTime() + failure.waitMs);
        // The pause and the sync's new time together: nobody sees a paused account whose sync still looks untouched.
        await pool.transaction(async (connection) => {
          const accounts = createAccountsProjection(connection);
          if (failure.scope === 'app') await accounts.pauseApp(until, 'rate-limited');
          else await accounts.pause(sync.account.id, until);
          await createSyncsRepository(connection).retryAt(sync.id, owner, until, 'rate-limited', false);
        });
        pacer.forget(failure.scope === 'app' ? 'app' : usageObjectId({ platform: sync.account.platform, platformAccountId: sync.account.platform_account_id, pageId: sync.account.page_id }));
        metrics.pauses.inc({ scope: failure.scope });
        logger.warn({ scope: failure.scope, socialAccountId: sync.account.id, until: until.toISOString() }, 'meta rate limit: pausing until access returns');
        return 'rate-limited';
      }
      case 'account-blocked':
        if (sync.account.access_token !== null) await createAccountsProjection(pool).markTokenRefused(sync.account.id, sync.account.access_token, at);
        await syncs.release(sync.id, owner);
        logger.warn({ socialAccountId: sync.account.id, reason: failure.reason }, "meta refused the account's token: its syncs wait for a new one");
        return 'account-blocked';
      case 'unavailable':
        await syncs.finish(sync.id, owner, { status: 'unavailable', reason: failure.reason, snapshotId: null, at });
        return 'unavailable';
      case 'stop':
        await pool.transaction(async (connection) => {
          const finished = await createSyncsRepository(connection).finish(sync.id, owner, { status: 'stopped', reason: failure.reason, snapshotId: null, at });
          if (!finished) return;
          await createSyncsRepository(connection).stopPost(sync.post_id, failure.reason, at);
          await createTrackedPostsRepository(connection).stopSyncs(sync.post_id, failure.reason);
        });
        logger.info({ postId: sync.post_id, reason: failure.reason }, 'meta refused the insights for good: syncs stopped');
        return 'stopped';
    }
  }

  /** Pauses learnt during the pass in hand: the rest of its batch for that account (or everything) is given back. */
  type PassState = { appPaused: boolean; readonly pausedAccounts: Set<string> };

  async function runSync(sync: ClaimedSync, pass: PassState): Promise<string> {
    const at = now();
    if (pass.appPaused || pass.pausedAccounts.has(sync.account.id)) {
      await createSyncsRepository(pool).release(sync.id, owner);
      return 'released';
    }
    const syncs = createSyncsRepository(pool);
    const { post, account } = sync;
    const publishedAt = post.published_at === null ? at : new Date(post.published_at);
    if (post.post_type === 'story' && post.platform === 'instagram' && !storyInsightsOpen(publishedAt, at)) {
      await syncs.finish(sync.id, owner, { status: 'unavailable', reason: 'story-insights-expired', snapshotId: null, at });
      return 'unavailable';
    }
    const plan = insightPlan(post.platform, post.post_type);
    if (plan.source === 'none') {
      await syncs.finish(sync.id, owner, { status: 'unavailable', reason: plan.reason, snapshotId: null, at });
      return 'unavailable';
    }
    if (account.access_token === null || post.platform_post_id === null) {
      await syncs.release(sync.id, owner);
      return 'released';
    }
    let token: string;
    try {
      token = cipher.decrypt(account.access_token, accountTokenContext(account.id));
    } catch {
      // A token that does not open (keys rotated away) is as good as refused: wait for a new one.
      return applyFailure(sync, { kind: 'account-blocked', reason: 'token-unreadable' }, at);
    }
    const objectId = usageObjectId({ platform: account.platform, platformAccountId: account.platform_account_id, pageId: account.page_id });
    let mapped: Awaited<ReturnType<typeof readInsights>>;
    try {
      mapped = await readInsights(sync, token, objectId);
    } catch (error) {
      if (!isGraphError(error)) throw error;
      const classified = classifyGraphError(error);
      const failure = classifySyncFailure(
        {
          class: classified.class,
          code: error instanceof GraphApiError ? error.code : undefined,
          subcode: error instanceof GraphApiError ? error.subcode : undefined,
          retryAfterMs: classified.retryAfterMs,
          publishedAgeMs: now().getTime() - publishedAt.getTime(),
        },
        post.post_type,
        settings.rateLimitPauseMs,
      );
      if (failure.kind === 'rate-limited') {
        if (failure.scope === 'app') pass.appPaused = true;
        else pass.pausedAccounts.add(sync.account.id);
      }
      return applyFailure(sync, failure, now());
    }
    const finishedAt = now();
    if (mapped.kind === 'budget-spent') {
      if (mapped.scope === 'app') pass.appPaused = true;
      else pass.pausedAccounts.add(sync.account.id);
      return applyFailure(sync, { kind: 'rate-limited', scope: mapped.scope, waitMs: mapped.waitMs }, finishedAt);
    }
    if (mapped.kind === 'not-yet') {
      const decision = notYetDecision(finishedAt, sync.next_due_at === null ? undefined : new Date(sync.next_due_at), settings.notYetRecheckMs);
      if (decision.kind === 'give-up') {
        await syncs.finish(sync.id, owner, { status: 'unavailable', reason: 'not-available-yet', snapshotId: null, at: finishedAt });
        return 'unavailable';
      }
      await syncs.retryAt(sync.id, owner, decision.at, 'not-available-yet', false);
      return 'not-yet';
    }
    try {
      await store(sync, mapped, finishedAt);
    } catch (error) {
      if (error instanceof LeaseLost) return 'lost';
      throw error;
    }
    return 'done';
  }

  return {
    owner,
    /** One pass: claims a batch and runs it with bounded concurrency. */
    async runOnce(): Promise<SyncPassReport> {
      const at = now();
      if ((await createAccountsProjection(pool).appPausedUntil(at)) !== undefined) return { claimed: 0, done: 0 };
      const claimed = await createSyncsRepository(pool).claim(owner, at, settings.leaseMs, settings.batchSize);
      let done = 0;
      const pass: PassState = { appPaused: false, pausedAccounts: new Set() };
      await forEachBounded(claimed, settings.concurrency, async (sync) => {
        let outcome: string;
        try {
          outcome = await runSync(sync, pass);
        } catch (error) {
          // Not Meta's answer (the database, a bug): the lease runs out and the sync is claimed again.
          logger.error({ err: error, syncId: sync.id, postId: sync.post_id }, 'insight sync failed');
          outcome = 'error';
        }
        if (outcome === 'done') done += 1;
        metrics.syncs.inc({ kind: sync.kind, outcome });
      });
      return { claimed: claimed.length, done };
    },
  };
}

class BudgetSpent extends Error {
  readonly scope: 'app' | 'account';
  readonly waitMs: number;
  constructor(scope: 'app' | 'account', waitMs: number) {
    super('usage budget spent');
    this.scope = scope;
    this.waitMs = waitMs;
  }
}
