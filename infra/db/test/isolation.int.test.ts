import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DATA_SERVICES, type DatabasePool, GATEWAY_ROLE, connectionUrlForRole, createDatabasePool, sql, withCallerClaims } from '@postwire/db';
import { createTestDatabase, type TestDatabase } from '@postwire/testing';

const accountRow = z.object({ id: z.uuid(), organisation_id: z.uuid() });

describe('service roles and row-level security', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  let accountsApp: DatabasePool;
  let accountsWorker: DatabasePool;
  let publisherApp: DatabasePool;
  let analyticsApp: DatabasePool;
  /**
   * The app roles only read (writes reach the services as events), so the seed's INSERT, UPDATE and DELETE
   * policies are proven with a role of the test's own: no BYPASSRLS, granted the writes the app roles lack.
   */
  let policyProbe: DatabasePool;
  const probeRole = `pw_policy_probe_${randomUUID().slice(0, 8)}`;
  const orgA = randomUUID();
  const orgB = randomUUID();
  const userA = randomUUID();
  const userB = randomUUID();
  const accountOfA = randomUUID();
  const claimsA = { sub: userA, organisationId: orgA };
  const claimsB = { sub: userB, organisationId: orgB };

  beforeAll(async () => {
    database = await createTestDatabase('isolation');
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    await admin.query(`INSERT INTO organisations (id, name) VALUES ($1, 'A'), ($2, 'B')`, [orgA, orgB]);
    await admin.query(`INSERT INTO users (id, organisation_id, email) VALUES ($1, $2, 'a@example.test'), ($3, $4, 'b@example.test')`, [userA, orgA, userB, orgB]);
    accountsApp = await createDatabasePool(database.urlFor('accounts', 'app'));
    accountsWorker = await createDatabasePool(database.urlFor('accounts', 'worker'));
    publisherApp = await createDatabasePool(database.urlFor('publisher', 'app'));
    analyticsApp = await createDatabasePool(database.urlFor('analytics', 'app'));
    await admin.query(`CREATE ROLE ${probeRole} LOGIN NOBYPASSRLS`);
    await admin.query(`GRANT USAGE ON SCHEMA auth, accounts, publisher TO ${probeRole}`);
    await admin.query(`GRANT EXECUTE ON FUNCTION auth.uid() TO ${probeRole}`);
    await admin.query(`GRANT SELECT (id, organisation_id) ON public.users TO ${probeRole}`);
    await admin.query(`GRANT SELECT (id) ON public.organisations TO ${probeRole}`);
    await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON accounts.social_media_accounts, publisher.social_media_posts TO ${probeRole}`);
    policyProbe = await createDatabasePool(connectionUrlForRole(database.adminUrl, probeRole));
    await withCallerClaims(policyProbe, claimsA, (connection) =>
      connection.query(sql.unsafe`
        INSERT INTO accounts.social_media_accounts (id, organisation_id, platform, account_type, platform_account_id, access_token)
        VALUES (${accountOfA}, ${orgA}, 'instagram', 'business', '17841400000000001', 'enc:v1:test:aaaa:bbbb:cccc')`),
    );
  });

  afterAll(async () => {
    await Promise.all([accountsApp.end(), accountsWorker.end(), publisherApp.end(), analyticsApp.end(), policyProbe.end()]);
    await admin.query(`DROP OWNED BY ${probeRole}`);
    await admin.query(`DROP ROLE ${probeRole}`);
    await admin.end();
    await database.drop();
  });

  const visibleAccounts = (claims: { sub: string; organisationId: string }) =>
    withCallerClaims(accountsApp, claims, (connection) =>
      connection.many(sql.type(accountRow)`SELECT id, organisation_id FROM accounts.social_media_accounts`).catch(() => []),
    );

  it('a user sees their own organisation’s accounts and a user of another organisation sees none', async () => {
    expect(await visibleAccounts(claimsA)).toEqual([{ id: accountOfA, organisation_id: orgA }]);
    expect(await visibleAccounts(claimsB)).toEqual([]);
  });

  it('a user of another organisation can neither update nor delete them, and nothing changes', async () => {
    const changed = await withCallerClaims(policyProbe, claimsB, async (connection) => {
      const updated = await connection.query(sql.unsafe`UPDATE accounts.social_media_accounts SET username = 'hijacked' WHERE id = ${accountOfA}`);
      const deleted = await connection.query(sql.unsafe`DELETE FROM accounts.social_media_accounts WHERE id = ${accountOfA}`);
      return updated.rowCount + deleted.rowCount;
    });
    expect(changed).toBe(0);
    const stored = await admin.query('SELECT username FROM accounts.social_media_accounts WHERE id = $1', [accountOfA]);
    expect(stored.rows).toEqual([{ username: null }]);
    // The owner's own user may, where the seed's policies allow it.
    const own = await withCallerClaims(policyProbe, claimsA, (connection) =>
      connection.query(sql.unsafe`UPDATE accounts.social_media_accounts SET username = NULL WHERE id = ${accountOfA}`),
    );
    expect(own.rowCount).toBe(1);
  });

  it('a user cannot create an account for another organisation', async () => {
    await expect(
      withCallerClaims(policyProbe, claimsB, (connection) =>
        connection.query(sql.unsafe`
          INSERT INTO accounts.social_media_accounts (organisation_id, platform, platform_account_id, access_token)
          VALUES (${orgA}, 'facebook', '100000001', 'enc:v1:test:aaaa:bbbb:cccc')`),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it('the app roles only read: their writes are refused before any policy is asked', async () => {
    const attempts = [
      () => withCallerClaims(accountsApp, claimsA, (connection) => connection.query(sql.unsafe`UPDATE accounts.social_media_accounts SET username = 'x' WHERE id = ${accountOfA}`)),
      () => withCallerClaims(accountsApp, claimsA, (connection) => connection.query(sql.unsafe`DELETE FROM accounts.social_media_accounts WHERE id = ${accountOfA}`)),
      () => withCallerClaims(publisherApp, claimsA, (connection) =>
        connection.query(sql.unsafe`
          INSERT INTO publisher.social_media_posts (organisation_id, social_account_id, created_by, content_type, content_url, post_type, platform)
          VALUES (${orgA}, ${accountOfA}, ${userA}, 'image', 'https://cdn.example.test/a.jpg', 'feed', 'instagram')`),
      ),
      () => withCallerClaims(publisherApp, claimsA, (connection) => connection.query(sql.unsafe`UPDATE publisher.social_media_posts SET caption = 'x'`)),
      () => withCallerClaims(publisherApp, claimsA, (connection) => connection.query(sql.unsafe`DELETE FROM publisher.post_media`)),
    ];
    for (const attempt of attempts) await expect(attempt()).rejects.toThrow(/permission denied/);
    expect(await visibleAccounts(claimsA)).toEqual([{ id: accountOfA, organisation_id: orgA }]);
  });

  it('claims last one transaction only: the same pooled connection without claims sees nothing', async () => {
    await visibleAccounts(claimsA);
    const withoutClaims = await accountsApp.any(sql.type(accountRow)`SELECT id, organisation_id FROM accounts.social_media_accounts`);
    expect(withoutClaims).toEqual([]);
  });

  it('the worker role bypasses RLS for background work', async () => {
    const all = await accountsWorker.any(sql.type(accountRow)`SELECT id, organisation_id FROM accounts.social_media_accounts`);
    expect(all.map((row) => row.id)).toContain(accountOfA);
  });

  it('no service role can reach another service’s schema', async () => {
    await expect(publisherApp.any(sql.unsafe`SELECT id FROM accounts.social_media_accounts`)).rejects.toThrow(/permission denied for schema accounts/);
    await expect(accountsApp.any(sql.unsafe`SELECT id FROM publisher.social_media_posts`)).rejects.toThrow(/permission denied for schema publisher/);
    await expect(accountsWorker.any(sql.unsafe`SELECT id FROM analytics.social_media_analytics_snapshots`)).rejects.toThrow(/permission denied for schema analytics/);
  });

  it('get_account_capabilities answers through RLS: the owner sees capabilities, another organisation nothing', async () => {
    const capabilities = z.object({ can_post_feed: z.boolean(), can_post_stories: z.boolean(), can_post_reels: z.boolean(), is_active: z.boolean() });
    const forA = await withCallerClaims(accountsApp, claimsA, (connection) =>
      connection.maybeOne(sql.type(capabilities)`SELECT * FROM accounts.get_account_capabilities(${accountOfA})`),
    );
    expect(forA).toEqual({ can_post_feed: true, can_post_stories: false, can_post_reels: false, is_active: true });
    const forB = await withCallerClaims(accountsApp, claimsB, (connection) =>
      connection.maybeOne(sql.type(capabilities)`SELECT * FROM accounts.get_account_capabilities(${accountOfA})`),
    );
    expect(forB).toBeNull();
  });

  it('a post can only be created by the calling user, for their organisation', async () => {
    const insert = (createdBy: string, organisationId: string) => sql.unsafe`
      INSERT INTO publisher.social_media_posts (organisation_id, social_account_id, created_by, content_type, content_url, post_type, platform)
      VALUES (${organisationId}, ${accountOfA}, ${createdBy}, 'image', 'https://cdn.example.test/a.jpg', 'feed', 'instagram')`;
    await expect(withCallerClaims(policyProbe, claimsA, (connection) => connection.query(insert(userA, orgA)))).resolves.toBeDefined();
    await expect(withCallerClaims(policyProbe, claimsA, (connection) => connection.query(insert(userB, orgA)))).rejects.toThrow(/row-level security/);
    await expect(withCallerClaims(policyProbe, claimsB, (connection) => connection.query(insert(userB, orgA)))).rejects.toThrow(/row-level security/);
  });

  it('analytics snapshots are visible only to the organisation that owns the post', async () => {
    const postId = randomUUID();
    await admin.query(
      `INSERT INTO analytics.tracked_posts (id, organisation_id, social_account_id, platform, post_type) VALUES ($1, $2, $3, 'instagram', 'feed')`,
      [postId, orgA, accountOfA],
    );
    await admin.query(
      `INSERT INTO analytics.social_media_analytics_snapshots (post_id, likes_count, comments_count, shares_count, saves_count, reach, impressions)
       VALUES ($1, 10, 2, 1, 3, 100, 150)`,
      [postId],
    );
    const count = (claims: { sub: string; organisationId: string }) =>
      withCallerClaims(analyticsApp, claims, (connection) =>
        connection.oneFirst(sql.type(z.object({ count: z.coerce.number() }))`SELECT count(*) AS count FROM analytics.social_media_analytics_snapshots WHERE post_id = ${postId}`),
      );
    expect(await count(claimsA)).toBe(1);
    expect(await count(claimsB)).toBe(0);
  });

  /** Runs `statement` as `role` over a plain session, and says what Postgres answered. */
  async function attempt(url: string, statement: string): Promise<string> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(statement);
      return 'allowed';
    } catch (error) {
      return (error as { code?: string }).code === '42501' ? 'denied' : `failed: ${(error as Error).message}`;
    } finally {
      await client.end();
    }
  }

  it('an app role can touch neither the outbox, the inbox nor the version table; its worker still can', async () => {
    // The gateway emits no facts of its own (its requests go straight to Kafka): it has an inbox, no outbox.
    for (const service of DATA_SERVICES.filter((name) => name !== 'gateway')) {
      const app = database.urlFor(service, 'app');
      const attempts = {
        readOutbox: await attempt(app, `SELECT event_id, payload FROM ${service}.outbox`),
        queueEvent: await attempt(app, `INSERT INTO ${service}.outbox (event_id, topic, message_key, event_type, headers, payload)
          VALUES (gen_random_uuid(), 'postwire.account-events.v1', 'k', 'account.connected', '{}', '{}')`),
        forgetInbox: await attempt(app, `DELETE FROM ${service}.inbox`),
        rewriteHistory: await attempt(app, `UPDATE ${service}.schemaversion SET version = version`),
      };
      expect({ service, ...attempts }).toEqual({ service, readOutbox: 'denied', queueEvent: 'denied', forgetInbox: 'denied', rewriteHistory: 'denied' });
      expect(await attempt(database.urlFor(service, 'worker'), `SELECT event_id FROM ${service}.outbox`)).toBe('allowed');
    }
    expect(await attempt(database.urlFor('accounts', 'app'), 'SELECT account_id FROM accounts.token_expiry_notices')).toBe('denied');
  });

  it('only the publisher worker updates the posting columns of social_media_videos', async () => {
    const statement = 'UPDATE public.social_media_videos SET posted_to_social = true, post_count = post_count + 1';
    expect(await attempt(database.urlFor('publisher', 'app'), statement)).toBe('denied');
    expect(await attempt(database.urlFor('publisher', 'worker'), statement)).toBe('allowed');
  });

  it('the gateway role reads which organisation a user belongs to, and nothing else', async () => {
    const gateway = connectionUrlForRole(database.adminUrl, GATEWAY_ROLE);
    expect(await attempt(gateway, 'SELECT id, organisation_id FROM public.users')).toBe('allowed');
    expect(await attempt(gateway, 'SELECT email FROM public.users')).toBe('denied');
    expect(await attempt(gateway, 'UPDATE public.users SET organisation_id = organisation_id')).toBe('denied');
    expect(await attempt(gateway, 'SELECT id FROM accounts.social_media_accounts')).toBe('denied');
  });

  it("the gateway's webhook tables: an organisation manages only its own endpoints and reads only its own deliveries", async () => {
    const gatewayApp = await createDatabasePool(database.urlFor('gateway', 'app'));
    const endpointOfA = randomUUID();
    try {
      await withCallerClaims(gatewayApp, claimsA, (connection) =>
        connection.query(sql.unsafe`
          INSERT INTO gateway.webhook_endpoints (id, organisation_id, url, secret, created_by)
          VALUES (${endpointOfA}, ${orgA}, 'https://hooks.example.test/a', 'enc:v1:test:aaaa:bbbb:cccc', ${userA})`),
      );
      await admin.query(
        `INSERT INTO gateway.webhook_deliveries (organisation_id, endpoint_id, event_id, event_type, event_time, payload)
         VALUES ($1, $2, gen_random_uuid(), 'post.published', NOW(), '{}')`,
        [orgA, endpointOfA],
      );
      const visible = (claims: { sub: string; organisationId: string }) =>
        withCallerClaims(gatewayApp, claims, async (connection) => ({
          endpoints: await connection.anyFirst(sql.type(z.object({ id: z.uuid() }))`SELECT id FROM gateway.webhook_endpoints`),
          deliveries: await connection.oneFirst(sql.type(z.object({ count: z.coerce.number() }))`SELECT count(*) AS count FROM gateway.webhook_deliveries`),
        }));
      expect(await visible(claimsA)).toEqual({ endpoints: [endpointOfA], deliveries: 1 });
      expect(await visible(claimsB)).toEqual({ endpoints: [], deliveries: 0 });
      const changedByB = await withCallerClaims(gatewayApp, claimsB, async (connection) => {
        const updated = await connection.query(sql.unsafe`UPDATE gateway.webhook_endpoints SET url = 'https://evil.example.test/' WHERE id = ${endpointOfA}`);
        const redelivered = await connection.query(sql.unsafe`UPDATE gateway.webhook_deliveries SET status = 'pending', manual = true`);
        const deleted = await connection.query(sql.unsafe`DELETE FROM gateway.webhook_endpoints WHERE id = ${endpointOfA}`);
        return updated.rowCount + redelivered.rowCount + deleted.rowCount;
      });
      expect(changedByB).toBe(0);
      await expect(
        withCallerClaims(gatewayApp, claimsB, (connection) =>
          connection.query(sql.unsafe`
            INSERT INTO gateway.webhook_endpoints (organisation_id, url, secret, created_by)
            VALUES (${orgA}, 'https://evil.example.test/', 'enc:v1:test:aaaa:bbbb:cccc', ${userB})`),
        ),
      ).rejects.toThrow(/row-level security/);
    } finally {
      await gatewayApp.end();
    }
    const app = database.urlFor('gateway', 'app');
    expect({
      forgeAttempt: await attempt(app, `INSERT INTO gateway.webhook_delivery_attempts (delivery_id, organisation_id, attempt, trigger, started_at, duration_ms, succeeded)
        SELECT id, organisation_id, 99, 'manual', NOW(), 0, true FROM gateway.webhook_deliveries`),
      rewriteDelivery: await attempt(app, `UPDATE gateway.webhook_deliveries SET payload = '{}'`),
      readInbox: await attempt(app, 'SELECT event_id FROM gateway.inbox'),
      rewriteHistory: await attempt(app, 'UPDATE gateway.schemaversion SET version = version'),
      readAccounts: await attempt(app, 'SELECT id FROM accounts.social_media_accounts'),
    }).toEqual({ forgeAttempt: 'denied', rewriteDelivery: 'denied', readInbox: 'denied', rewriteHistory: 'denied', readAccounts: 'denied' });
    const worker = database.urlFor('gateway', 'worker');
    expect(await attempt(worker, 'SELECT event_id FROM gateway.inbox')).toBe('allowed');
    expect(await attempt(worker, 'SELECT id FROM publisher.social_media_posts')).toBe('denied');
    expect(await attempt(database.urlFor('publisher', 'worker'), 'SELECT id FROM gateway.webhook_endpoints')).toBe('denied');
  });

  it('auth.uid() ignores claims a session set for itself: only the claims of the current transaction count', async () => {
    const client = new pg.Client({ connectionString: database.urlFor('accounts', 'app') });
    await client.connect();
    try {
      // Session-level settings (plain SET), even with a transaction marker, outlive the request that set them.
      await client.query(`SELECT set_config('request.jwt.claims', $1, false), set_config('request.jwt.transaction', extract(epoch FROM transaction_timestamp())::text, false)`, [
        JSON.stringify(claimsA),
      ]);
      const later = await client.query('SELECT auth.uid() AS uid, (SELECT count(*) FROM accounts.social_media_accounts)::int AS visible');
      expect(later.rows).toEqual([{ uid: null, visible: 0 }]);
    } finally {
      await client.end();
    }
    expect(await withCallerClaims(accountsApp, claimsA, (connection) => connection.oneFirst(sql.type(z.object({ uid: z.uuid() }))`SELECT auth.uid() AS uid`))).toBe(userA);
  });
});
