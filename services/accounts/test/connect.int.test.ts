import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EncryptedSecret, type EncodedEvent, accountEvents, accountRequests, deadLetterTopicName, derivedAccountId } from '@postwire/contracts';
import { type TokenCipher, columnContext, createTokenCipher, eventFieldContext } from '@postwire/crypto';
import { type GraphClient, createGraphClient } from '@postwire/graph';
import { type EventProducer, createEventProducer, createKafkaClient } from '@postwire/kafka';
import { type BuiltSandbox, buildSandbox, optionsFromConfig, sandboxConfigSchema } from '@postwire/meta-sandbox';
import { loadConfig } from '@postwire/config';
import { type TestDatabase, createTestDatabase, testTopic } from '@postwire/testing';
import { type Observed, buildAccounts, consentCode, eventually, observeTopic, testEnvironment } from './helpers.ts';

// The sandbox's dev seed (infra/meta-sandbox/README.md).
const ALICE = '1000900000000101';
const BOB = '1000900000000102';
const BAKERY_PAGE = '1001000000000201';
const STUDIO_PAGE = '1001000000000202';
const BAKERY_IG = '17841400000000301';
const STUDIO_IG = '17841400000000302';

type AccountRow = {
  id: string;
  organisation_id: string;
  platform: string;
  account_type: string;
  platform_account_id: string;
  username: string | null;
  access_token: string;
  refresh_token: string | null;
  token_expires_at: Date | null;
  page_id: string | null;
  page_name: string | null;
  status: string;
  error_message: string | null;
  connection_error_count: number;
  can_publish_feed: boolean;
  can_publish_stories: boolean;
  can_publish_reels: boolean;
  last_synced_at: Date | null;
  last_token_refresh: Date | null;
};

describe('accounts: connecting, reconnecting and disconnecting through Kafka, against the Meta sandbox', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  let sandbox: BuiltSandbox;
  let accounts: FastifyInstance;
  let logLines: string[];
  let groupId: string;
  let cipher: TokenCipher;
  let graph: GraphClient;
  let producer: EventProducer;
  let observer: Awaited<ReturnType<typeof observeTopic>>;
  let requestsObserver: Awaited<ReturnType<typeof observeTopic>>;
  let deadLetters: Awaited<ReturnType<typeof observeTopic>>;
  const plaintextTokens = new Set<string>();
  const actorId = randomUUID();

  beforeAll(async () => {
    database = await createTestDatabase('accounts_connect');
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    sandbox = await buildSandbox({ ...optionsFromConfig(loadConfig(sandboxConfigSchema, {})), listen: true });
    const built = await buildAccounts(testEnvironment(database, sandbox.baseUrl ?? ''));
    accounts = built.app;
    logLines = built.logLines;
    groupId = built.groupId;
    cipher = createTokenCipher(built.config.keyRing);
    graph = createGraphClient(built.config.graph);
    const client = createKafkaClient({ brokers: inject('kafkaBrokers'), topicPrefix: inject('kafkaTopicPrefix'), clientId: 'accounts-test-gateway', logger: pino({ level: 'silent' }) });
    producer = createEventProducer(client, { source: '/postwire/gateway' });
    await producer.connect();
    observer = await observeTopic(accountEvents.name);
    requestsObserver = await observeTopic(accountRequests.name);
    deadLetters = await observeTopic(deadLetterTopicName(accountRequests.name));
  });

  afterAll(async () => {
    await observer?.stop();
    await requestsObserver?.stop();
    await deadLetters?.stop();
    await producer?.disconnect();
    await accounts?.close();
    await sandbox?.close();
    await admin?.end();
    await database?.drop();
  });

  /** An organisation of the test's own, so no test sees another's rows. */
  async function organisation(): Promise<string> {
    const id = randomUUID();
    await admin.query(`INSERT INTO organisations (id, name) VALUES ($1, $2)`, [id, `org ${id.slice(0, 8)}`]);
    return id;
  }

  /** A real short-lived token from the sandbox, as the gateway's code exchange would hold it. */
  async function shortLivedToken(body: Record<string, unknown>): Promise<string> {
    const response = await fetch(`${sandbox.baseUrl}/_sandbox/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ longLived: false, ...body }),
    });
    expect(response.status).toBe(201);
    const token = ((await response.json()) as { access_token: string }).access_token;
    plaintextTokens.add(token);
    return token;
  }

  /** Publishes `account.authorized` exactly as the gateway's connect callback does. */
  async function authorize(input: {
    organisationId: string;
    platform: 'facebook' | 'instagram';
    platformUserId: string;
    token: string;
    scopes: string[];
    socialAccountId?: string;
  }): Promise<{ id: string; socialAccountId: string; record: EncodedEvent }> {
    const socialAccountId = input.socialAccountId ?? derivedAccountId(input.organisationId, input.platform, input.platformUserId);
    const id = randomUUID();
    const [record] = await producer.publish(accountRequests, [
      {
        type: 'account.authorized',
        data: {
          socialAccountId,
          platform: input.platform,
          platformUserId: input.platformUserId,
          shortLivedToken: EncryptedSecret.parse(cipher.encrypt(input.token, eventFieldContext('account.authorized', socialAccountId, 'shortLivedToken'))),
          tokenExpiresAt: new Date(Date.now() + 3_600_000).toISOString(),
          grantedScopes: input.scopes,
          reconnect: input.socialAccountId !== undefined,
        },
        metadata: { id, organisationId: input.organisationId, actorId, correlationId: `test-${id}` },
      },
    ]);
    if (!record) throw new Error('nothing published');
    return { id, socialAccountId, record };
  }

  async function requestDisconnect(organisationId: string, socialAccountId: string, mode: 'disconnect' | 'delete'): Promise<string> {
    const id = randomUUID();
    await producer.publish(accountRequests, [
      {
        type: 'account.disconnect-requested',
        data: { socialAccountId, mode, revokeOnPlatform: false },
        metadata: { id, organisationId, actorId, correlationId: `test-${id}` },
      },
    ]);
    return id;
  }

  const processed = (eventId: string) =>
    eventually(async () => ((await admin.query(`SELECT 1 FROM accounts.inbox WHERE event_id = $1`, [eventId])).rowCount ? true : undefined), `inbox row for ${eventId}`);

  const rowsOf = async (organisationId: string) =>
    (await admin.query<AccountRow>(`SELECT * FROM accounts.social_media_accounts WHERE organisation_id = $1 ORDER BY platform, platform_account_id`, [organisationId])).rows;

  const causedBy = (eventId: string, count: number) =>
    eventually(() => {
      const found = observer.messages.filter((message) => message.headers.ce_causationid === eventId);
      return found.length >= count ? found : undefined;
    }, `${count} events caused by ${eventId}`);

  /** This app's dead letter of a request (a run's own topic, this app's consumer group). */
  const deadLetterOf = (eventId: string) =>
    eventually(
      () => deadLetters.messages.find((message) => message.headers.ce_id === eventId && message.headers.dlq_consumer_group === testTopic(groupId)),
      `dead letter of ${eventId}`,
    );

  const GRANTED_FACEBOOK = ['pages_show_list', 'pages_read_engagement', 'pages_manage_posts', 'instagram_basic', 'instagram_content_publish'];

  /** Alice's Facebook login (two Pages, two linked Instagram accounts) connected in an organisation of its own. */
  async function aliceConnected(): Promise<{ organisationId: string; request: Awaited<ReturnType<typeof authorize>> }> {
    const organisationId = await organisation();
    const token = await shortLivedToken({ kind: 'facebook-user', subjectId: ALICE });
    const request = await authorize({ organisationId, platform: 'facebook', platformUserId: ALICE, token, scopes: GRANTED_FACEBOOK });
    await causedBy(request.id, 4);
    return { organisationId, request };
  }

  it('Facebook Login: each granted Page and its linked Instagram account becomes an active, encrypted account, announced once', async () => {
    // The gateway's flow: the consent dialog, the code exchange, debug_token for who and what was granted.
    const redirectUri = 'http://127.0.0.1:3000/v1/connect/facebook/callback';
    const code = await consentCode(graph.facebookDialogUrl({ redirectUri, state: randomUUID(), scopes: GRANTED_FACEBOOK }));
    const grant = await graph.exchangeFacebookCode({ code, redirectUri });
    const inspected = await graph.debugToken(grant.accessToken);
    plaintextTokens.add(grant.accessToken);
    expect(inspected.userId).toBe(ALICE);
    const main = await organisation();
    const firstConnect = await authorize({
      organisationId: main,
      platform: 'facebook',
      platformUserId: inspected.userId ?? '',
      token: grant.accessToken,
      scopes: [...inspected.scopes],
    });
    const events = await causedBy(firstConnect.id, 4);
    const rows = await rowsOf(main);

    expect(rows.map((row) => [row.platform, row.platform_account_id, row.account_type, row.page_id])).toEqual([
      ['facebook', BAKERY_PAGE, 'page', BAKERY_PAGE],
      ['facebook', STUDIO_PAGE, 'page', STUDIO_PAGE],
      ['instagram', BAKERY_IG, 'business', BAKERY_PAGE],
      ['instagram', STUDIO_IG, 'creator', STUDIO_PAGE],
    ]);
    const byPlatformId = new Map(rows.map((row) => [row.platform_account_id, row]));
    expect(byPlatformId.get(BAKERY_IG)).toMatchObject({ username: 'postwire.bakery', page_name: 'Postwire Bakery', can_publish_feed: true, can_publish_stories: true, can_publish_reels: true });
    expect(byPlatformId.get(STUDIO_IG)).toMatchObject({ username: 'postwire.studio', can_publish_stories: false, can_publish_reels: true });
    expect(byPlatformId.get(BAKERY_PAGE)).toMatchObject({ username: 'Postwire Bakery', can_publish_stories: true, can_publish_reels: true });
    for (const row of rows) {
      expect(row).toMatchObject({ status: 'active', error_message: null, connection_error_count: 0, token_expires_at: null, refresh_token: null });
      expect(row.id).toBe(derivedAccountId(main, row.platform, row.platform_account_id));
      expect(row.last_synced_at).not.toBeNull();
      expect(row.last_token_refresh).not.toBeNull();
      expect(row.access_token).toMatch(/^enc:v1:test-1:/);
      const plaintext = cipher.decrypt(row.access_token, columnContext('social_media_accounts', row.id, 'access_token'));
      plaintextTokens.add(plaintext);
      // The Page token (for the Instagram account too: see README, "Which token an Instagram account keeps").
      expect(plaintext).toMatch(/^EAAP/);
      // Bound to its row: the same ciphertext does not open as another row's.
      expect(() => cipher.decrypt(row.access_token, columnContext('social_media_accounts', randomUUID(), 'access_token'))).toThrow();
    }

    expect(events.map((event) => event.headers.ce_type)).toEqual(Array(4).fill('account.connected'));
    for (const event of events) {
      const row = rows.find((candidate) => candidate.id === event.key);
      expect(row, 'every event is keyed by its account id').toBeDefined();
      expect(event.headers).toMatchObject({ ce_organisationid: main, ce_source: '/postwire/accounts', ce_correlationid: `test-${firstConnect.id}`, ce_actorid: actorId });
      expect(event.data).toMatchObject({
        socialAccountId: row?.id,
        platform: row?.platform,
        platformAccountId: row?.platform_account_id,
        tokenExpiresAt: null,
        reconnected: false,
        capabilities: { feed: true, stories: row?.can_publish_stories, reels: true },
      });
      expect(event.data.publishingLimit === undefined).toBe(row?.platform === 'facebook');
      const carried = cipher.decrypt(String(event.data.accessToken), eventFieldContext('account.connected', event.key, 'accessToken'));
      expect(carried).toBe(cipher.decrypt(row?.access_token ?? '', columnContext('social_media_accounts', event.key, 'access_token')));
    }
  });

  it('the same account.authorized delivered twice changes nothing and announces nothing the second time', async () => {
    const { organisationId, request: firstConnect } = await aliceConnected();
    const before = await rowsOf(organisationId);
    // The very same record again (same id, same bytes): what a producer retry or a redelivery looks like. An
    // event id names exactly one event, so a second event is never sent under the first one's id.
    await producer.sendEncoded([firstConnect.record]);
    // A marker with the same key lands behind it on the same partition.
    const marker = await requestDisconnect(organisationId, firstConnect.socialAccountId, 'disconnect');
    await processed(marker);
    const after = await rowsOf(organisationId);
    expect(after.map((row) => [row.id, row.access_token])).toEqual(before.map((row) => [row.id, row.access_token]));
    expect(observer.messages.filter((message) => message.headers.ce_causationid === firstConnect.id)).toHaveLength(4);
    expect((await admin.query(`SELECT count(*)::int AS n FROM accounts.inbox WHERE event_id = $1`, [firstConnect.id])).rows[0]).toEqual({ n: 1 });
  });

  it('reconnecting updates the same rows (active again, error cleared, new token) without duplicating them', async () => {
    const { organisationId } = await aliceConnected();
    const bakeryIg = derivedAccountId(organisationId, 'instagram', BAKERY_IG);
    await admin.query(
      `UPDATE accounts.social_media_accounts SET status = 'expired', error_message = 'token revoked', connection_error_count = 3 WHERE id = $1`,
      [bakeryIg],
    );
    const before = await rowsOf(organisationId);
    const token = await shortLivedToken({ kind: 'facebook-user', subjectId: ALICE });
    const reconnect = await authorize({ organisationId: organisationId, platform: 'facebook', platformUserId: ALICE, token, scopes: GRANTED_FACEBOOK, socialAccountId: bakeryIg });
    const events = await causedBy(reconnect.id, 4);
    const after = await rowsOf(organisationId);
    expect(after.map((row) => row.id)).toEqual(before.map((row) => row.id));
    expect(after.find((row) => row.id === bakeryIg)).toMatchObject({ status: 'active', error_message: null, connection_error_count: 0 });
    for (const row of after) {
      expect(row.access_token).not.toBe(before.find((old) => old.id === row.id)?.access_token);
      plaintextTokens.add(cipher.decrypt(row.access_token, columnContext('social_media_accounts', row.id, 'access_token')));
    }
    expect(events.every((event) => event.data.reconnected === true)).toBe(true);
  });

  it('a reconnect that does not share the account being reconnected reports that on the account, and connects the rest', async () => {
    const { organisationId } = await aliceConnected();
    const studioPage = derivedAccountId(organisationId, 'facebook', STUDIO_PAGE);
    const token = await shortLivedToken({ kind: 'facebook-user', subjectId: ALICE, targetIds: [BAKERY_PAGE, BAKERY_IG] });
    const request = await authorize({ organisationId: organisationId, platform: 'facebook', platformUserId: ALICE, token, scopes: GRANTED_FACEBOOK, socialAccountId: studioPage });
    const events = await causedBy(request.id, 3);
    expect(events.map((event) => [event.headers.ce_type, event.key]).sort()).toEqual(
      [
        ['account.connected', derivedAccountId(organisationId, 'facebook', BAKERY_PAGE)],
        ['account.connected', derivedAccountId(organisationId, 'instagram', BAKERY_IG)],
        ['account.connection-failed', studioPage],
      ].sort(),
    );
    expect(events.find((event) => event.key === studioPage)?.data).toMatchObject({ stage: 'discovery', consecutiveFailures: 1, error: { category: 'permission' } });
    const row = (await rowsOf(organisationId)).find((candidate) => candidate.id === studioPage);
    expect(row).toMatchObject({ status: 'active', connection_error_count: 1 });
    expect(row?.error_message).toContain('not among those you shared');
  });

  it('a login without a required scope is refused with account.connection-failed naming it, and leaves no account', async () => {
    const organisationId = await organisation();
    const scopes = ['pages_show_list', 'pages_read_engagement', 'pages_manage_posts', 'instagram_basic'];
    const token = await shortLivedToken({ kind: 'facebook-user', subjectId: BOB, scopes });
    const request = await authorize({ organisationId: organisationId, platform: 'facebook', platformUserId: BOB, token, scopes });
    const [event] = await causedBy(request.id, 1);
    expect(event?.headers.ce_type).toBe('account.connection-failed');
    expect(event?.key).toBe(request.socialAccountId);
    expect(event?.data).toMatchObject({
      socialAccountId: request.socialAccountId,
      platform: 'facebook',
      stage: 'scope-check',
      missingScopes: ['instagram_content_publish'],
      consecutiveFailures: 1,
      error: { category: 'permission', retryable: false },
    });
    expect(String((event?.data.error as { message: string }).message)).toContain('instagram_content_publish');
    expect(await rowsOf(organisationId)).toEqual([]);
  });

  it('a token Meta invalidated before the exchange is refused at the token-exchange stage, not retried', async () => {
    const organisationId = await organisation();
    const token = await shortLivedToken({ kind: 'facebook-user', subjectId: BOB });
    const invalidated = await fetch(`${sandbox.baseUrl}/_sandbox/tokens/invalidate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, reason: 'password_changed' }),
    });
    expect(invalidated.status).toBe(200);
    const request = await authorize({ organisationId: organisationId, platform: 'facebook', platformUserId: BOB, token, scopes: GRANTED_FACEBOOK });
    const [event] = await causedBy(request.id, 1);
    expect(event?.headers.ce_type).toBe('account.connection-failed');
    expect(event?.data).toMatchObject({ stage: 'token-exchange', error: { category: 'token', code: 190, retryable: false } });
    expect(await rowsOf(organisationId)).toEqual([]);
  });

  it('a transient Meta failure is retried (the event is applied later, once), never reported as a failed connection', async () => {
    const organisationId = await organisation();
    // More failures than the Graph client's own GET retries: the handler throws and the consumer retries the event.
    const fault = await fetch(`${sandbox.baseUrl}/_sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operation: 'facebook.accounts', kind: 'error', error: { code: 2, message: 'Service temporarily unavailable', isTransient: true, httpStatus: 503 }, times: 5 }),
    });
    expect(fault.status).toBeLessThan(300);
    const token = await shortLivedToken({ kind: 'facebook-user', subjectId: BOB });
    const request = await authorize({ organisationId: organisationId, platform: 'facebook', platformUserId: BOB, token, scopes: GRANTED_FACEBOOK });
    const [event] = await causedBy(request.id, 1);
    expect(event?.headers.ce_type).toBe('account.connected');
    expect((await rowsOf(organisationId)).map((row) => [row.platform, row.account_type, row.status])).toEqual([['facebook', 'page', 'active']]);
    expect(logLines.some((line) => line.includes('"component":"consumer"') && /retr/i.test(line))).toBe(true);
    expect(observer.messages.filter((message) => message.headers.ce_causationid === request.id)).toHaveLength(1);
  });

  it('an event that can never be applied (token under a foreign key, unknown organisation) is dead-lettered, not retried forever', async () => {
    const organisationId = await organisation();
    const foreign = createTokenCipher({ activeKeyId: 'test-1', keys: new Map([['test-1', Buffer.alloc(32, 7)]]) });
    const socialAccountId = randomUUID();
    const undecryptable = randomUUID();
    plaintextTokens.add('IGAAnot-for-us');
    await producer.publish(accountRequests, [
      {
        type: 'account.authorized',
        data: {
          socialAccountId,
          platform: 'instagram',
          platformUserId: STUDIO_IG,
          shortLivedToken: EncryptedSecret.parse(foreign.encrypt('IGAAnot-for-us', eventFieldContext('account.authorized', socialAccountId, 'shortLivedToken'))),
          tokenExpiresAt: new Date(Date.now() + 3_600_000).toISOString(),
          grantedScopes: ['instagram_business_basic', 'instagram_business_content_publish'],
          reconnect: false,
        },
        metadata: { id: undecryptable, organisationId: organisationId, actorId, correlationId: `test-${undecryptable}` },
      },
    ]);
    const token = await shortLivedToken({ kind: 'instagram-user', subjectId: STUDIO_IG });
    const nowhere = await authorize({
      organisationId: randomUUID(),
      platform: 'instagram',
      platformUserId: STUDIO_IG,
      token,
      scopes: ['instagram_business_basic', 'instagram_business_content_publish'],
    });
    for (const id of [undecryptable, nowhere.id]) {
      const letter = await deadLetterOf(id);
      expect(letter.headers).toMatchObject({ dlq_reason: 'handler-rejected', dlq_attempts: '1' });
      // The requester is answered: one account.connection-failed caused by the request, in its correlation.
      const [answer, ...more] = await causedBy(id, 1);
      expect(more).toEqual([]);
      expect(answer?.headers).toMatchObject({ ce_type: 'account.connection-failed', ce_correlationid: `test-${id}`, ce_actorid: actorId });
      expect(answer?.data).toMatchObject({ platform: 'instagram', error: { category: 'unknown', retryable: false } });
      expect(String((answer?.data.error as { message: string }).message)).toContain('Start the connection again');
    }
  });

  it('Meta failing at the token exchange until the retries run out: the request is dead-lettered and answered with account.connection-failed', async () => {
    const organisationId = await organisation();
    const fault = await fetch(`${sandbox.baseUrl}/_sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operation: 'instagram.exchange-token', kind: 'error', error: { code: 2, message: 'Service temporarily unavailable', isTransient: true, httpStatus: 503 }, times: 100 }),
    });
    expect(fault.status).toBeLessThan(300);
    try {
      const token = await shortLivedToken({ kind: 'instagram-user', subjectId: BAKERY_IG });
      const request = await authorize({ organisationId, platform: 'instagram', platformUserId: BAKERY_IG, token, scopes: ['instagram_business_basic', 'instagram_business_content_publish'] });
      const letter = await deadLetterOf(request.id);
      expect(letter.headers).toMatchObject({ dlq_reason: 'handler-failed', dlq_attempts: '5' });
      const [answer] = await causedBy(request.id, 1);
      expect(answer?.key).toBe(request.socialAccountId);
      expect(answer?.headers).toMatchObject({ ce_type: 'account.connection-failed', ce_causationid: request.id, ce_correlationid: `test-${request.id}`, ce_organisationid: organisationId });
      expect(answer?.data).toMatchObject({ socialAccountId: request.socialAccountId, stage: 'token-exchange', error: { category: 'transient', retryable: false } });
      expect(String((answer?.data.error as { message: string }).message)).toMatch(/start the connection again/i);
      expect(await rowsOf(organisationId)).toEqual([]);
    } finally {
      await fetch(`${sandbox.baseUrl}/_sandbox/faults`, { method: 'DELETE' });
    }
  }, 60_000);

  it('Instagram Login: a 60-day long-lived token, profile from /me, no Page; the event key is the account id', async () => {
    const organisationId = await organisation();
    const token = await shortLivedToken({ kind: 'instagram-user', subjectId: STUDIO_IG });
    const scopes = ['instagram_business_basic', 'instagram_business_content_publish'];
    const request = await authorize({ organisationId: organisationId, platform: 'instagram', platformUserId: STUDIO_IG, token, scopes });
    const [event] = await causedBy(request.id, 1);
    const [row, ...others] = await rowsOf(organisationId);
    expect(others).toEqual([]);
    expect(row).toMatchObject({
      id: request.socialAccountId,
      platform: 'instagram',
      account_type: 'creator',
      platform_account_id: STUDIO_IG,
      username: 'postwire.studio',
      page_id: null,
      refresh_token: null,
      can_publish_stories: false,
      can_publish_reels: true,
    });
    const days = ((row?.token_expires_at?.getTime() ?? 0) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(59);
    expect(days).toBeLessThan(61);
    const plaintext = cipher.decrypt(row?.access_token ?? '', columnContext('social_media_accounts', row?.id ?? '', 'access_token'));
    expect(plaintext).toMatch(/^IGAA/);
    expect(plaintext).not.toBe(token);
    plaintextTokens.add(plaintext);
    expect(event?.key).toBe(request.socialAccountId);
    expect(event?.data).toMatchObject({ accountType: 'creator', pageId: null, reconnected: false, capabilities: { feed: true, stories: false, reels: true } });
    // Meta's quota as read at connect time, never a constant.
    expect(event?.data.publishingLimit).toMatchObject({ quotaUsage: 0, windowSeconds: 86_400 });
    expect((event?.data.publishingLimit as { quotaTotal: number }).quotaTotal).toBeGreaterThan(0);
    expect(typeof event?.data.tokenExpiresAt).toBe('string');
  });

  it('disconnect erases the token and announces it once; delete removes the row and says so', async () => {
    const { organisationId } = await aliceConnected();
    const stranger = await organisation();
    const page = derivedAccountId(organisationId, 'facebook', BAKERY_PAGE);
    const studio = derivedAccountId(organisationId, 'instagram', STUDIO_IG);
    const disconnect = await requestDisconnect(organisationId, page, 'disconnect');
    const [disconnected] = await causedBy(disconnect, 1);
    expect(disconnected?.key).toBe(page);
    expect(disconnected?.data).toMatchObject({ socialAccountId: page, platform: 'facebook', reason: 'user-request', deleted: false });
    const row = (await rowsOf(organisationId)).find((candidate) => candidate.id === page);
    expect(row).toMatchObject({ status: 'disconnected', access_token: '', refresh_token: null, token_expires_at: null });

    // Asked again: already erased, nothing more to announce.
    const again = await requestDisconnect(organisationId, page, 'disconnect');
    await processed(again);

    const remove = await requestDisconnect(organisationId, studio, 'delete');
    const [deleted] = await causedBy(remove, 1);
    expect(deleted?.data).toMatchObject({ socialAccountId: studio, platform: 'instagram', deleted: true });
    expect((await rowsOf(organisationId)).map((candidate) => candidate.id)).not.toContain(studio);
    expect(observer.messages.filter((message) => message.headers.ce_causationid === again)).toEqual([]);

    // Another organisation cannot disconnect this one's account: nothing changes.
    const foreign = await requestDisconnect(stranger, derivedAccountId(organisationId, 'instagram', BAKERY_IG), 'delete');
    await processed(foreign);
    expect((await rowsOf(organisationId)).find((candidate) => candidate.platform_account_id === BAKERY_IG)?.status).toBe('active');
  });

  it('graceful shutdown: the event in hand is applied and its events are on Kafka before the app has closed', async () => {
    // An app and database of the test's own: closing it leaves the file's app running for the other tests.
    const ownDatabase = await createTestDatabase('accounts_shutdown');
    const ownAdmin = new pg.Client({ connectionString: ownDatabase.adminUrl });
    await ownAdmin.connect();
    try {
      const organisationId = randomUUID();
      await ownAdmin.query(`INSERT INTO organisations (id, name) VALUES ($1, 'shutdown')`, [organisationId]);
      const own = await buildAccounts(testEnvironment(ownDatabase, sandbox.baseUrl ?? ''));
      const ownCipher = createTokenCipher(own.config.keyRing);
      const socialAccountId = derivedAccountId(organisationId, 'instagram', BAKERY_IG);
      // A new group starts at the partition's end when it first fetches, which can come after a message
      // sent right after it joined: harmless requests on the same key go first, until one is applied.
      const warmUps: string[] = [];
      await eventually(async () => {
        if (warmUps.length > 0 && (await ownAdmin.query(`SELECT 1 FROM accounts.inbox WHERE event_id = ANY($1::uuid[])`, [warmUps])).rowCount) return true;
        warmUps.push(await requestDisconnect(organisationId, socialAccountId, 'disconnect'));
        return undefined;
      }, 'the new app to consume the requests topic', { timeoutMs: 45_000, intervalMs: 1_000 });
      const token = await shortLivedToken({ kind: 'instagram-user', subjectId: BAKERY_IG });
      const id = randomUUID();
      await producer.publish(accountRequests, [
        {
          type: 'account.authorized',
          data: {
            socialAccountId,
            platform: 'instagram',
            platformUserId: BAKERY_IG,
            shortLivedToken: EncryptedSecret.parse(ownCipher.encrypt(token, eventFieldContext('account.authorized', socialAccountId, 'shortLivedToken'))),
            tokenExpiresAt: new Date(Date.now() + 3_600_000).toISOString(),
            grantedScopes: ['instagram_business_basic', 'instagram_business_content_publish'],
            reconnect: false,
          },
          metadata: { id, organisationId, actorId, correlationId: `test-${id}` },
        },
      ]);
      await eventually(async () => ((await ownAdmin.query(`SELECT 1 FROM accounts.inbox WHERE event_id = $1`, [id])).rowCount ? true : undefined), `inbox row for ${id}`, { timeoutMs: 45_000 });
      await own.app.close();
      const unsent = await ownAdmin.query(`SELECT count(*)::int AS n FROM accounts.outbox WHERE sent_at IS NULL`);
      expect(unsent.rows[0]).toEqual({ n: 0 });
      // The file's app reads the request too (under another key ring, so it answers with a failure); ours connected it.
      const event = await eventually(() => observer.messages.find((message) => message.headers.ce_causationid === id && message.headers.ce_type === 'account.connected'), `account.connected caused by ${id}`);
      expect(event.data).toMatchObject({ platformAccountId: BAKERY_IG, accountType: 'business', capabilities: { stories: true } });
      expect(own.logLines.some((line) => line.includes('became outbox leader'))).toBe(true);
    } finally {
      await ownAdmin.end();
      await ownDatabase.drop();
    }
  }, 90_000);

  it('no plaintext token anywhere: database text, Kafka messages (both topics) and logs', async () => {
    // Its own connects, reconnect, refusal, dead letter and disconnect, so the tokens it looks for are its own.
    const { organisationId } = await aliceConnected();
    const reconnectToken = await shortLivedToken({ kind: 'facebook-user', subjectId: ALICE });
    const reconnect = await authorize({ organisationId, platform: 'facebook', platformUserId: ALICE, token: reconnectToken, scopes: GRANTED_FACEBOOK, socialAccountId: derivedAccountId(organisationId, 'instagram', BAKERY_IG) });
    await causedBy(reconnect.id, 4);
    const instagramToken = await shortLivedToken({ kind: 'instagram-user', subjectId: STUDIO_IG });
    const instagram = await authorize({ organisationId, platform: 'instagram', platformUserId: STUDIO_IG, token: instagramToken, scopes: ['instagram_business_basic', 'instagram_business_content_publish'] });
    await causedBy(instagram.id, 1);
    const refusedToken = await shortLivedToken({ kind: 'facebook-user', subjectId: BOB, scopes: ['pages_show_list'] });
    const refused = await authorize({ organisationId, platform: 'facebook', platformUserId: BOB, token: refusedToken, scopes: ['pages_show_list'] });
    await causedBy(refused.id, 1);
    const letterToken = await shortLivedToken({ kind: 'instagram-user', subjectId: STUDIO_IG });
    const letter = await authorize({ organisationId: randomUUID(), platform: 'instagram', platformUserId: STUDIO_IG, token: letterToken, scopes: ['instagram_business_basic', 'instagram_business_content_publish'] });
    await deadLetterOf(letter.id);
    await causedBy(await requestDisconnect(organisationId, derivedAccountId(organisationId, 'facebook', BAKERY_PAGE), 'disconnect'), 1);
    for (const row of await rowsOf(organisationId)) {
      if (row.access_token !== '') plaintextTokens.add(cipher.decrypt(row.access_token, columnContext('social_media_accounts', row.id, 'access_token')));
    }
    expect(plaintextTokens.size).toBeGreaterThan(5);
    const tables = ['social_media_accounts', 'outbox', 'inbox'];
    const dumps: string[] = [];
    for (const table of tables) {
      const result = await admin.query<{ row: string }>(`SELECT to_jsonb(t)::text AS row FROM accounts.${table} t`);
      dumps.push(...result.rows.map((entry) => entry.row));
    }
    const messages = (list: readonly Observed[]) => list.map((message) => `${message.key} ${JSON.stringify(message.headers)} ${message.value}`);
    const haystacks = { database: dumps.join('\n'), kafka: [...messages(observer.messages), ...messages(requestsObserver.messages), ...messages(deadLetters.messages)].join('\n'), logs: logLines.join('') };
    expect(haystacks.database.length).toBeGreaterThan(0);
    expect(haystacks.logs).toContain('accounts connected');
    for (const token of plaintextTokens) {
      for (const [where, text] of Object.entries(haystacks)) expect(text.includes(token), `a token in ${where}`).toBe(false);
    }
  });
});
