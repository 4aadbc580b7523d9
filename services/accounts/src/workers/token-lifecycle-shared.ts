import { type OutgoingEvent, accountEvents } from '@postwire/contracts';
import type { TokenCipher } from '@postwire/crypto';
import type { DatabasePool, DatabaseTransactionConnection } from '@postwire/db';
import { type GraphClient, classifyGraphError, isGraphError, toErrorInfo } from '@postwire/graph';
import type { ServiceLogger } from '@postwire/kafka';
import { appendToOutbox } from '@postwire/outbox';
import { Counter, type Registry } from 'prom-client';
import { type LifecycleCandidate, type LockedAccount, createLifecycleQueries } from '../db/lifecycle-queries.ts';
import { type ExpiredReason, type FailureInfo, expiredReason, reconnectMessage } from '../domain/expiry.ts';
import { ACCOUNTS } from '../service.ts';
import type { LifecycleSettings } from './token-lifecycle-config.ts';

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

/** What a failed Graph call (or an unreadable stored token) means for the account. */
export type Verdict =
  | { readonly kind: 'expired'; readonly reason: ExpiredReason; readonly info: FailureInfo }
  | { readonly kind: 'failed'; readonly info: FailureInfo };

export function verdictOf(error: unknown): Verdict {
  if (!isGraphError(error)) {
    return { kind: 'failed', info: { category: 'unknown', message: 'The stored token could not be used; we will try again.', retryable: true } };
  }
  const info = toErrorInfo(error);
  if (classifyGraphError(error).class === 'token-invalid') {
    const reason = expiredReason(info.subcode);
    return { kind: 'expired', reason, info: { ...info, category: 'token', message: reconnectMessage(reason), retryable: false } };
  }
  return { kind: 'failed', info };
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
      await appendToOutbox(connection, ACCOUNTS, accountEvents, [
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
    await appendToOutbox(connection, ACCOUNTS, accountEvents, [
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
