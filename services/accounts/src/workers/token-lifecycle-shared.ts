import { type OutgoingEvent, accountEvents } from '@postwire/contracts';
import { type TokenCipher, columnContext } from '@postwire/crypto';
import { type DatabasePool, type DatabaseTransactionConnection, sql } from '@postwire/db';
import { GraphApiError, type GraphClient, GraphNetworkError, GraphResponseError, classifyGraphError } from '@postwire/graph';
import type { ServiceLogger } from '@postwire/kafka';
import { appendToOutbox } from '@postwire/outbox';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import { type LifecycleCandidate, type LockedAccount, createLifecycleQueries } from '../db/lifecycle-queries.ts';
import { type ExpiredReason, type FailureInfo, expiredReason, failureCategory, reconnectMessage } from '../domain/expiry.ts';
import type { LifecycleSettings } from './token-lifecycle-config.ts';

export const OUTBOX = { schema: 'accounts', source: '/postwire/accounts' } as const;
export const TABLE = 'social_media_accounts';

export type AccountEventOut = OutgoingEvent<typeof accountEvents>;
export type LifecycleStage = 'refresh' | 'health-check';

export type LifecycleMetrics = {
  readonly runs: Counter<'worker' | 'outcome'>;
  readonly announced: Counter<'refreshable'>;
  readonly refreshed: Counter;
  readonly expired: Counter<'stage' | 'reason'>;
  readonly failures: Counter<'stage' | 'category'>;
  readonly checked: Counter<'outcome'>;
};

export function createLifecycleMetrics(registry: Registry): LifecycleMetrics {
  return {
    runs: new Counter({
      name: 'postwire_accounts_token_scans_total',
      help: 'Runs of the token lifecycle workers, by worker and outcome (completed, skipped: another instance held the pass, failed).',
      labelNames: ['worker', 'outcome'] as const,
      registers: [registry],
    }),
    announced: new Counter({
      name: 'postwire_accounts_token_expiring_announced_total',
      help: 'token.expiring events written (once per account, threshold and expiry).',
      labelNames: ['refreshable'] as const,
      registers: [registry],
    }),
    refreshed: new Counter({ name: 'postwire_accounts_tokens_refreshed_total', help: 'Instagram Login tokens refreshed.', registers: [registry] }),
    expired: new Counter({
      name: 'postwire_accounts_expired_total',
      help: 'Accounts marked expired because Meta no longer accepts their token.',
      labelNames: ['stage', 'reason'] as const,
      registers: [registry],
    }),
    failures: new Counter({
      name: 'postwire_accounts_lifecycle_failures_total',
      help: 'Refreshes and health checks that failed without the token being invalid.',
      labelNames: ['stage', 'category'] as const,
      registers: [registry],
    }),
    checked: new Counter({
      name: 'postwire_accounts_health_checks_total',
      help: 'Tokens checked with debug_token, by outcome (healthy, expired, failed).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
}

export type LifecycleDependencies = {
  /** The worker role's pool (BYPASSRLS): the scans cover every organisation. */
  readonly pool: DatabasePool;
  readonly graph: GraphClient;
  readonly cipher: TokenCipher;
  readonly logger: ServiceLogger;
  readonly metrics: LifecycleMetrics;
  readonly settings: LifecycleSettings;
  /** The worker's clock; tests move it together with the sandbox's. */
  readonly now?: () => Date;
};

export function accessTokenContext(accountId: string) {
  return columnContext(TABLE, accountId, 'access_token');
}

/**
 * A session advisory lock held for one pass on a dedicated connection: refresh and health check call Meta
 * between reading a row and writing it, which no row lock may span (no transaction waits on Meta), so one
 * instance runs a pass at a time and the others skip it. Released at the end, or by Postgres if we die.
 */
export async function withPassLock<T>(pool: DatabasePool, name: string, work: () => Promise<T>): Promise<T | 'skipped'> {
  return pool.connect(async (connection) => {
    const locked = await connection.oneFirst(sql.type(z.object({ locked: z.boolean() }))`SELECT pg_try_advisory_lock(hashtext(${name})) AS locked`);
    if (!locked) return 'skipped';
    try {
      return await work();
    } finally {
      await connection.query(sql.type(z.object({ unlocked: z.boolean() }))`SELECT pg_advisory_unlock(hashtext(${name})) AS unlocked`);
    }
  });
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function forEachBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next];
      next += 1;
      if (item !== undefined) await work(item);
    }
  });
  await Promise.all(lanes);
}

export function isGraphError(error: unknown): error is GraphApiError | GraphNetworkError | GraphResponseError {
  return error instanceof GraphApiError || error instanceof GraphNetworkError || error instanceof GraphResponseError;
}

/** What a failed Graph call (or an unreadable stored token) means for the account. */
export type Verdict =
  | { readonly kind: 'expired'; readonly reason: ExpiredReason; readonly info: FailureInfo }
  | { readonly kind: 'failed'; readonly info: FailureInfo };

export function verdictOf(error: unknown): Verdict {
  if (!isGraphError(error)) {
    return { kind: 'failed', info: { category: 'unknown', message: 'The stored token could not be used; we will try again.', retryable: true } };
  }
  const classification = classifyGraphError(error);
  const codes = {
    ...(error instanceof GraphApiError && error.code !== undefined ? { code: error.code } : {}),
    ...(error instanceof GraphApiError && error.subcode !== undefined ? { subcode: error.subcode } : {}),
  };
  if (classification.class === 'token-invalid') {
    const reason = expiredReason(error instanceof GraphApiError ? error.subcode : undefined);
    return { kind: 'expired', reason, info: { category: 'token', message: reconnectMessage(reason), retryable: false, ...codes } };
  }
  return {
    kind: 'failed',
    info: { category: failureCategory(classification.class), message: classification.userMessage, retryable: classification.retryable, ...codes },
  };
}

/** The row is still the one we read: same token, still in a state a lifecycle worker may change. */
export function unchanged(row: LockedAccount | null, read: LifecycleCandidate): row is LockedAccount {
  return row !== null && row.access_token === read.access_token && (row.status === 'active' || row.status === 'error');
}

export function profileOf(row: LockedAccount) {
  return {
    socialAccountId: row.id,
    platform: row.platform,
    accountType: row.account_type,
    platformAccountId: row.platform_account_id,
    username: row.username,
    profilePictureUrl: row.profile_picture_url,
    pageId: row.page_id,
    pageName: row.page_name,
    capabilities: { feed: row.can_publish_feed, stories: row.can_publish_stories, reels: row.can_publish_reels },
  };
}

/** An `error` account that just worked again is announced as active. */
export function backToActive(row: LockedAccount, now: Date): AccountEventOut[] {
  if (row.status !== 'error') return [];
  return [{ type: 'account.updated', data: { ...profileOf(row), status: 'active', lastSyncedAt: now.toISOString() }, metadata: { organisationId: row.organisation_id } }];
}

/**
 * Applies a failed refresh or health check in one transaction with its event: token invalid -> `expired` and
 * `account.expired`; anything else -> one more consecutive failure (`error` from the configured count) and
 * `account.connection-failed`. Nothing happens when the row changed meanwhile (reconnected, disconnected).
 */
export async function applyVerdict(
  dependencies: LifecycleDependencies,
  read: LifecycleCandidate,
  stage: LifecycleStage,
  verdict: Verdict,
  now: Date,
): Promise<boolean> {
  const { pool, settings, metrics } = dependencies;
  const applied = await pool.transaction(async (connection: DatabaseTransactionConnection) => {
    const queries = createLifecycleQueries(connection);
    const row = await queries.lock(read.id);
    if (!unchanged(row, read)) return false;
    const metadata = { organisationId: row.organisation_id };
    if (verdict.kind === 'expired') {
      await queries.markExpired(row.id, verdict.info.message);
      await appendToOutbox(connection, OUTBOX, accountEvents, [
        {
          type: 'account.expired',
          data: { socialAccountId: row.id, platform: row.platform, reason: verdict.reason, error: verdict.info, expiredAt: now.toISOString() },
          metadata,
        },
      ]);
      return true;
    }
    const failures = row.connection_error_count + 1;
    await queries.recordFailure(row.id, failures, settings.maxConsecutiveFailures, verdict.info.message);
    await appendToOutbox(connection, OUTBOX, accountEvents, [
      {
        type: 'account.connection-failed',
        data: { socialAccountId: row.id, platform: row.platform, stage, error: verdict.info, consecutiveFailures: failures },
        metadata,
      },
    ]);
    return true;
  });
  if (!applied) return false;
  const logger = dependencies.logger;
  if (verdict.kind === 'expired') {
    metrics.expired.inc({ stage, reason: verdict.reason });
    logger.warn({ socialAccountId: read.id, stage, reason: verdict.reason, code: verdict.info.code, subcode: verdict.info.subcode }, 'account expired: Meta no longer accepts its token');
  } else {
    metrics.failures.inc({ stage, category: verdict.info.category });
    logger.warn({ socialAccountId: read.id, stage, category: verdict.info.category, code: verdict.info.code, subcode: verdict.info.subcode }, 'token lifecycle check failed');
  }
  return true;
}

/**
 * A worker's stop: no new batch starts, the batch in hand finishes. `runOnce` calls run one at a time.
 */
export function createRunGate() {
  let stopping = false;
  let inFlight: Promise<unknown> | undefined;
  return {
    get stopping() {
      return stopping;
    },
    async run<T>(work: () => Promise<T>): Promise<T | 'stopped'> {
      if (stopping) return 'stopped';
      while (inFlight !== undefined) await inFlight.catch(() => undefined);
      if (stopping) return 'stopped';
      const running = work();
      inFlight = running;
      try {
        return await running;
      } finally {
        inFlight = undefined;
      }
    },
    async stop(): Promise<void> {
      stopping = true;
      await inFlight?.catch(() => undefined);
    },
  };
}
