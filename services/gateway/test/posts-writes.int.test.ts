import { randomUUID } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postRequests } from '@postwire/contracts';
import { type Observed, type TopicObserver, eventually, observeTopic } from '@postwire/testing';
import { loadConfig } from '@postwire/config';
import { type GatewayConfig, configSchema } from '../src/config.ts';
import { type Member, buildGateway, createMembers, freePort, testEnvironment } from './helpers.ts';
import { postResource, startAnswerer, startReadApi } from './posts-support.ts';

type Request = Omit<InjectOptions, 'headers'> & { headers?: Record<string, string> };

describe('the posts API write path: request events on Kafka, answered by the publisher', () => {
  let members: Awaited<ReturnType<typeof createMembers>>;
  let readApi: Awaited<ReturnType<typeof startReadApi>>;
  let answerer: Awaited<ReturnType<typeof startAnswerer>>;
  let observer: TopicObserver;
  /** Waits long enough for the test to answer as the publisher. */
  let gateway: FastifyInstance;
  let config: GatewayConfig;
  /** Waits 300 ms: what a caller sees when the publisher is slow. */
  let hasty: FastifyInstance;
  let caller: Member;
  let stranger: Member;
  let metricsPort: number;
  const accountId = randomUUID();

  const media = [{ position: 0, mediaType: 'image', url: 'https://cdn.example.com/a.jpg' }];
  const newPost = (fields: Record<string, unknown> = {}) => ({ socialAccountId: accountId, platform: 'instagram', postType: 'feed', media, caption: 'Launch day', ...fields });

  beforeAll(async () => {
    members = await createMembers();
    // The read API verifies the forwarded tokens with the same settings as the gateway.
    readApi = await startReadApi(loadConfig(configSchema, testEnvironment(members.url)).auth);
    metricsPort = await freePort();
    ({ gateway, config } = await buildGateway(
      testEnvironment(members.url, {
        GATEWAY_PUBLISHER_URL: readApi.url,
        GATEWAY_ACCOUNTS_URL: readApi.url,
        GATEWAY_POST_WAIT_MS: '15000',
        GATEWAY_METRICS_PORT: String(metricsPort),
      }),
    ));
    ({ gateway: hasty } = await buildGateway(testEnvironment(members.url, { GATEWAY_PUBLISHER_URL: readApi.url, GATEWAY_POST_WAIT_MS: '300' })));
    answerer = await startAnswerer(gateway.log);
    observer = await observeTopic(postRequests.name);
    caller = await members.member();
    stranger = await members.member();
  });

  afterAll(async () => {
    await observer.stop();
    await answerer.close();
    await Promise.all([gateway.close(), hasty.close()]);
    await readApi.close();
    await members.close();
  });

  /** Sends a request and hands back the request event it produced, while the gateway still waits for the answer. */
  async function send(app: FastifyInstance, options: Request, who: Member = caller) {
    const correlationId = randomUUID();
    const response = app.inject({ ...options, headers: { authorization: who.authorization, 'x-correlation-id': correlationId, ...options.headers } });
    let answered = false;
    void response.finally(() => (answered = true)).catch(() => undefined);
    const find = () => observer.messages.find((message) => message.headers.ce_correlationid === correlationId);
    // A refused request produces nothing: once it is answered, all the topic holds is read and looked through.
    const { event } = await eventually(
      async () => {
        const found = find();
        if (found) return { event: found };
        if (!answered) return undefined;
        await observer.caughtUp();
        return { event: find() };
      },
      `the post request with correlation ${correlationId}, or its refusal`,
      { timeoutMs: 20_000, intervalMs: 20 },
    );
    return { response, event, correlationId };
  }

  function stored(event: Observed, fields: Parameters<typeof postResource>[0] extends infer F ? Partial<F> : never = {}) {
    const post = postResource({
      id: String(event.data.postId),
      organisationId: caller.organisationId,
      socialAccountId: String(event.data.socialAccountId),
      createdBy: caller.userId,
      ...fields,
    });
    readApi.store(post);
    return post;
  }

  describe('create', () => {
    it('a scheduled post: post.scheduled keyed by the account, the UTC instant, then 201 with the post read back with the caller\'s token', async () => {
      const { response, event } = await send(gateway, { method: 'POST', url: '/v1/posts', payload: newPost({ scheduledFor: '2026-03-08T09:00:00-05:00', hashtags: ['launch'] }) });
      expect(event).toBeDefined();
      const request = event as Observed;
      expect(request.key).toBe(accountId);
      expect(request.headers).toMatchObject({ ce_type: 'post.scheduled', ce_source: '/postwire/gateway', ce_organisationid: caller.organisationId, ce_actorid: caller.userId });
      expect(request.data).toEqual({
        postId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        socialAccountId: accountId,
        scheduledFor: '2026-03-08T14:00:00.000Z',
        content: { platform: 'instagram', postType: 'feed', media, caption: 'Launch day', hashtags: ['launch'] },
      });
      const post = stored(request);
      await answerer.accept(request, { status: 'queued', scheduledFor: '2026-03-08T14:00:00.000Z' });
      const answered = await response;
      expect(answered.statusCode, answered.body).toBe(201);
      expect(answered.headers.location).toBe(`/v1/posts/${post.id}`);
      expect(answered.json()).toEqual(post);
      const readBack = readApi.served.filter((served) => served.url === `/v1/posts/${post.id}`);
      expect(readBack).toEqual([{ method: 'GET', url: `/v1/posts/${post.id}`, organisationId: caller.organisationId }]);
    });

    it('a draft is post.drafted; publishNow is post.scheduled for the gateway\'s now', async () => {
      const draft = await send(gateway, { method: 'POST', url: '/v1/posts', payload: newPost(), headers: { prefer: 'respond-async' } });
      expect(draft.event?.headers.ce_type).toBe('post.drafted');
      expect(draft.event?.data).not.toHaveProperty('scheduledFor');
      expect((await draft.response).statusCode).toBe(202);

      const before = Date.now();
      const now = await send(gateway, { method: 'POST', url: '/v1/posts', payload: newPost({ publishNow: true }), headers: { prefer: 'respond-async' } });
      expect(now.event?.headers.ce_type).toBe('post.scheduled');
      const at = Date.parse(String(now.event?.data.scheduledFor));
      expect(at).toBeGreaterThanOrEqual(before - 1);
      expect(at).toBeLessThanOrEqual(Date.now());
    });

    it('refused by the publisher: 422 problem with every violation', async () => {
      const { response, event } = await send(gateway, { method: 'POST', url: '/v1/posts', payload: newPost({ scheduledFor: '2026-03-08T14:00:00Z' }) });
      const violations = [
        { field: 'socialAccountId', code: 'account-not-active', message: 'the account must be reconnected' },
        { field: 'media[0].altText', code: 'alt-text-on-video', message: 'alt text is for images only' },
      ];
      await answerer.reject(event as Observed, violations);
      const answered = await response;
      expect(answered.statusCode).toBe(422);
      expect(answered.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answered.json()).toMatchObject({
        type: 'https://postwire.dev/problems/post-rejected',
        code: 'post-rejected',
        status: 422,
        postId: event?.data.postId,
        requestEventId: event?.headers.ce_id,
        detail: 'socialAccountId: the account must be reconnected; media[0].altText: alt text is for images only',
        errors: violations,
      });
    });

    it('no answer within GATEWAY_POST_WAIT_MS: 202 with the Location of the post', async () => {
      const started = Date.now();
      const { response, event } = await send(hasty, { method: 'POST', url: '/v1/posts', payload: newPost({ scheduledFor: '2026-03-08T14:00:00Z' }) });
      const answered = await response;
      expect(answered.statusCode).toBe(202);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(answered.headers.location).toBe(`/v1/posts/${event?.data.postId}`);
      expect(answered.headers['preference-applied']).toBeUndefined();
      expect(answered.json()).toEqual({ status: 'pending', postId: event?.data.postId, requestEventId: event?.headers.ce_id, location: `/v1/posts/${event?.data.postId}` });
    });

    it('Prefer: respond-async answers 202 at once, saying so', async () => {
      const started = Date.now();
      const { response } = await send(gateway, { method: 'POST', url: '/v1/posts', payload: newPost(), headers: { prefer: 'respond-async' } });
      const answered = await response;
      expect(answered.statusCode).toBe(202);
      expect(answered.headers['preference-applied']).toBe('respond-async');
      expect(Date.now() - started).toBeLessThan(config.postWaitMs);
    });

    it('accepted but not readable back: 201 with the publisher\'s accepted summary', async () => {
      const { response, event } = await send(gateway, { method: 'POST', url: '/v1/posts', payload: newPost({ scheduledFor: '2026-03-08T14:00:00Z' }) });
      await answerer.accept(event as Observed, { status: 'queued', scheduledFor: '2026-03-08T14:00:00.000Z' });
      const answered = await response;
      expect(answered.statusCode).toBe(201);
      expect(answered.json()).toEqual({
        id: event?.data.postId,
        socialAccountId: accountId,
        status: 'queued',
        platform: 'instagram',
        postType: 'feed',
        scheduledFor: '2026-03-08T14:00:00.000Z',
      });
    });
  });

  describe('time: scheduledFor is an instant with an offset', () => {
    async function scheduledInstant(scheduledFor: string): Promise<unknown> {
      const { event, response } = await send(gateway, { method: 'POST', url: '/v1/posts', payload: newPost({ scheduledFor }), headers: { prefer: 'respond-async' } });
      expect((await response).statusCode).toBe(202);
      return event?.data.scheduledFor;
    }

    it('Z and +05:30 spellings of one instant travel as the same UTC instant', async () => {
      expect(await scheduledInstant('2026-03-08T14:00:00Z')).toBe('2026-03-08T14:00:00.000Z');
      expect(await scheduledInstant('2026-03-08T19:30:00+05:30')).toBe('2026-03-08T14:00:00.000Z');
    });

    it('New York times on both sides of the DST changes map to their own instants', async () => {
      expect(await scheduledInstant('2026-03-08T01:30:00-05:00')).toBe('2026-03-08T06:30:00.000Z');
      expect(await scheduledInstant('2026-03-08T03:30:00-04:00')).toBe('2026-03-08T07:30:00.000Z');
      expect(await scheduledInstant('2026-11-01T01:30:00-04:00')).toBe('2026-11-01T05:30:00.000Z');
      expect(await scheduledInstant('2026-11-01T01:30:00-05:00')).toBe('2026-11-01T06:30:00.000Z');
    });

    it('a time without an offset is a 400 naming scheduledFor, and nothing reaches Kafka', async () => {
      const { response, event } = await send(gateway, { method: 'POST', url: '/v1/posts', payload: newPost({ scheduledFor: '2026-03-08T09:00:00' }) });
      const answered = await response;
      expect(answered.statusCode).toBe(400);
      expect(answered.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answered.json()).toMatchObject({
        code: 'invalid-request',
        errors: [{ location: 'body', field: 'scheduledFor', code: 'offset-required', message: expect.stringContaining('needs a UTC offset') }],
      });
      expect(event).toBeUndefined();
    });

    it('other bad bodies name their fields: unknown fields, a carousel of one, publishNow with a time', async () => {
      const cases: [Record<string, unknown>, { field: string; code: string }][] = [
        [newPost({ scheduled_for: '2026-03-08T09:00:00Z' }), { field: 'scheduled_for', code: 'unrecognized-keys' }],
        [newPost({ postType: 'carousel' }), { field: 'media', code: 'custom' }],
        [newPost({ publishNow: true, scheduledFor: '2026-03-08T09:00:00Z' }), { field: 'publishNow', code: 'conflicting-fields' }],
        [newPost({ scheduledFor: 'tomorrow' }), { field: 'scheduledFor', code: 'invalid-date-time' }],
        [newPost({ socialAccountId: 'nope' }), { field: 'socialAccountId', code: 'invalid-format' }],
      ];
      for (const [payload, error] of cases) {
        const response = await gateway.inject({ method: 'POST', url: '/v1/posts', payload, headers: { authorization: caller.authorization } });
        expect(response.statusCode, JSON.stringify(payload)).toBe(400);
        expect(response.json().errors, JSON.stringify(payload)).toContainEqual(expect.objectContaining(error));
      }
    });
  });

  describe('Idempotency-Key', () => {
    it('the same key and body name the same post and hash; another body keeps the id, changes the hash, and is 422 when refused', async () => {
      const key = `order-${randomUUID()}`;
      const body = newPost({ scheduledFor: '2026-03-08T14:00:00Z' });
      const first = await send(gateway, { method: 'POST', url: '/v1/posts', payload: body, headers: { 'idempotency-key': key, prefer: 'respond-async' } });
      // The same meaning in another spelling: keys reordered, the instant with an offset.
      const reordered = Object.fromEntries(Object.entries({ ...body, scheduledFor: '2026-03-08T19:30:00+05:30' }).reverse());
      const second = await send(gateway, { method: 'POST', url: '/v1/posts', payload: reordered, headers: { 'idempotency-key': key, prefer: 'respond-async' } });
      expect(first.event?.data.postId).toBe(second.event?.data.postId);
      expect(first.event?.data.requestHash).toMatch(/^[0-9a-f]{64}$/);
      expect(second.event?.data.requestHash).toBe(first.event?.data.requestHash);
      expect(first.event?.headers.ce_id).not.toBe(second.event?.headers.ce_id);

      const other = await send(gateway, { method: 'POST', url: '/v1/posts', payload: { ...body, caption: 'Another caption' }, headers: { 'idempotency-key': key } });
      expect(other.event?.data.postId).toBe(first.event?.data.postId);
      expect(other.event?.data.requestHash).not.toBe(first.event?.data.requestHash);
      await answerer.reject(other.event as Observed, [{ field: 'Idempotency-Key', code: 'idempotency-key-reused', message: 'this key was used with another body' }]);
      const refused = await other.response;
      expect(refused.statusCode).toBe(422);
      expect(refused.json()).toMatchObject({ code: 'post-rejected', errors: [{ code: 'idempotency-key-reused' }] });
    });

    it('a retried create answered accepted again gets the same post, 201', async () => {
      const key = `order-${randomUUID()}`;
      const ids: unknown[] = [];
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const { response, event } = await send(gateway, { method: 'POST', url: '/v1/posts', payload: newPost(), headers: { 'idempotency-key': key } });
        await answerer.accept(event as Observed, { status: 'draft' });
        const answered = await response;
        expect(answered.statusCode).toBe(201);
        ids.push(answered.json().id);
      }
      expect(ids[0]).toBe(ids[1]);
    });

    it('another organisation\'s equal key names another post; without a key every create is a new post', async () => {
      const key = `order-${randomUUID()}`;
      const mine = await send(gateway, { method: 'POST', url: '/v1/posts', payload: newPost(), headers: { 'idempotency-key': key, prefer: 'respond-async' } });
      const theirs = await send(gateway, { method: 'POST', url: '/v1/posts', payload: newPost(), headers: { 'idempotency-key': key, prefer: 'respond-async' } }, stranger);
      expect(mine.event?.data.postId).not.toBe(theirs.event?.data.postId);
      const plain = [
        await send(gateway, { method: 'POST', url: '/v1/posts', payload: newPost(), headers: { prefer: 'respond-async' } }),
        await send(gateway, { method: 'POST', url: '/v1/posts', payload: newPost(), headers: { prefer: 'respond-async' } }),
      ];
      expect(plain[0]?.event?.data.postId).not.toBe(plain[1]?.event?.data.postId);
      expect(plain[0]?.event?.data).not.toHaveProperty('requestHash');
    });

    it('a key that is not 1-255 visible ASCII characters is a 400 naming the header, and nothing is sent', async () => {
      const { response, event } = await send(gateway, { method: 'POST', url: '/v1/posts', payload: newPost(), headers: { 'idempotency-key': 'two words' } });
      const answered = await response;
      expect(answered.statusCode).toBe(400);
      expect(answered.json()).toMatchObject({ code: 'invalid-idempotency-key', errors: [{ location: 'headers', field: 'Idempotency-Key', code: 'invalid-idempotency-key' }] });
      expect(event).toBeUndefined();
    });
  });

  describe('commands on an existing post', () => {
    async function existingPost(fields: Parameters<typeof stored>[1] = {}) {
      const post = postResource({ id: randomUUID(), organisationId: caller.organisationId, socialAccountId: randomUUID(), createdBy: caller.userId, ...fields });
      readApi.store(post);
      return post;
    }

    it('each command is read first (for the account key), then its request event; accepted is 200 with the post', async () => {
      const post = await existingPost({ status: 'queued' });
      const commands: [Request, string, Record<string, unknown>][] = [
        [{ method: 'POST', url: `/v1/posts/${post.id}/publish` }, 'post.publish-requested', {}],
        [{ method: 'POST', url: `/v1/posts/${post.id}/cancel`, payload: { reason: 'wrong day' } }, 'post.cancelled', { reason: 'wrong day' }],
        [{ method: 'POST', url: `/v1/posts/${post.id}/retry` }, 'post.retry-requested', {}],
        [{ method: 'DELETE', url: `/v1/posts/${post.id}?fromPlatform=true` }, 'post.delete-requested', { deleteFromPlatform: true }],
        [{ method: 'DELETE', url: `/v1/posts/${post.id}` }, 'post.delete-requested', { deleteFromPlatform: false }],
        [{ method: 'PATCH', url: `/v1/posts/${post.id}`, payload: { caption: 'New words' } }, 'post.updated', { changes: { caption: 'New words' } }],
        [
          { method: 'PATCH', url: `/v1/posts/${post.id}`, payload: { caption: 'Later', scheduledFor: '2026-11-01T01:30:00-05:00' } },
          'post.updated',
          { changes: { caption: 'Later' }, scheduledFor: '2026-11-01T06:30:00.000Z' },
        ],
        [{ method: 'PATCH', url: `/v1/posts/${post.id}`, payload: { scheduledFor: '2026-03-08T19:30:00+05:30' } }, 'post.scheduled', { scheduledFor: '2026-03-08T14:00:00.000Z' }],
        [{ method: 'PATCH', url: `/v1/posts/${post.id}`, payload: { scheduledFor: null } }, 'post.cancelled', { reason: 'unscheduled' }],
      ];
      for (const [options, type, data] of commands) {
        const { response, event } = await send(gateway, options);
        expect(event?.headers.ce_type, options.url as string).toBe(type);
        expect(event?.key).toBe(post.socialAccountId);
        expect(event?.data).toEqual({ postId: post.id, socialAccountId: post.socialAccountId, ...data });
        await answerer.accept(event as Observed, { status: 'queued' });
        const answered: LightMyRequestResponse = await response;
        expect(answered.statusCode, `${options.method} ${options.url}: ${answered.body}`).toBe(200);
        expect(answered.json()).toEqual(post);
      }
    });

    it('a post the caller cannot see is a 404 problem, and no request is sent', async () => {
      const post = await existingPost();
      for (const options of [
        { method: 'POST', url: `/v1/posts/${post.id}/publish` },
        { method: 'PATCH', url: `/v1/posts/${post.id}`, payload: { caption: 'mine now' } },
        { method: 'DELETE', url: `/v1/posts/${post.id}` },
      ] satisfies Request[]) {
        const { response, event } = await send(gateway, options, stranger);
        const answered = await response;
        expect(answered.statusCode).toBe(404);
        expect(answered.json()).toMatchObject({ code: 'post-not-found' });
        expect(event).toBeUndefined();
      }
    });

    it('a command the state machine refuses is the publisher\'s 422', async () => {
      const post = await existingPost({ status: 'published' });
      const { response, event } = await send(gateway, { method: 'POST', url: `/v1/posts/${post.id}/cancel` });
      expect(event, event ? "" : (await response).body).toBeDefined();
      await answerer.reject(event as Observed, [{ field: 'status', code: 'post-not-changeable', message: 'the post is already published and cannot be cancelled' }]);
      expect((await response).json()).toMatchObject({ status: 422, errors: [{ code: 'post-not-changeable' }] });
    });

    it('an update must change something; the platform cannot change', async () => {
      const post = await existingPost();
      for (const payload of [{}, { platform: 'facebook' }]) {
        const response = await gateway.inject({ method: 'PATCH', url: `/v1/posts/${post.id}`, payload, headers: { authorization: caller.authorization } });
        expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      }
    });
  });

  describe('retry every failed post of an account', () => {
    it('answers 200 with the posts the publisher put back in the queue', async () => {
      const account = randomUUID();
      readApi.addAccount(account, caller.organisationId);
      const { response, event } = await send(gateway, { method: 'POST', url: `/v1/accounts/${account}/posts/retry` });
      expect(event?.headers.ce_type).toBe('post.account-retry-requested');
      expect(event?.key).toBe(account);
      expect(event?.data).toEqual({ socialAccountId: account });
      const [first, second] = [randomUUID(), randomUUID()];
      await answerer.accept(event as Observed, { status: 'queued', postId: first });
      await answerer.accept(event as Observed, { status: 'queued', postId: second });
      const answered = await response;
      expect(answered.statusCode).toBe(200);
      expect(answered.json()).toEqual({
        socialAccountId: account,
        status: 'applied',
        requestEventId: event?.headers.ce_id,
        retried: [
          { postId: first, status: 'queued' },
          { postId: second, status: 'queued' },
        ],
        refused: [],
      });
    });

    it('an account of another organisation is a 404, and nothing is sent', async () => {
      const account = randomUUID();
      readApi.addAccount(account, caller.organisationId);
      const { response, event } = await send(gateway, { method: 'POST', url: `/v1/accounts/${account}/posts/retry` }, stranger);
      expect((await response).statusCode).toBe(404);
      expect(event).toBeUndefined();
    });
  });

  it('counts post requests by type and outcome on the gateway\'s metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(text).toMatch(/postwire_gateway_post_requests_total\{type="post.scheduled",outcome="accepted",service="gateway"\} [1-9]/);
    expect(text).toMatch(/postwire_gateway_post_requests_total\{type="post.scheduled",outcome="rejected",service="gateway"\} [1-9]/);
    expect(text).toMatch(/postwire_gateway_post_requests_total\{type="post.drafted",outcome="async",service="gateway"\} [1-9]/);
    expect(text).toMatch(/postwire_gateway_post_answer_seconds_count\{service="gateway",type="post.scheduled"\} [1-9]/);
  });
});
