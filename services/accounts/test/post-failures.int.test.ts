import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { accountEvents, postEvents } from '@postwire/contracts';
import { type TokenCipher, columnContext, createTokenCipher } from '@postwire/crypto';
import { createEventProducer, createKafkaClient } from '@postwire/kafka';
import { type TestDatabase, createTestDatabase, sandboxControl, startMetaSandbox, uniqueName } from '@postwire/testing';
import { buildAccounts, eventually, observeTopic, testEnvironment } from './helpers.ts';

const ALICE = '1000900000000101';
const BAKERY_PAGE = '1001000000000201';
const STUDIO_PAGE = '1001000000000202';

describe("a post that failed on the account's token reports the account for reconnection", () => {
  let database: TestDatabase;
  let admin: pg.Client;
  let sandbox: Awaited<ReturnType<typeof startMetaSandbox>>;
  let accounts: FastifyInstance;
  let cipher: TokenCipher;
  let observer: Awaited<ReturnType<typeof observeTopic>>;
  const organisationId = randomUUID();

  beforeAll(async () => {
    database = await createTestDatabase('accounts_post_failures');
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    await admin.query(`INSERT INTO organisations (id, name) VALUES ($1, 'post failures')`, [organisationId]);
    sandbox = await startMetaSandbox();
    const built = await buildAccounts(testEnvironment(database, sandbox.baseUrl));
    accounts = built.app;
    cipher = createTokenCipher(built.config.keyRing);
    observer = await observeTopic(accountEvents.name);
  });

  afterAll(async () => {
    await observer?.stop();
    await accounts?.close();
    await sandbox?.close();
    await admin?.end();
    await database?.drop();
  });

  async function pageAccount(pageId: string): Promise<{ id: string; token: string }> {
    const { access_token: token } = await sandboxControl<{ access_token: string }>(sandbox.baseUrl, 'POST', '/tokens', { kind: 'facebook-page', subjectId: ALICE, pageId, longLived: true });
    const id = randomUUID();
    await admin.query(
      `INSERT INTO accounts.social_media_accounts (id, organisation_id, platform, account_type, platform_account_id, username, access_token, last_synced_at)
       VALUES ($1, $2, 'facebook', 'page', $3, $4, $5, now() - interval '2 days')`,
      [id, organisationId, pageId, `page ${pageId}`, cipher.encrypt(token, columnContext('social_media_accounts', id, 'access_token'))],
    );
    return { id, token };
  }

  async function reportTokenFailure(socialAccountId: string): Promise<void> {
    const client = createKafkaClient({ brokers: inject('kafkaBrokers'), topicPrefix: inject('kafkaTopicPrefix'), clientId: uniqueName('post-failures-test'), logger: accounts.log });
    const producer = createEventProducer(client, { source: '/postwire/publisher' });
    await producer.connect();
    try {
      await producer.publish(postEvents, [
        {
          type: 'post.failed',
          data: {
            postId: randomUUID(),
            socialAccountId,
            platform: 'facebook',
            attempts: 1,
            error: { category: 'token', code: 190, subcode: 460, message: 'Reconnect the account: the password was changed.', retryable: false },
            failedAt: new Date().toISOString(),
          },
          metadata: { organisationId },
        },
      ]);
    } finally {
      await producer.disconnect();
    }
  }

  const status = async (id: string) =>
    (await admin.query<{ status: string; error_message: string | null }>('SELECT status, error_message FROM accounts.social_media_accounts WHERE id = $1', [id])).rows[0];

  it("expires the account when Meta confirms the token is dead, and announces it", async () => {
    const revoked = await pageAccount(BAKERY_PAGE);
    await sandboxControl(sandbox.baseUrl, 'POST', '/tokens/invalidate', { token: revoked.token, reason: 'password_changed' });
    await reportTokenFailure(revoked.id);

    const expired = await eventually(
      () => observer.messages.find((message) => message.key === revoked.id && message.headers.ce_type === 'account.expired'),
      'account.expired',
      { timeoutMs: 30_000 },
    );
    expect(expired.data).toMatchObject({ socialAccountId: revoked.id, reason: 'password-changed', error: { category: 'token', code: 190, subcode: 460 } });
    expect(await status(revoked.id)).toMatchObject({ status: 'expired', error_message: expect.stringMatching(/^Reconnect/) });
  });

  it('leaves the account active when its token still works (a stale report, e.g. after a reconnect)', async () => {
    const healthy = await pageAccount(STUDIO_PAGE);
    // Connecting just synced the account: only a sync after the report shows the check ran.
    const reportedAt = (await admin.query<{ at: Date }>('SELECT clock_timestamp() AS at')).rows[0]?.at;
    await reportTokenFailure(healthy.id);
    // The check ran: Meta was asked and the account marked as synced since the report, still active.
    await eventually(async () => {
      const row = await admin.query<{ synced: boolean }>(
        `SELECT last_synced_at > $2 AND status = 'active' AS synced FROM accounts.social_media_accounts WHERE id = $1 AND connection_error_count = 0`,
        [healthy.id, reportedAt],
      );
      return row.rows[0]?.synced ? true : undefined;
    }, 'the on-demand check', { timeoutMs: 30_000 });
    const inbox = await eventually(async () => {
      const counted = Number((await admin.query<{ count: string }>(`SELECT count(*) FROM accounts.inbox WHERE consumer = 'accounts-post-events'`)).rows[0]?.count);
      return counted >= 2 ? counted : undefined;
    }, 'both reports in the inbox');
    expect(inbox).toBe(2);
    expect(await status(healthy.id)).toMatchObject({ status: 'active', error_message: null });
    expect(observer.messages.filter((message) => message.key === healthy.id && message.headers.ce_type === 'account.expired')).toEqual([]);
  });
});
