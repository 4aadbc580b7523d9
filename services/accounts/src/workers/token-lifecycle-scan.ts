import { EncryptedSecret, accountEvents } from '@postwire/contracts';
import { eventFieldContext } from '@postwire/crypto';
import { appendToOutbox } from '@postwire/outbox';
import { type ExpiringRow, type LifecycleCandidate, createLifecycleQueries } from '../db/lifecycle-queries.ts';
import { MIN_REFRESH_AGE_HOURS, expiresInSeconds, isInstagramLoginToken, refreshDue } from '../domain/expiry.ts';
import { createRunGate, forEachBounded, withPassLock } from '@postwire/service-kit';
import { ACCOUNTS, accessTokenContext } from '../service.ts';
import { type AccountEventOut, type LifecycleDependencies, applyVerdict, backToActive, unchanged, verdictOf } from './token-lifecycle-shared.ts';

const REFRESH_LOCK = 'postwire:accounts:token-refresh';
const FIRST_ID = '00000000-0000-0000-0000-000000000000';
const HOUR_MS = 3_600_000;

export type ExpiryScanReport = {
  /** False when another instance held the refresh pass (its announcements still ran here). */
  readonly refreshRan: boolean;
  readonly refreshed: number;
  readonly expired: number;
  readonly failed: number;
  readonly announced: number;
};

export type ExpiryScan = {
  runOnce(): Promise<ExpiryScanReport | 'stopped'>;
  stop(): Promise<void>;
};

/**
 * The expiry scan (seed example query 4). Each run first refreshes the Instagram Login tokens that are due
 * (`ig_refresh_token`), so a refreshed token is not announced as expiring, then announces `token.expiring`
 * for every active account whose token crossed a threshold: once per account, threshold and expiry, recorded in
 * `accounts.token_expiry_notices` in the transaction that writes the event.
 */
export function createExpiryScan(dependencies: LifecycleDependencies): ExpiryScan {
  const { pool, graph, cipher, metrics, settings } = dependencies;
  const logger = dependencies.logger.child({ component: 'expiry-scan' });
  const clock = dependencies.now ?? (() => new Date());
  const gate = createRunGate();

  async function refreshOne(read: LifecycleCandidate, now: Date, counts: { refreshed: number; expired: number; failed: number }): Promise<void> {
    if (!refreshDue(new Date(read.last_refresh_at), now, settings.refreshAgeHours)) return;
    let token: string;
    try {
      token = cipher.decrypt(read.access_token, accessTokenContext(read.id));
    } catch (error) {
      if (await applyVerdict(dependencies, read, 'refresh', verdictOf(error), now)) counts.failed += 1;
      return;
    }
    // Facebook Login tokens (Page tokens) cannot be extended; the scan tells the user to reconnect instead.
    if (!isInstagramLoginToken(token)) return;
    let grant: Awaited<ReturnType<typeof graph.refreshInstagramToken>>;
    try {
      grant = await graph.refreshInstagramToken(token);
    } catch (error) {
      const verdict = verdictOf(error);
      if (await applyVerdict(dependencies, read, 'refresh', verdict, now)) counts[verdict.kind] += 1;
      return;
    }
    const expiresAt = grant.expiresIn === undefined ? null : new Date(now.getTime() + grant.expiresIn * 1000);
    const stored = await pool.transaction(async (connection) => {
      const queries = createLifecycleQueries(connection);
      const row = await queries.lock(read.id);
      // Reconnected or disconnected while Meta answered: the row's own token wins.
      if (!unchanged(row, read)) return false;
      await queries.storeRefreshed(row.id, cipher.encrypt(grant.accessToken, accessTokenContext(row.id)), expiresAt, now);
      const events: AccountEventOut[] = [
        {
          type: 'account.token-refreshed',
          data: {
            socialAccountId: row.id,
            platform: row.platform,
            accessToken: EncryptedSecret.parse(cipher.encrypt(grant.accessToken, eventFieldContext('account.token-refreshed', row.id, 'accessToken'))),
            tokenExpiresAt: expiresAt?.toISOString() ?? null,
            refreshedAt: now.toISOString(),
          },
          metadata: { organisationId: row.organisation_id },
        },
        ...backToActive(row, now),
      ];
      await appendToOutbox(connection, ACCOUNTS, accountEvents, events);
      return true;
    });
    if (!stored) return;
    counts.refreshed += 1;
    metrics.refreshed.inc();
    logger.info({ socialAccountId: read.id, tokenExpiresAt: expiresAt?.toISOString() }, 'instagram token refreshed');
  }

  async function refreshPass(now: Date) {
    const counts = { refreshed: 0, expired: 0, failed: 0 };
    const refreshedBefore = new Date(now.getTime() - Math.max(settings.refreshAgeHours, MIN_REFRESH_AGE_HOURS) * HOUR_MS);
    const outcome = await withPassLock(pool, REFRESH_LOCK, async () => {
      let afterId = FIRST_ID;
      for (;;) {
        const batch = await createLifecycleQueries(pool).refreshCandidates(now, refreshedBefore, afterId, settings.batchSize);
        await forEachBounded(batch, settings.concurrency, (read) => refreshOne(read, now, counts));
        const last = batch.at(-1);
        if (last === undefined || batch.length < settings.batchSize || gate.stopping) return;
        afterId = last.id;
      }
    });
    return { ran: outcome !== 'skipped', ...counts };
  }

  function expiringEvent(row: ExpiringRow, now: Date): AccountEventOut {
    let refreshable = false;
    try {
      refreshable = row.platform === 'instagram' && isInstagramLoginToken(cipher.decrypt(row.access_token, accessTokenContext(row.id)));
    } catch {
      // An unreadable token cannot be refreshed either; the health check reports it.
    }
    const expiresAt = new Date(row.token_expires_at);
    return {
      type: 'token.expiring',
      data: {
        socialAccountId: row.id,
        platform: row.platform,
        tokenExpiresAt: expiresAt.toISOString(),
        expiresInSeconds: expiresInSeconds(expiresAt, now),
        refreshable,
      },
      metadata: { organisationId: row.organisation_id },
    };
  }

  /**
   * Claims a batch with FOR UPDATE SKIP LOCKED in a short transaction, records the notices and writes the
   * events with them. Concurrent scanners take disjoint batches; the notices' primary key makes a second
   * announcement impossible even if they did not.
   */
  async function announcePass(now: Date): Promise<number> {
    let announced = 0;
    for (;;) {
      const batch = await pool.transaction(async (connection) => {
        const queries = createLifecycleQueries(connection);
        const rows = await queries.claimExpiring(now, settings.thresholdsDays, settings.batchSize);
        const events: AccountEventOut[] = [];
        for (const row of rows) {
          if (await queries.recordNotice(row.id, row.threshold_days, new Date(row.token_expires_at), now)) events.push(expiringEvent(row, now));
        }
        await appendToOutbox(connection, ACCOUNTS, accountEvents, events);
        return { claimed: rows.length, events };
      });
      for (const event of batch.events) {
        if (event.type !== 'token.expiring') continue;
        metrics.announced.inc({ refreshable: String(event.data.refreshable) });
        logger.info({ socialAccountId: event.data.socialAccountId, tokenExpiresAt: event.data.tokenExpiresAt, refreshable: event.data.refreshable }, 'token expiring announced');
      }
      announced += batch.events.length;
      if (batch.claimed < settings.batchSize || gate.stopping) return announced;
    }
  }

  return {
    runOnce: () =>
      gate.run(async () => {
        const now = clock();
        try {
          const refresh = await refreshPass(now);
          const announced = gate.stopping ? 0 : await announcePass(now);
          metrics.runs.inc({ worker: 'expiry-scan', outcome: 'completed' });
          return { refreshRan: refresh.ran, refreshed: refresh.refreshed, expired: refresh.expired, failed: refresh.failed, announced };
        } catch (error) {
          metrics.runs.inc({ worker: 'expiry-scan', outcome: 'failed' });
          throw error;
        }
      }),
    stop: () => gate.stop(),
  };
}
