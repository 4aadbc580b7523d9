import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postRequests } from '@postwire/contracts';
import { loadConfig } from '@postwire/config';
import { type Observed, type TopicObserver, eventually, observeTopic } from '@postwire/testing';
import { configSchema } from '../src/config.ts';
import { type Member, buildGateway, createMembers, testEnvironment } from './helpers.ts';
import { postResource, startAnswerer, startReadApi } from './posts-support.ts';

type Headers = Record<string, string>;

describe('conditional requests: ETag and If-None-Match on reads, If-Match on changes', () => {
  let members: Awaited<ReturnType<typeof createMembers>>;
  let readApi: Awaited<ReturnType<typeof startReadApi>>;
  let answerer: Awaited<ReturnType<typeof startAnswerer>>;
  let observer: TopicObserver;
  let gateway: FastifyInstance;
  let alice: Member;

  beforeAll(async () => {
    members = await createMembers();
    readApi = await startReadApi(loadConfig(configSchema, testEnvironment(members.url)).auth);
    ({ gateway } = await buildGateway(
      testEnvironment(members.url, {
        GATEWAY_PUBLISHER_URL: readApi.url,
        GATEWAY_ACCOUNTS_URL: readApi.url,
        GATEWAY_POST_WAIT_MS: '15000',
        GATEWAY_WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      }),
    ));
    answerer = await startAnswerer(gateway.log);
    observer = await observeTopic(postRequests.name);
    alice = await members.member();
  });

  afterAll(async () => {
    await observer.stop();
    await answerer.close();
    await gateway.close();
    await readApi.close();
    await members.close();
  });

  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: Headers = {}, body?: unknown) =>
    gateway.inject({
      method,
      url,
      headers: { authorization: alice.authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });

  const storePost = (fields: { updatedAt: string; caption?: string }) => {
    const post = postResource({ id: randomUUID(), organisationId: alice.organisationId, socialAccountId: randomUUID(), createdBy: alice.userId, updatedAt: fields.updatedAt });
    readApi.store(post);
    return post;
  };

  function expectNotModified(response: LightMyRequestResponse, etag: string) {
    expect(response.statusCode, response.body).toBe(304);
    expect(response.body).toBe('');
    expect(response.headers.etag).toBe(etag);
    expect(response.headers['cache-control']).toBe('private, no-cache');
    expect(response.headers['content-type']).toBeUndefined();
  }

  describe('reads', () => {
    it('answer a strong ETag and `private, no-cache`; If-None-Match naming it (alone, in a list, weak, or *) is 304 without a body', async () => {
      const read = await api('GET', '/v1/me');
      expect(read.statusCode).toBe(200);
      const etag = String(read.headers.etag);
      expect(etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
      expect(read.headers['cache-control']).toBe('private, no-cache');
      expect((await api('GET', '/v1/me')).headers.etag).toBe(etag);
      expectNotModified(await api('GET', '/v1/me', { 'if-none-match': etag }), etag);
      expectNotModified(await api('GET', '/v1/me', { 'if-none-match': `"other", ${etag}` }), etag);
      expectNotModified(await api('GET', '/v1/me', { 'if-none-match': `W/${etag}` }), etag);
      expectNotModified(await api('GET', '/v1/me', { 'if-none-match': '*' }), etag);
    });

    it('answer in full when If-None-Match names another tag, and ignore a malformed one', async () => {
      const etag = String((await api('GET', '/v1/me')).headers.etag);
      for (const field of ['"other"', 'W/"other", "another"', 'not-a-tag', '"a b"']) {
        const read = await api('GET', '/v1/me', { 'if-none-match': field });
        expect(read.statusCode, field).toBe(200);
        expect(read.headers.etag).toBe(etag);
        expect(read.json()).toEqual({ userId: alice.userId, organisationId: alice.organisationId });
      }
    });

    it('a list that changed gets a new ETag, and the old one reads it in full', async () => {
      storePost({ updatedAt: '2026-03-01T10:00:00.000Z' });
      const first = await api('GET', '/v1/posts');
      const etag = String(first.headers.etag);
      expectNotModified(await api('GET', '/v1/posts', { 'if-none-match': etag }), etag);
      storePost({ updatedAt: '2026-03-01T10:00:00.000Z' });
      const changed = await api('GET', '/v1/posts', { 'if-none-match': etag });
      expect(changed.statusCode).toBe(200);
      expect(changed.headers.etag).not.toBe(etag);
      expect(changed.json().data).toHaveLength(2);
    });

    it("one post's ETag is the version its publisher names, and revalidates with it", async () => {
      const post = storePost({ updatedAt: '2026-03-02T08:30:00.123Z' });
      const read = await api('GET', `/v1/posts/${post.id}`);
      expect(read.statusCode).toBe(200);
      expect(read.headers.etag).toBe(`"${Date.parse(post.updatedAt) * 1000}"`);
      expectNotModified(await api('GET', `/v1/posts/${post.id}`, { 'if-none-match': String(read.headers.etag) }), String(read.headers.etag));
    });

    it('a 404 carries no ETag', async () => {
      const missing = await api('GET', `/v1/posts/${randomUUID()}`, { 'if-none-match': '*' });
      expect(missing.statusCode).toBe(404);
      expect(missing.headers.etag).toBeUndefined();
    });
  });

  describe('If-Match on a post', () => {
    const requestOf = (correlationId: string) => observer.messages.find((message) => message.headers.ce_correlationid === correlationId);

    /** A change the gateway refuses itself: its answer, and proof that nothing went to Kafka. */
    async function refused(method: 'PATCH' | 'POST' | 'DELETE', url: string, ifMatch: string, body?: unknown) {
      const correlationId = randomUUID();
      const response = await api(method, url, { 'if-match': ifMatch, 'x-correlation-id': correlationId, prefer: 'respond-async' }, body);
      await observer.caughtUp();
      expect(requestOf(correlationId)).toBeUndefined();
      return response;
    }

    it('a stale or weak tag is 412 with the current ETag, and no request is sent', async () => {
      const post = storePost({ updatedAt: '2026-03-03T09:00:00.000Z' });
      const current = `"${Date.parse(post.updatedAt) * 1000}"`;
      for (const [method, url, body] of [
        ['PATCH', `/v1/posts/${post.id}`, { caption: 'Lost update' }],
        ['POST', `/v1/posts/${post.id}/cancel`, undefined],
        ['POST', `/v1/posts/${post.id}/publish`, undefined],
        ['DELETE', `/v1/posts/${post.id}`, undefined],
      ] as const) {
        for (const ifMatch of ['"1"', `W/${current}`, '"1", "2"']) {
          const answer = await refused(method, url, ifMatch, body);
          expect(answer.statusCode, `${method} ${url} ${ifMatch}`).toBe(412);
          expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(answer.json()).toMatchObject({ type: 'https://postwire.dev/problems/precondition-failed', status: 412, instance: new URL(url, 'http://x').pathname });
          expect(answer.headers.etag).toBe(current);
        }
      }
    });

    it('a malformed If-Match is a 400 naming the header, and no request is sent', async () => {
      const post = storePost({ updatedAt: '2026-03-03T09:00:00.000Z' });
      const answer = await refused('PATCH', `/v1/posts/${post.id}`, 'version-1', { caption: 'x' });
      expect(answer.statusCode).toBe(400);
      expect(answer.json().errors).toEqual([expect.objectContaining({ location: 'headers', field: 'If-Match', code: 'invalid-if-match' })]);
    });

    /** Sends a change with If-Match and hands back its request event while the gateway waits for the answer. */
    async function sent(ifMatch: string, postId: string) {
      const correlationId = randomUUID();
      const response = api('PATCH', `/v1/posts/${postId}`, { 'if-match': ifMatch, 'x-correlation-id': correlationId }, { caption: 'Version 2' });
      const event = await eventually(async () => requestOf(correlationId), `the request of ${correlationId}`, { timeoutMs: 20_000, intervalMs: 20 });
      return { response, event };
    }

    it('the current tag (in a list) travels as the version the publisher must find; applied, the answer names the new version', async () => {
      const post = storePost({ updatedAt: '2026-03-04T09:00:00.000Z' });
      const version = String(Date.parse(post.updatedAt) * 1000);
      const { response, event } = await sent(`"0", "${version}"`, post.id);
      expect(event.data).toMatchObject({ postId: post.id, expectedVersion: version, changes: { caption: 'Version 2' } });
      // The publisher applies it: the post moves on.
      readApi.store({ ...post, content: { ...post.content, caption: 'Version 2' }, updatedAt: '2026-03-04T09:00:01.000Z' });
      await answerer.accept(event as Observed, { status: 'draft' });
      const answered = await response;
      expect(answered.statusCode, answered.body).toBe(200);
      expect(answered.headers.etag).toBe(`"${Date.parse('2026-03-04T09:00:01.000Z') * 1000}"`);
    });

    it('* asks only that the post exists: no version travels', async () => {
      const post = storePost({ updatedAt: '2026-03-04T09:00:00.000Z' });
      const { response, event } = await sent('*', post.id);
      expect(event.data).not.toHaveProperty('expectedVersion');
      await answerer.accept(event as Observed, { status: 'draft' });
      expect((await response).statusCode).toBe(200);
      const missing = await refused('PATCH', `/v1/posts/${randomUUID()}`, '*', { caption: 'x' });
      expect(missing.statusCode).toBe(404);
    });

    it('the publisher finding the post moved on (a change won the race) is 412 with the current ETag', async () => {
      const post = storePost({ updatedAt: '2026-03-05T09:00:00.000Z' });
      const { response, event } = await sent(`"${Date.parse(post.updatedAt) * 1000}"`, post.id);
      readApi.store({ ...post, updatedAt: '2026-03-05T09:00:02.000Z' });
      await answerer.reject(event as Observed, [{ field: 'If-Match', code: 'precondition-failed', message: 'the post changed' }]);
      const answered = await response;
      expect(answered.statusCode, answered.body).toBe(412);
      expect(answered.json()).toMatchObject({ code: 'precondition-failed', postId: post.id, requestEventId: event.headers.ce_id });
      expect(answered.headers.etag).toBe(`"${Date.parse('2026-03-05T09:00:02.000Z') * 1000}"`);
    });
  });

  describe('If-Match on a webhook endpoint', () => {
    async function createEndpoint() {
      const created = await api('POST', '/v1/webhooks/endpoints', {}, { url: 'http://127.0.0.1:9/hooks', description: 'v1' });
      expect(created.statusCode, created.body).toBe(201);
      const id = String(created.json().id);
      const read = await api('GET', `/v1/webhooks/endpoints/${id}`);
      return { id, etag: String(read.headers.etag) };
    }

    it('reads with its version as ETag; a change against it applies and names the new version; the old one is 412 and changes nothing', async () => {
      const { id, etag } = await createEndpoint();
      expect(etag).toMatch(/^"\d+"$/);
      expectNotModified(await api('GET', `/v1/webhooks/endpoints/${id}`, { 'if-none-match': etag }), etag);

      const applied = await api('PATCH', `/v1/webhooks/endpoints/${id}`, { 'if-match': etag }, { description: 'v2' });
      expect(applied.statusCode, applied.body).toBe(200);
      const current = String(applied.headers.etag);
      expect(current).not.toBe(etag);
      expect((await api('GET', `/v1/webhooks/endpoints/${id}`)).headers.etag).toBe(current);

      for (const [method, url, body] of [
        ['PATCH', `/v1/webhooks/endpoints/${id}`, { description: 'lost update' }],
        ['POST', `/v1/webhooks/endpoints/${id}/secret`, {}],
        ['DELETE', `/v1/webhooks/endpoints/${id}`, undefined],
      ] as const) {
        for (const ifMatch of [etag, `W/${current}`]) {
          const stale = await api(method, url, { 'if-match': ifMatch }, body);
          expect(stale.statusCode, `${method} ${url} ${ifMatch}`).toBe(412);
          expect(stale.json()).toMatchObject({ code: 'precondition-failed', status: 412 });
          expect(stale.headers.etag).toBe(current);
        }
      }
      const unchanged = await api('GET', `/v1/webhooks/endpoints/${id}`);
      expect(unchanged.json()).toMatchObject({ description: 'v2' });
      expect(unchanged.headers.etag).toBe(current);
    });

    it('of two changes made against one version, exactly one applies', async () => {
      const { id, etag } = await createEndpoint();
      const answers = await Promise.all(['racer a', 'racer b'].map((description) => api('PATCH', `/v1/webhooks/endpoints/${id}`, { 'if-match': etag }, { description })));
      expect(answers.map((answer) => answer.statusCode).sort()).toEqual([200, 412]);
      const winner = answers.find((answer) => answer.statusCode === 200)?.json().description;
      expect((await api('GET', `/v1/webhooks/endpoints/${id}`)).json().description).toBe(winner);
    });

    it('* applies to whatever version exists, and a gone endpoint is 404', async () => {
      const { id } = await createEndpoint();
      const rotated = await api('POST', `/v1/webhooks/endpoints/${id}/secret`, { 'if-match': '*' }, {});
      expect(rotated.statusCode, rotated.body).toBe(200);
      expect(rotated.headers.etag).toMatch(/^"\d+"$/);
      const removed = await api('DELETE', `/v1/webhooks/endpoints/${id}`, { 'if-match': String(rotated.headers.etag) });
      expect(removed.statusCode, removed.body).toBe(200);
      expect((await api('PATCH', `/v1/webhooks/endpoints/${id}`, { 'if-match': '*' }, { description: 'x' })).statusCode).toBe(404);
    });
  });

  it('the OpenAPI document says so: If-None-Match, 304 and ETag on reads; If-Match and 412 with ETag on changes', async () => {
    type Operation = { parameters?: { name: string; in: string }[]; responses: Record<string, { headers?: Record<string, unknown> }> };
    const document = (await gateway.inject({ url: '/openapi.json' })).json<{ paths: Record<string, Record<string, Operation>> }>();
    const names = (operation: Operation | undefined) => (operation?.parameters ?? []).filter((parameter) => parameter.in === 'header').map((parameter) => parameter.name);
    for (const [path, method] of [['/v1/me', 'get'], ['/v1/posts', 'get'], ['/v1/posts/{postId}', 'get'], ['/v1/webhooks/endpoints/{endpointId}', 'get'], ['/v1/accounts', 'get']] as const) {
      const operation = document.paths[path]?.[method];
      expect(names(operation), path).toContain('if-none-match');
      expect(Object.keys(operation?.responses[200]?.headers ?? {}), path).toEqual(expect.arrayContaining(['ETag', 'Cache-Control']));
      expect(operation?.responses[304], path).toBeDefined();
    }
    expect(document.paths['/v1/events']?.get?.responses[304]).toBeUndefined();
    for (const [path, method] of [
      ['/v1/posts/{postId}', 'patch'],
      ['/v1/posts/{postId}', 'delete'],
      ['/v1/posts/{postId}/cancel', 'post'],
      ['/v1/posts/{postId}/publish', 'post'],
      ['/v1/posts/{postId}/retry', 'post'],
      ['/v1/webhooks/endpoints/{endpointId}', 'patch'],
      ['/v1/webhooks/endpoints/{endpointId}', 'delete'],
      ['/v1/webhooks/endpoints/{endpointId}/secret', 'post'],
    ] as const) {
      const operation = document.paths[path]?.[method];
      expect(names(operation), `${method} ${path}`).toContain('if-match');
      expect(Object.keys(operation?.responses[412]?.headers ?? {}), `${method} ${path}`).toEqual(expect.arrayContaining(['ETag']));
    }
  });
});
