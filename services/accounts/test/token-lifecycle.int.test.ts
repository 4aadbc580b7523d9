import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountEvents } from '@postwire/contracts';
import { type TokenCipher, columnContext, createTokenCipher, eventFieldContext } from '@postwire/crypto';
import { type DatabasePool, createDatabasePool } from '@postwire/db';
import { createGraphClient } from '@postwire/graph';
import { type TestDatabase, createTestDatabase, sandboxControl, startMetaSandbox } from '@postwire/testing';
import { type LifecycleDependencies, createLifecycleMetrics } from '../src/workers/token-lifecycle-shared.ts';
import { createHealthCheck } from '../src/workers/token-lifecycle-health.ts';
import { createExpiryScan } from '../src/workers/token-lifecycle-scan.ts';
import { type Observed, buildAccounts, eventually, observeTopic, testEnvironment } from './helpers.ts';

// The sandbox's dev seed (infra/meta-sandbox/README.md).
const ALICE = '1000900000000101';
const BAKERY_PAGE = '1001000000000201';
const BAKERY_IG = '17841400000000301';
const STUDIO_IG = '17841400000000302';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

type Row = {
  status: string;
  error_message: string | null;
  connection_error_count: number;
  access_token: string;
  token_expires_at: Date | null;
  last_token_refresh: Date | null;
};

describe('token lifecycle: expiry scan, Instagram refresh and health checks against the Meta sandbox', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  let sandbox: Awaited<ReturnType<typeof startMetaSandbox>>;
  let accounts: FastifyInstance;
  let logLines: string[];
  let cipher: TokenCipher;
  let observer: Awaited<ReturnType<typeof observeTopic>>;
  let workerPool: DatabasePool;
  let base: LifecycleDependencies;
  const registry = new Registry();
  const organisationId = randomUUID();
  const plaintextTokens = new Set<string>();
  /** The workers' clock runs ahead of the real one by exactly as much as the sandbox clock was advanced. */
  let aheadMs = 0;
  const now = () => new Date(Date.now() + aheadMs);
  let platformIds = 0;

  beforeAll(async () => {
    database = await createTestDatabase('accounts_lifecycle');
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    await admin.query(`INSERT INTO organisations (id, name) VALUES ($1, 'lifecycle')`, [organisationId]);
    sandbox = await startMetaSandbox();
    const built = await buildAccounts(testEnvironment(database, sandbox.baseUrl));
    accounts = built.app;
    logLines = built.logLines;
    cipher = createTokenCipher(built.config.keyRing);
    observer = await observeTopic(accountEvents.name);
    // The workers as another instance of the service builds them (same role, Graph settings, key ring), with
    // the test's clock; their events leave through the running service's outbox relay.
    workerPool = await createDatabasePool(built.config.database.worker, { applicationName: 'accounts-lifecycle-test' });
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    base = {
      pool: workerPool,
      graph: createGraphClient(built.config.graph),
      cipher,
      logger: pino({ level: 'debug' }, stream),
      metrics: createLifecycleMetrics(registry),
      settings: built.config.lifecycle,
      now,
    };
  });

  afterAll(async () => {
    await observer?.stop();
    await workerPool?.end();
    await accounts?.close();
    await sandbox?.close();
    await admin?.end();
    await database?.drop();
  });

  function dependencies(overrides: Partial<LifecycleDependencies['settings']> = {}): LifecycleDependencies {
    return { ...base, settings: { ...base.settings, ...overrides } };
  }

  async function advance(hours: number): Promise<void> {
    await sandboxControl(sandbox.baseUrl, 'POST', '/clock', { advanceHours: hours });
    aheadMs += hours * HOUR_MS;
  }

  async function mint(body: Record<string, unknown>): Promise<string> {
    const { access_token: token } = await sandboxControl<{ access_token: string }>(sandbox.baseUrl, 'POST', '/tokens', { longLived: true, ...body });
    plaintextTokens.add(token);
    return token;
  }

  /** Stores an account the way the connect flow does: token encrypted for its row and column. */
  async function insertAccount(input: { platform: 'instagram' | 'facebook'; token: string; expiresAt: Date | null; lastRefresh?: Date }): Promise<string> {
    const id = randomUUID();
    platformIds += 1;
    await admin.query(
      `INSERT INTO accounts.social_media_accounts
         (id, organisation_id, platform, account_type, platform_account_id, username, access_token, token_expires_at, last_token_refresh, last_synced_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
      [
        id,
        organisationId,
        input.platform,
        input.platform === 'facebook' ? 'page' : 'business',
        `${input.platform === 'facebook' ? '10010000' : '178414'}${String(platformIds).padStart(8, '0')}`,
        `lifecycle${platformIds}`,
        cipher.encrypt(input.token, columnContext('social_media_accounts', id, 'access_token')),
        input.expiresAt,
        input.lastRefresh ?? now(),
      ],
    );
    return id;
  }

  async function row(id: string): Promise<Row> {
    const result = await admin.query<Row>(
      `SELECT status, error_message, connection_error_count, access_token, token_expires_at, last_token_refresh FROM accounts.social_media_accounts WHERE id = $1`,
      [id],
    );
    const found = result.rows[0];
    if (!found) throw new Error(`no account ${id}`);
    return found;
  }

  const eventsOf = (id: string, type: string): Observed[] => observer.messages.filter((message) => message.key === id && message.headers.ce_type === type);

  async function outboxCount(id: string, type: string): Promise<number> {
    const result = await admin.query<{ count: string }>(`SELECT count(*) AS count FROM accounts.outbox WHERE message_key = $1 AND event_type = $2`, [id, type]);
    return Number(result.rows[0]?.count ?? 0);
  }

  it('announces token.expiring once per account and threshold, across repeated scans and two scanners at once', async () => {
    const pageToken = await mint({ kind: 'facebook-page', subjectId: ALICE, pageId: BAKERY_PAGE });
    const igToken = await mint({ kind: 'instagram-user', subjectId: BAKERY_IG });
    const page = await insertAccount({ platform: 'facebook', token: pageToken, expiresAt: new Date(now().getTime() + 6 * DAY_MS) });
    const instagram = await insertAccount({ platform: 'instagram', token: igToken, expiresAt: new Date(now().getTime() + 2.5 * DAY_MS) });
    const first = createExpiryScan(dependencies());
    const second = createExpiryScan(dependencies());

    const reports = await Promise.all([first.runOnce(), second.runOnce()]);
    await first.runOnce();
    await second.runOnce();

    expect(reports.map((report) => (report === 'stopped' ? 0 : report.announced)).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2);
    expect(await outboxCount(page, 'token.expiring')).toBe(1);
    expect(await outboxCount(instagram, 'token.expiring')).toBe(1);
    const notices = await admin.query<{ account_id: string; threshold_days: number }>(
      `SELECT account_id, threshold_days FROM accounts.token_expiry_notices WHERE account_id = ANY($1::uuid[]) ORDER BY threshold_days DESC`,
      [[page, instagram]],
    );
    expect(notices.rows).toEqual([
      { account_id: page, threshold_days: 7 },
      { account_id: instagram, threshold_days: 3 },
    ]);
    const [pageEvent] = await eventually(() => (eventsOf(page, 'token.expiring').length === 1 ? eventsOf(page, 'token.expiring') : undefined), 'token.expiring (page)');
    expect(pageEvent?.data).toMatchObject({ socialAccountId: page, platform: 'facebook', refreshable: false });
    expect(pageEvent?.headers.ce_organisationid).toBe(organisationId);
    const [igEvent] = await eventually(() => (eventsOf(instagram, 'token.expiring').length === 1 ? eventsOf(instagram, 'token.expiring') : undefined), 'token.expiring (ig)');
    expect(igEvent?.data).toMatchObject({ socialAccountId: instagram, platform: 'instagram', refreshable: true });
    expect(Number(igEvent?.data.expiresInSeconds)).toBeGreaterThan(2 * 86_400);

    // Four days later each token has crossed the next threshold (3 days, 1 day): one more announcement each, once.
    const later = createExpiryScan({ ...dependencies(), now: () => new Date(now().getTime() + 4 * DAY_MS) });
    await Promise.all([later.runOnce(), later.runOnce()]);
    await later.runOnce();
    expect(await outboxCount(page, 'token.expiring')).toBe(2);
    expect(await outboxCount(instagram, 'token.expiring')).toBe(2);
    await eventually(() => (eventsOf(instagram, 'token.expiring').length === 2 ? true : undefined), 'the second token.expiring');
    expect(eventsOf(instagram, 'token.expiring')[1]?.data).toMatchObject({ expiresInSeconds: 0, refreshable: true });
    const thresholds = await admin.query<{ threshold_days: number }>(`SELECT threshold_days FROM accounts.token_expiry_notices WHERE account_id = $1 ORDER BY threshold_days DESC`, [page]);
    expect(thresholds.rows.map((notice) => notice.threshold_days)).toEqual([7, 3]);
    // Notices are the workers' alone: the user-scoped role may not read them at all.
    const app = new pg.Client({ connectionString: database.urlFor('accounts', 'app') });
    await app.connect();
    try {
      await expect(app.query('SELECT count(*) AS count FROM accounts.token_expiry_notices')).rejects.toThrow(/permission denied for table token_expiry_notices/);
    } finally {
      await app.end();
    }
    const metrics = await registry.getSingleMetricAsString('postwire_accounts_token_expiring_announced_total');
    expect(metrics).toMatch(/refreshable="false"\} [1-9]/);
  });

  it('refreshes an Instagram Login token that is 24 h old: new token stored encrypted, expiry moved, account.token-refreshed', async () => {
    const token = await mint({ kind: 'instagram-user', subjectId: STUDIO_IG });
    const connectedAt = now();
    const id = await insertAccount({ platform: 'instagram', token, expiresAt: new Date(connectedAt.getTime() + 60 * DAY_MS), lastRefresh: connectedAt });

    // Not yet 24 h old: Meta would refuse, so nothing is asked.
    const early = await createExpiryScan(dependencies({ refreshAgeHours: 24 })).runOnce();
    expect(early).toMatchObject({ refreshed: 0, failed: 0 });
    expect((await row(id)).connection_error_count).toBe(0);

    await advance(25);
    const report = await createExpiryScan(dependencies({ refreshAgeHours: 24 })).runOnce();
    expect(report).toMatchObject({ refreshRan: true, failed: 0 });
    expect(report === 'stopped' ? 0 : report.refreshed).toBeGreaterThanOrEqual(1);

    const after = await row(id);
    const refreshed = cipher.decrypt(after.access_token, columnContext('social_media_accounts', id, 'access_token'));
    plaintextTokens.add(refreshed);
    expect(refreshed).toMatch(/^IG/);
    expect(refreshed).not.toBe(token);
    expect(after.status).toBe('active');
    expect(after.token_expires_at?.getTime()).toBeGreaterThan(connectedAt.getTime() + 60 * DAY_MS + 20 * HOUR_MS);
    expect(Math.abs((after.last_token_refresh?.getTime() ?? 0) - now().getTime())).toBeLessThan(60_000);

    const [event] = await eventually(() => (eventsOf(id, 'account.token-refreshed').length > 0 ? eventsOf(id, 'account.token-refreshed') : undefined), 'account.token-refreshed');
    expect(event?.data).toMatchObject({ socialAccountId: id, platform: 'instagram', tokenExpiresAt: after.token_expires_at?.toISOString() });
    const carried = cipher.decrypt(String(event?.data.accessToken), eventFieldContext('account.token-refreshed', id, 'accessToken'));
    expect(carried).toBe(refreshed);

    // The new token works at Meta, and a second scan right away has nothing to refresh for it.
    expect(await createExpiryScan(dependencies({ refreshAgeHours: 24 })).runOnce()).toMatchObject({ failed: 0 });
    expect(eventsOf(id, 'account.token-refreshed')).toHaveLength(1);
    expect(await outboxCount(id, 'account.token-refreshed')).toBe(1);
  });

  it('a reconnect while Meta is refreshing wins: the row keeps the reconnect\'s token and nothing is announced', async () => {
    const token = await mint({ kind: 'instagram-user', subjectId: STUDIO_IG });
    const reconnected = await mint({ kind: 'instagram-user', subjectId: STUDIO_IG });
    const id = await insertAccount({ platform: 'instagram', token, expiresAt: new Date(now().getTime() + 59 * DAY_MS), lastRefresh: new Date(now().getTime() - 30 * HOUR_MS) });
    await advance(25);
    const base = dependencies({ refreshAgeHours: 24 });
    const reconnectedCiphertext = cipher.encrypt(reconnected, columnContext('social_media_accounts', id, 'access_token'));
    const racing = {
      ...base.graph,
      async refreshInstagramToken(value: string) {
        const grant = await base.graph.refreshInstagramToken(value);
        plaintextTokens.add(grant.accessToken);
        if (value === token) await admin.query(`UPDATE accounts.social_media_accounts SET access_token = $2 WHERE id = $1`, [id, reconnectedCiphertext]);
        return grant;
      },
    };
    await createExpiryScan({ ...base, graph: racing }).runOnce();
    const after = await row(id);
    expect(after.access_token).toBe(reconnectedCiphertext);
    expect(after.status).toBe('active');
    expect(await outboxCount(id, 'account.token-refreshed')).toBe(0);
  });

  it('a token invalidated at Meta (password change) expires the account, from the refresh and from the health check', async () => {
    const refreshing = await mint({ kind: 'instagram-user', subjectId: BAKERY_IG });
    const checked = await mint({ kind: 'facebook-page', subjectId: ALICE, pageId: BAKERY_PAGE });
    const viaRefresh = await insertAccount({ platform: 'instagram', token: refreshing, expiresAt: new Date(now().getTime() + 59 * DAY_MS), lastRefresh: new Date(now().getTime() - 30 * HOUR_MS) });
    const viaHealth = await insertAccount({ platform: 'facebook', token: checked, expiresAt: null });
    await advance(25);
    await sandboxControl(sandbox.baseUrl, 'POST', '/tokens/invalidate', { token: refreshing, reason: 'password_changed' });
    await sandboxControl(sandbox.baseUrl, 'POST', '/tokens/invalidate', { token: checked, reason: 'password_changed' });

    await createExpiryScan(dependencies({ refreshAgeHours: 24 })).runOnce();
    await createHealthCheck(dependencies()).runOnce();

    for (const [id, stage] of [[viaRefresh, 'refresh'], [viaHealth, 'health-check']] as const) {
      const after = await row(id);
      expect(after.status, stage).toBe('expired');
      expect(after.error_message, stage).toMatch(/^Reconnect: .*password/);
      expect(after.connection_error_count, stage).toBe(1);
      const [event] = await eventually(() => (eventsOf(id, 'account.expired').length > 0 ? eventsOf(id, 'account.expired') : undefined), `account.expired (${stage})`);
      expect(event?.data).toMatchObject({ socialAccountId: id, reason: 'password-changed', error: { category: 'token', code: 190, subcode: 460, retryable: false } });
    }
    // Expired accounts are left alone by later runs.
    await createHealthCheck(dependencies()).runOnce();
    expect((await row(viaHealth)).connection_error_count).toBe(1);
    expect(await outboxCount(viaHealth, 'account.expired')).toBe(1);
    expect(await registry.getSingleMetricAsString('postwire_accounts_expired_total')).toMatch(/reason="password-changed"/);
  });

  it('a transient Meta failure counts an error without expiring; repeated failures turn the account error; a success brings it back', async () => {
    const token = await mint({ kind: 'facebook-page', subjectId: ALICE, pageId: BAKERY_PAGE });
    const id = await insertAccount({ platform: 'facebook', token, expiresAt: null });
    await sandboxControl(sandbox.baseUrl, 'POST', '/faults', {
      operation: 'facebook.debug-token',
      kind: 'error',
      error: { code: 2, message: 'Service temporarily unavailable', isTransient: true, httpStatus: 503 },
      times: 10_000,
    });
    try {
      const check = createHealthCheck(dependencies({ maxConsecutiveFailures: 3 }));
      await check.runOnce();
      let after = await row(id);
      expect(after).toMatchObject({ status: 'active', connection_error_count: 1, error_message: null });
      const [failed] = await eventually(() => (eventsOf(id, 'account.connection-failed').length > 0 ? eventsOf(id, 'account.connection-failed') : undefined), 'account.connection-failed');
      expect(failed?.data).toMatchObject({ stage: 'health-check', consecutiveFailures: 1, error: { category: 'transient', code: 2, retryable: true } });

      await check.runOnce();
      await check.runOnce();
      after = await row(id);
      expect(after.status).toBe('error');
      expect(after.connection_error_count).toBe(3);
      expect(after.error_message).toMatch(/temporarily unavailable/);
      expect(eventsOf(id, 'account.expired')).toHaveLength(0);
    } finally {
      await sandboxControl(sandbox.baseUrl, 'DELETE', '/faults');
    }

    await createHealthCheck(dependencies()).runOnce();
    const healed = await row(id);
    expect(healed).toMatchObject({ status: 'active', connection_error_count: 0, error_message: null });
    const [updated] = await eventually(() => (eventsOf(id, 'account.updated').length > 0 ? eventsOf(id, 'account.updated') : undefined), 'account.updated');
    expect(updated?.data).toMatchObject({ socialAccountId: id, status: 'active', platform: 'facebook', accountType: 'page' });
    const failures = /stage="health-check",category="transient"\} (\d+)/.exec(await registry.getSingleMetricAsString('postwire_accounts_lifecycle_failures_total'));
    expect(Number(failures?.[1])).toBeGreaterThanOrEqual(3);
  });

  it('a Page token does not expire but its data access does: the health check announces it once, not refreshable', async () => {
    const token = await mint({ kind: 'facebook-page', subjectId: ALICE, pageId: BAKERY_PAGE });
    const id = await insertAccount({ platform: 'facebook', token, expiresAt: null });
    // Meta ends data access about 90 days after the login; 85 days on, 5 are left (within the 7-day threshold).
    await advance(85 * 24);
    await createHealthCheck(dependencies()).runOnce();
    await createHealthCheck(dependencies()).runOnce();

    expect(await outboxCount(id, 'token.expiring')).toBe(1);
    const [event] = await eventually(() => (eventsOf(id, 'token.expiring').length > 0 ? eventsOf(id, 'token.expiring') : undefined), 'token.expiring (data access)');
    expect(event?.data).toMatchObject({ socialAccountId: id, platform: 'facebook', refreshable: false });
    expect(Number(event?.data.expiresInSeconds)).toBeGreaterThan(4 * 86_400);
    expect(Number(event?.data.expiresInSeconds)).toBeLessThanOrEqual(5 * 86_400);
    expect((await row(id)).status).toBe('active');
  });

  it('stops cleanly: a stopped worker starts no new run', async () => {
    const scan = createExpiryScan(dependencies());
    const running = scan.runOnce();
    await scan.stop();
    expect(await running).not.toBe('stopped');
    expect(await scan.runOnce()).toBe('stopped');
  });

  it('no plaintext token anywhere: database text, Kafka messages and logs', async () => {
    // Its own refresh, expiry and health check, so there is something to look for when it runs alone.
    const refreshing = await mint({ kind: 'instagram-user', subjectId: STUDIO_IG });
    const dying = await mint({ kind: 'instagram-user', subjectId: BAKERY_IG });
    const page = await mint({ kind: 'facebook-page', subjectId: ALICE, pageId: BAKERY_PAGE });
    const refreshed = await insertAccount({ platform: 'instagram', token: refreshing, expiresAt: new Date(now().getTime() + 59 * DAY_MS), lastRefresh: new Date(now().getTime() - 30 * HOUR_MS) });
    await insertAccount({ platform: 'instagram', token: dying, expiresAt: new Date(now().getTime() + 59 * DAY_MS), lastRefresh: new Date(now().getTime() - 30 * HOUR_MS) });
    await insertAccount({ platform: 'facebook', token: page, expiresAt: null });
    await advance(25);
    await sandboxControl(sandbox.baseUrl, 'POST', '/tokens/invalidate', { token: dying, reason: 'password_changed' });
    await createExpiryScan(dependencies({ refreshAgeHours: 24 })).runOnce();
    await createHealthCheck(dependencies()).runOnce();
    plaintextTokens.add(cipher.decrypt((await row(refreshed)).access_token, columnContext('social_media_accounts', refreshed, 'access_token')));
    await eventually(() => (eventsOf(refreshed, 'account.token-refreshed').length > 0 ? true : undefined), 'account.token-refreshed');
    expect(plaintextTokens.size).toBeGreaterThanOrEqual(4);
    const dumps: string[] = [];
    for (const table of ['social_media_accounts', 'outbox', 'token_expiry_notices']) {
      const result = await admin.query<{ row: string }>(`SELECT to_jsonb(t)::text AS row FROM accounts.${table} t`);
      dumps.push(...result.rows.map((entry) => entry.row));
    }
    const kafka = observer.messages.map((message) => `${message.key} ${JSON.stringify(message.headers)} ${message.value}`).join('\n');
    const haystacks = { database: dumps.join('\n'), kafka, logs: logLines.join('') };
    expect(haystacks.logs).toContain('instagram token refreshed');
    expect(haystacks.logs).toContain('account expired');
    for (const token of plaintextTokens) {
      for (const [where, text] of Object.entries(haystacks)) expect(text.includes(token), `a token in ${where}`).toBe(false);
    }
  });
});
