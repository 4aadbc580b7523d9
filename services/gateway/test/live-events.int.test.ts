import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OutgoingEvent, accountEvents, postEvents } from '@postwire/contracts';
import type { EventProducer } from '@postwire/kafka';
import { eventually, openStream, startReceiver, uniqueName, verifiesPerSpec } from '@postwire/testing';
import { checkTarget } from '../src/routes/webhooks.ts';
import { BlockedTargetError, createWebhookSender } from '../src/webhooks/sender.ts';
import { signDevelopmentToken } from '@postwire/auth';
import { type Identified, type Member, TEST_JWT_SECRET, buildGateway, createMembers, ownersProducer, postPublished, testEnvironment } from './helpers.ts';

const CIPHERTEXT = 'enc:v1:test-1:AAAAAAAAAAAAAAAA:c2VjcmV0dG9rZW4:BBBBBBBBBBBBBBBBBBBBBB';

describe('live events for API consumers: SSE and signed webhooks', () => {
  let members: Awaited<ReturnType<typeof createMembers>>;
  let gateway: FastifyInstance;
  let base: string;
  let producer: EventProducer;
  let adminUrl: string;
  let alice: Member;
  let bob: Member;
  const streams: { close(): void }[] = [];
  const receivers: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    members = await createMembers();
    adminUrl = members.url.replace('gateway_app@', 'postgres@');
    alice = await members.member();
    bob = await members.member();
    ({ gateway } = await buildGateway(
      testEnvironment(members.url, {
        GATEWAY_WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        GATEWAY_WEBHOOK_CONSUMER_GROUP: uniqueName('gateway-webhooks'),
        GATEWAY_WEBHOOK_POLL_MS: '100',
        GATEWAY_WEBHOOK_TIMEOUT_MS: '2000',
        // The day of retries in about two seconds: 5 s -> 0.1 ms ... 10 h -> 720 ms.
        GATEWAY_WEBHOOK_RETRY_SCALE: '0.00002',
        GATEWAY_WEBHOOK_DISABLE_AFTER_FAILURES: '8',
        GATEWAY_WEBHOOK_DISABLE_AFTER_MS: '0',
        GATEWAY_EVENTS_HEARTBEAT_MS: '1000',
        GATEWAY_EVENTS_REPLAY_SIZE: '3',
      }),
    ));
    base = await gateway.listen({ host: '127.0.0.1', port: 0 });
    producer = await ownersProducer(gateway);
  }, 120_000);

  afterAll(async () => {
    for (const stream of streams) stream.close();
    await producer?.disconnect();
    await gateway?.close();
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await members?.close();
  });

  const tokenData = () => ({
    socialAccountId: randomUUID(),
    platform: 'facebook' as const,
    accessToken: CIPHERTEXT as never,
    tokenExpiresAt: null,
    refreshedAt: '2026-03-08T14:00:00.000Z',
  });
  const connected = (organisationId: string): Identified<OutgoingEvent<typeof accountEvents>> & { data: ReturnType<typeof tokenData> } => ({
    type: 'account.token-refreshed',
    data: tokenData(),
    metadata: { organisationId, id: randomUUID() },
  });

  const stream = async (member: Member, query = '', headers: Record<string, string> = {}) => {
    const opened = await openStream(`${base}/v1/events${query}`, { authorization: member.authorization, ...headers });
    streams.push(opened);
    await eventually(() => (opened.messages.some((message) => message.comment === 'connected') ? true : undefined), 'the stream to open');
    return opened;
  };

  const receiver = async () => {
    const started = await startReceiver();
    receivers.push(started);
    return started;
  };

  const api = (member: Member, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    gateway.inject({ method, url, headers: { authorization: member.authorization }, ...(payload === undefined ? {} : { payload: payload as object }) });

  describe('GET /v1/events', () => {
    it("streams the organisation's events, filtered by type and without tokens; another organisation's stream sees none of them", async () => {
      const all = await stream(alice);
      const onlyAccounts = await stream(alice, '?types=account.*');
      const other = await stream(bob);
      expect(all.status()).toBe(200);
      expect(all.headers()['content-type']).toBe('text/event-stream; charset=utf-8');

      const post = postPublished(alice.organisationId);
      const token = connected(alice.organisationId);
      const bobsPost = postPublished(bob.organisationId);
      await producer.publish(postEvents, [post, bobsPost]);
      await producer.publish(accountEvents, [token]);

      await eventually(() => (all.events().length >= 2 ? true : undefined), "alice's two events");
      await eventually(() => (other.events().length >= 1 ? true : undefined), "bob's event");
      const byType = Object.fromEntries(all.events().map((message) => [message.event, message]));
      expect(byType['post.published']).toEqual({ id: post.metadata.id, event: 'post.published', data: JSON.stringify(post.data) });
      expect(byType['account.token-refreshed']?.id).toBe(token.metadata.id);
      const { accessToken: _hidden, ...publicData } = token.data;
      expect(JSON.parse(byType['account.token-refreshed']?.data ?? '{}')).toEqual(publicData);
      expect(all.messages.map((message) => message.data ?? '').join('')).not.toContain('enc:v1');

      await eventually(() => (onlyAccounts.events().length >= 1 ? true : undefined), 'the account event on the filtered stream');
      expect(onlyAccounts.events().map((message) => message.event)).toEqual(['account.token-refreshed']);
      expect(other.events().map((message) => message.id)).toEqual([bobsPost.metadata.id]);
    });

    it('resumes after Last-Event-ID, and says so when that event is no longer held', async () => {
      // One account: one partition, so the three keep their order.
      const account = randomUUID();
      const first = postPublished(alice.organisationId, account);
      const second = postPublished(alice.organisationId, account);
      const third = postPublished(alice.organisationId, account);
      const live = await stream(alice);
      await producer.publish(postEvents, [first, second, third]);
      await eventually(() => (live.events().some((message) => message.id === third.metadata.id) ? true : undefined), 'the three events live');

      const resumed = await stream(alice, '', { 'last-event-id': first.metadata.id });
      expect(resumed.events().map((message) => message.id)).toEqual([second.metadata.id, third.metadata.id]);

      // The replay window holds three events: a fourth pushes the first out.
      await producer.publish(postEvents, [postPublished(alice.organisationId, account)]);
      await eventually(() => (live.events().length >= 4 ? true : undefined), 'the fourth event');
      const tooLate = await stream(alice, '', { 'last-event-id': first.metadata.id });
      expect(tooLate.events()[0]).toMatchObject({ event: 'replay.unavailable' });
      expect(JSON.parse(tooLate.events()[0]?.data ?? '{}')).toMatchObject({ lastEventId: first.metadata.id });
      // Bob cannot resume from Alice's events either.
      const bobs = await stream(bob, '', { 'last-event-id': second.metadata.id });
      expect(bobs.events().map((message) => message.event)).toEqual(['replay.unavailable']);
    });

    it('sends a heartbeat comment while nothing happens', async () => {
      const quiet = await stream(alice, '?types=post.deleted');
      await eventually(() => (quiet.messages.some((message) => message.comment === 'heartbeat') ? true : undefined), 'a heartbeat', { timeoutMs: 5_000 });
    });

    it('ends a stream when the bearer token it was opened with expires, so the caller is authorised again', async () => {
      const token = await signDevelopmentToken({ secret: TEST_JWT_SECRET, userId: alice.userId, organisationId: alice.organisationId, expiresIn: '5s' });
      const expiring = await stream({ ...alice, authorization: `Bearer ${token}` });
      const lasting = await stream(alice);
      await eventually(() => (expiring.ended() ? true : undefined), 'the stream to end', { timeoutMs: 20_000 });
      expect(expiring.messages.at(-1)?.comment).toMatch(/^stream ended/);
      // A stream whose token lives on (an hour) is still open.
      expect(lasting.ended()).toBe(false);
    });

    it('refuses an unknown event type with a problem, and a caller without a token', async () => {
      const unknown = await api(alice, 'GET', '/v1/events?types=post.published,post.exploded');
      expect(unknown.statusCode).toBe(400);
      expect(unknown.headers['content-type']).toContain('application/problem+json');
      expect(unknown.json()).toMatchObject({ status: 400, detail: expect.stringContaining('post.exploded') });
      expect((await gateway.inject({ method: 'GET', url: '/v1/events' })).statusCode).toBe(401);
      for (const query of ['?types=', '?types=post.published&limit=0']) {
        expect((await api(alice, 'GET', `/v1/events${query}`)).statusCode, query).toBe(400);
      }
      const badResume = await gateway.inject({ method: 'GET', url: '/v1/events', headers: { authorization: alice.authorization, 'last-event-id': 'not-an-event-id' } });
      expect(badResume.statusCode).toBe(400);
      const json = await gateway.inject({ method: 'GET', url: '/v1/events', headers: { authorization: alice.authorization, accept: 'application/json' } });
      expect(json.statusCode).toBe(406);
    });
  });

  describe('webhook endpoints', () => {
    it('are registered, read, changed and removed per organisation; the secret is shown once', async () => {
      const target = await receiver();
      const created = await api(alice, 'POST', '/v1/webhooks/endpoints', { url: target.url, eventTypes: ['post.published', 'account.*'], description: 'CRM' });
      expect(created.statusCode).toBe(201);
      const endpoint = created.json();
      expect(endpoint).toMatchObject({ url: target.url, eventTypes: ['post.published', 'account.*'], enabled: true, disabledReason: null });
      expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(created.headers.location).toBe(`/v1/webhooks/endpoints/${endpoint.id}`);

      const read = await api(alice, 'GET', `/v1/webhooks/endpoints/${endpoint.id}`);
      expect(read.statusCode).toBe(200);
      expect(read.json()).not.toHaveProperty('secret');
      expect((await api(alice, 'GET', '/v1/webhooks/endpoints')).json().data.map((row: { id: string }) => row.id)).toContain(endpoint.id);

      // Bob's organisation sees nothing of it and cannot change it.
      expect((await api(bob, 'GET', `/v1/webhooks/endpoints/${endpoint.id}`)).statusCode).toBe(404);
      expect((await api(bob, 'GET', '/v1/webhooks/endpoints')).json().data).toEqual([]);
      expect((await api(bob, 'PATCH', `/v1/webhooks/endpoints/${endpoint.id}`, { enabled: false })).statusCode).toBe(404);
      expect((await api(bob, 'DELETE', `/v1/webhooks/endpoints/${endpoint.id}`)).statusCode).toBe(404);

      const changed = await api(alice, 'PATCH', `/v1/webhooks/endpoints/${endpoint.id}`, { eventTypes: ['post.*'], description: null });
      expect(changed.json()).toMatchObject({ eventTypes: ['post.*'], description: null });
      const rotated = await api(alice, 'POST', `/v1/webhooks/endpoints/${endpoint.id}/secret`, {});
      expect(rotated.json().secret).not.toBe(endpoint.secret);
      expect((await api(alice, 'DELETE', `/v1/webhooks/endpoints/${endpoint.id}`)).json()).toMatchObject({ id: endpoint.id, eventTypes: ['post.*'] });
      expect((await api(alice, 'GET', `/v1/webhooks/endpoints/${endpoint.id}`)).statusCode).toBe(404);

      // The stored secret is encrypted, never the one we showed.
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      const stored = await admin.query<{ secret: string }>('SELECT secret FROM gateway.webhook_endpoints');
      await admin.end();
      for (const row of stored.rows) expect(row.secret).toMatch(/^enc:v1:/);
    });

    it('refuse bad input with problems', async () => {
      const attempts = [
        { url: 'ftp://example.com/hook' },
        { url: 'https://user:pass@example.com/hook' },
        { url: '💥' },
        { url: 'ｆｕｌｌｗｉｄｔｈ' },
        { url: 'https://example.com/hook', eventTypes: ['post.exploded'] },
        { url: 'https://example.com/hook', secret: 'whsec_tooshort' },
      ];
      for (const body of attempts) {
        const answer = await api(alice, 'POST', '/v1/webhooks/endpoints', body);
        expect({ body, status: answer.statusCode, type: answer.headers['content-type'] }).toEqual({ body, status: 400, type: expect.stringContaining('application/problem+json') });
      }
      expect((await api(alice, 'GET', '/v1/webhooks/endpoints/not-a-uuid')).statusCode).toBe(400);
    });
  });

  describe('webhook deliveries', () => {
    it("deliver the organisation's events, signed per Standard Webhooks, only to that organisation's endpoints, logged", async () => {
      const alicesReceiver = await receiver();
      const bobsReceiver = await receiver();
      const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
      const endpoint = (await api(alice, 'POST', '/v1/webhooks/endpoints', { url: alicesReceiver.url, eventTypes: ['post.published', 'account.*'], secret })).json();
      await api(bob, 'POST', '/v1/webhooks/endpoints', { url: bobsReceiver.url });

      const post = postPublished(alice.organisationId);
      const token = connected(alice.organisationId);
      const bobsPost = postPublished(bob.organisationId);
      await producer.publish(postEvents, [post, bobsPost]);
      await producer.publish(accountEvents, [token]);

      await eventually(() => (alicesReceiver.received.length >= 2 ? true : undefined), "alice's two deliveries");
      await eventually(() => (bobsReceiver.received.length >= 1 ? true : undefined), "bob's delivery");
      const byId = new Map(alicesReceiver.received.map((request) => [String(request.headers['webhook-id']), request]));
      expect([...byId.keys()].sort()).toEqual([post.metadata.id, token.metadata.id].sort());
      for (const request of alicesReceiver.received) expect(verifiesPerSpec(secret, request.headers, request.body)).toBe(true);
      expect(JSON.parse(byId.get(post.metadata.id)?.body ?? '{}')).toEqual({ type: 'post.published', timestamp: expect.any(String), data: post.data });
      expect(byId.get(token.metadata.id)?.body).not.toContain('enc:v1');
      expect(bobsReceiver.received.map((request) => request.headers['webhook-id'])).toEqual([bobsPost.metadata.id]);

      const log = await eventually(async () => {
        const page = (await api(alice, 'GET', `/v1/webhooks/endpoints/${endpoint.id}/deliveries`)).json();
        return page.data.length === 2 && page.data.every((delivery: { status: string }) => delivery.status === 'succeeded') ? page : undefined;
      }, 'the delivery log');
      const delivery = log.data.find((row: { eventId: string }) => row.eventId === post.metadata.id);
      const detail = (await api(alice, 'GET', `/v1/webhooks/endpoints/${endpoint.id}/deliveries/${delivery.id}`)).json();
      expect(detail.attemptLog).toEqual([expect.objectContaining({ attempt: 1, trigger: 'scheduled', responseStatus: 200, succeeded: true, error: null })]);
      expect((await api(bob, 'GET', `/v1/webhooks/endpoints/${endpoint.id}/deliveries/${delivery.id}`)).statusCode).toBe(404);
    });

    it('retry a failing endpoint on the schedule, then disable it with a reason; a manual redelivery after it is enabled again succeeds', async () => {
      const flaky = await receiver();
      flaky.answer(500);
      const endpoint = (await api(alice, 'POST', '/v1/webhooks/endpoints', { url: flaky.url, eventTypes: ['post.published'] })).json();
      const post = postPublished(alice.organisationId);
      await producer.publish(postEvents, [post]);

      const disabled = await eventually(async () => {
        const current = (await api(alice, 'GET', `/v1/webhooks/endpoints/${endpoint.id}`)).json();
        return current.enabled ? undefined : current;
      }, 'the endpoint to be disabled', { timeoutMs: 30_000 });
      expect(disabled.disabledReason).toMatch(/^8 delivery attempts failed in a row since /);
      expect(flaky.received).toHaveLength(8);
      // Every attempt carried the same webhook-id, each with its own signature over its own timestamp.
      expect(new Set(flaky.received.map((request) => request.headers['webhook-id']))).toEqual(new Set([post.metadata.id]));

      const [delivery] = (await api(alice, 'GET', `/v1/webhooks/endpoints/${endpoint.id}/deliveries`)).json().data;
      expect(delivery).toMatchObject({ status: 'failed', attempts: 8, lastError: 'the endpoint answered 500' });
      const failedLog = (await api(alice, 'GET', `/v1/webhooks/endpoints/${endpoint.id}/deliveries/${delivery.id}`)).json().attemptLog;
      expect(failedLog.map((attempt: { attempt: number; responseStatus: number; responseBody: string }) => [attempt.attempt, attempt.responseStatus, attempt.responseBody])).toEqual(
        [1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => [attempt, 500, 'receiver is down']),
      );

      flaky.answer(204);
      expect((await api(alice, 'PATCH', `/v1/webhooks/endpoints/${endpoint.id}`, { enabled: true })).json()).toMatchObject({ enabled: true, disabledReason: null, consecutiveFailures: 0 });
      const redelivered = await api(alice, 'POST', `/v1/webhooks/endpoints/${endpoint.id}/deliveries/${delivery.id}/redeliver`);
      expect(redelivered.statusCode).toBe(202);
      expect(redelivered.headers.location).toBe(`/v1/webhooks/endpoints/${endpoint.id}/deliveries/${delivery.id}`);
      expect((await api(bob, 'POST', `/v1/webhooks/endpoints/${endpoint.id}/deliveries/${delivery.id}/redeliver`)).statusCode).toBe(404);
      const done = await eventually(async () => {
        const current = (await api(alice, 'GET', `/v1/webhooks/endpoints/${endpoint.id}/deliveries/${delivery.id}`)).json();
        return current.status === 'succeeded' ? current : undefined;
      }, 'the manual redelivery');
      expect(done.attemptLog.at(-1)).toMatchObject({ attempt: 9, trigger: 'manual', responseStatus: 204, succeeded: true });
      expect(flaky.received).toHaveLength(9);
    });

    it('never reach a private, loopback or link-local address unless configured (SSRF guard)', async () => {
      const internal = await receiver();
      const guarded = createWebhookSender({ timeoutMs: 2_000, allowPrivateTargets: false });
      try {
        for (const url of [internal.url, `http://localhost:${internal.port}/hooks`, `http://[::ffff:127.0.0.1]:${internal.port}/hooks`]) {
          await expect(guarded.send(url, {}, '{}')).rejects.toBeInstanceOf(BlockedTargetError);
        }
      } finally {
        guarded.close();
      }
      expect(internal.received).toEqual([]);
      // Registration refuses such targets too (the gateway under test allows them for its local receivers).
      await expect(checkTarget('http://169.254.169.254/latest/meta-data', false)).rejects.toMatchObject({ status: 422 });
      await expect(checkTarget(`http://localhost:${internal.port}/`, false)).rejects.toMatchObject({ status: 422 });
      await expect(checkTarget('http://[fd00::1]/', false)).rejects.toMatchObject({ status: 422 });
    });
  });
});
