import { accountEvents } from '@postwire/contracts';
import type { DebugTokenInfo } from '@postwire/graph';
import { appendToOutbox } from '@postwire/outbox';
import { type LifecycleCandidate, createLifecycleQueries } from '../db/lifecycle-queries.ts';
import { crossedThreshold, expiredReason, expiresInSeconds, reconnectMessage } from '../domain/expiry.ts';
import { createRunGate, forEachBounded, withPassLock } from '@postwire/service-kit';
import { ACCOUNTS, accessTokenContext } from '../service.ts';
import { type AccountEventOut, type LifecycleDependencies, type Verdict, applyVerdict, backToActive, unchanged, verdictOf } from './token-lifecycle-shared.ts';

const HEALTH_LOCK = 'postwire:accounts:health-check';

export type HealthCheckReport = {
  /** False when another instance was running the pass. */
  readonly ran: boolean;
  readonly checked: number;
  readonly healthy: number;
  readonly expired: number;
  readonly failed: number;
};

export type HealthCheck = {
  runOnce(): Promise<HealthCheckReport | 'stopped'>;
  /**
   * Asks Meta about one account now (another service saw its token refused): the same verdicts as a pass,
   * so a stale report about a token that was replaced since changes nothing. False when the account is not
   * one to check (unknown, disconnected, already expired).
   */
  checkAccount(id: string): Promise<boolean>;
  stop(): Promise<void>;
};

/**
 * Asks Meta (`debug_token`) about every active or failing account's token, least recently synced first, in
 * batches with a bounded number of calls in flight. An invalid token expires the account; another failure
 * counts; a valid token resets the count, returns an `error` account to active, and (for tokens with no expiry
 * of their own, i.e. Page tokens) announces an approaching data access expiry as `token.expiring` that only a
 * reconnect can renew.
 */
export function createHealthCheck(dependencies: LifecycleDependencies): HealthCheck {
  const { pool, graph, cipher, metrics, settings } = dependencies;
  const logger = dependencies.logger.child({ component: 'health-check' });
  const clock = dependencies.now ?? (() => new Date());
  const gate = createRunGate();

  function invalidVerdict(info: DebugTokenInfo): Verdict {
    const reason = expiredReason(info.error?.subcode);
    return {
      kind: 'expired',
      reason,
      info: {
        category: 'token',
        message: reconnectMessage(reason),
        retryable: false,
        ...(info.error?.code === undefined ? {} : { code: info.error.code }),
        ...(info.error?.subcode === undefined ? {} : { subcode: info.error.subcode }),
      },
    };
  }

  async function healthy(read: LifecycleCandidate, info: DebugTokenInfo, now: Date): Promise<boolean> {
    const dataAccessExpiresAt = read.token_expires_at === null ? info.dataAccessExpiresAt : null;
    const threshold = dataAccessExpiresAt === null ? undefined : crossedThreshold(dataAccessExpiresAt, now, settings.thresholdsDays);
    const announced = await pool.transaction(async (connection) => {
      const queries = createLifecycleQueries(connection);
      const row = await queries.lock(read.id);
      if (!unchanged(row, read)) return undefined;
      await queries.markHealthy(row.id, now);
      const events: AccountEventOut[] = backToActive(row, now);
      if (dataAccessExpiresAt !== null && threshold !== undefined && (await queries.recordNotice(row.id, threshold, dataAccessExpiresAt, now))) {
        events.push({
          type: 'token.expiring',
          data: {
            socialAccountId: row.id,
            platform: row.platform,
            tokenExpiresAt: dataAccessExpiresAt.toISOString(),
            expiresInSeconds: expiresInSeconds(dataAccessExpiresAt, now),
            refreshable: false,
          },
          metadata: { organisationId: row.organisation_id },
        });
      }
      await appendToOutbox(connection, ACCOUNTS, accountEvents, events);
      return events.some((event) => event.type === 'token.expiring');
    });
    if (announced === undefined) return false;
    if (announced) {
      metrics.announced.inc({ refreshable: 'false' });
      logger.info({ socialAccountId: read.id, dataAccessExpiresAt: dataAccessExpiresAt?.toISOString() }, 'data access expiring announced');
    }
    return true;
  }

  async function checkOne(read: LifecycleCandidate, now: Date, counts: { checked: number; healthy: number; expired: number; failed: number }) {
    let info: DebugTokenInfo | undefined;
    let verdict: Verdict | undefined;
    try {
      info = await graph.debugToken(cipher.decrypt(read.access_token, accessTokenContext(read.id)));
    } catch (error) {
      verdict = verdictOf(error);
    }
    if (info?.isValid === true) {
      // Outside the try: a database error here is not Meta's verdict on the token.
      if (await healthy(read, info, now)) {
        counts.checked += 1;
        counts.healthy += 1;
        metrics.checked.inc({ outcome: 'healthy' });
      }
      return;
    }
    verdict ??= info === undefined ? verdictOf(undefined) : invalidVerdict(info);
    if (!(await applyVerdict(dependencies, read, 'health-check', verdict, now))) return;
    counts.checked += 1;
    counts[verdict.kind] += 1;
    metrics.checked.inc({ outcome: verdict.kind });
  }

  async function pass(now: Date) {
    const counts = { checked: 0, healthy: 0, expired: 0, failed: 0 };
    const outcome = await withPassLock(pool, HEALTH_LOCK, async () => {
      // Keyset over (last synced, id); rows synced in this pass carry `now` and fall out of the range.
      let after = { checkedAt: 0, id: '00000000-0000-0000-0000-000000000000' };
      for (;;) {
        const batch = await createLifecycleQueries(pool).healthCandidates(after, now, settings.batchSize);
        await forEachBounded(batch, settings.concurrency, (read) => checkOne(read, now, counts));
        const last = batch.at(-1);
        if (last === undefined || batch.length < settings.batchSize || gate.stopping) return;
        after = { checkedAt: last.checked_at, id: last.id };
      }
    });
    return { ran: outcome !== 'skipped', ...counts };
  }

  return {
    runOnce: () =>
      gate.run(async () => {
        try {
          const report = await pass(clock());
          metrics.runs.inc({ worker: 'health-check', outcome: report.ran ? 'completed' : 'skipped' });
          if (report.checked > 0) logger.info(report, 'health check done');
          return report;
        } catch (error) {
          metrics.runs.inc({ worker: 'health-check', outcome: 'failed' });
          throw error;
        }
      }),
    checkAccount: async (id) => {
      const read = await createLifecycleQueries(pool).healthCandidate(id);
      if (read === null) return false;
      const result = await gate.run(async () => {
        const counts = { checked: 0, healthy: 0, expired: 0, failed: 0 };
        await checkOne(read, clock(), counts);
        if (counts.checked > 0) logger.info({ socialAccountId: id, ...counts }, 'account checked on request');
        return counts.checked > 0;
      });
      return result !== 'stopped' && result;
    },
    stop: () => gate.stop(),
  };
}
