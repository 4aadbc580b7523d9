import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@postwire/config';
import { configSchema } from '../src/config.ts';
import { type Member, buildGateway, createMembers, testEnvironment } from './helpers.ts';
import { postResource, startReadApi } from './posts-support.ts';

describe('posts API reads, forwarded to the publisher with the caller\'s identity', () => {
  let members: Awaited<ReturnType<typeof createMembers>>;
  let readApi: Awaited<ReturnType<typeof startReadApi>>;
  let gateway: FastifyInstance;
  let caller: Member;
  let stranger: Member;

  beforeAll(async () => {
    members = await createMembers();
    readApi = await startReadApi(loadConfig(configSchema, testEnvironment(members.url)).auth);
    ({ gateway } = await buildGateway(testEnvironment(members.url, { GATEWAY_PUBLISHER_URL: readApi.url, GATEWAY_ACCOUNTS_URL: readApi.url })));
    caller = await members.member();
    stranger = await members.member();
  });

  afterAll(async () => {
    await gateway.close();
    await readApi.close();
    await members.close();
  });

  const servedSince = (index: number) => readApi.served.slice(index);

  it('lists with the seed\'s query 2 filters: statuses as csv, the window normalised to UTC, the token verified by the owner', async () => {
    const mine = postResource({ id: randomUUID(), organisationId: caller.organisationId, socialAccountId: randomUUID(), createdBy: caller.userId });
    const theirs = postResource({ id: randomUUID(), organisationId: stranger.organisationId, socialAccountId: randomUUID(), createdBy: stranger.userId });
    readApi.store(mine);
    readApi.store(theirs);
    const before = readApi.served.length;
    const account = randomUUID();
    const response = await gateway.inject({
      url: `/v1/posts?status=draft,queued&from=2026-03-08T00:00:00-05:00&to=2026-03-15T00:00:00%2B05:30&account=${account}&platform=instagram&type=reel&limit=10&cursor=abc_123&extra=ignored`,
      headers: { authorization: caller.authorization },
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ data: [mine], nextCursor: null });
    const [forwarded] = servedSince(before);
    expect(forwarded?.organisationId).toBe(caller.organisationId);
    const url = new URL(forwarded?.url ?? '', readApi.url);
    expect(url.pathname).toBe('/v1/posts');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      status: 'draft,queued',
      from: '2026-03-08T05:00:00.000Z',
      to: '2026-03-14T18:30:00.000Z',
      account,
      platform: 'instagram',
      type: 'reel',
      limit: '10',
      cursor: 'abc_123',
    });
  });

  it('refuses a window without an offset or an unknown status before asking anyone', async () => {
    const before = readApi.served.length;
    const noOffset = await gateway.inject({ url: '/v1/posts?from=2026-03-08T00:00:00', headers: { authorization: caller.authorization } });
    expect(noOffset.statusCode).toBe(400);
    expect(noOffset.json().errors).toEqual([expect.objectContaining({ location: 'querystring', field: 'from', code: 'offset-required' })]);
    const badStatus = await gateway.inject({ url: '/v1/posts?status=draft,sent', headers: { authorization: caller.authorization } });
    expect(badStatus.statusCode).toBe(400);
    expect(badStatus.json().errors).toEqual([expect.objectContaining({ field: 'status[1]', code: 'invalid-value' })]);
    expect(servedSince(before)).toEqual([]);
  });

  it('gets one post; another organisation\'s post is a 404 problem (the owner decides)', async () => {
    const post = postResource({ id: randomUUID(), organisationId: caller.organisationId, socialAccountId: randomUUID(), createdBy: caller.userId, status: 'failed', errorMessage: 'Reconnect the account, then retry.' });
    readApi.store(post);
    const mine = await gateway.inject({ url: `/v1/posts/${post.id}`, headers: { authorization: caller.authorization } });
    expect(mine.statusCode).toBe(200);
    expect(mine.json()).toEqual(post);
    const hidden = await gateway.inject({ url: `/v1/posts/${post.id}`, headers: { authorization: stranger.authorization } });
    expect(hidden.statusCode).toBe(404);
    expect(hidden.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(hidden.json()).toMatchObject({ code: 'post-not-found', status: 404 });
    expect((await gateway.inject({ url: '/v1/posts/not-a-uuid', headers: { authorization: caller.authorization } })).statusCode).toBe(400);
  });

  it('lists content not yet posted (the seed\'s query 5)', async () => {
    const before = readApi.served.length;
    const response = await gateway.inject({ url: '/v1/content/unposted?limit=5', headers: { authorization: caller.authorization } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ data: [{ status: 'completed', videoUrl: 'https://cdn.example.com/cat.mp4' }], nextCursor: null });
    expect(servedSince(before)).toEqual([{ method: 'GET', url: '/v1/content/unposted?limit=5', organisationId: caller.organisationId }]);
  });

  it('asks for a bearer token on every posts route', async () => {
    const id = randomUUID();
    for (const [method, url] of [
      ['GET', '/v1/posts'],
      ['POST', '/v1/posts'],
      ['GET', `/v1/posts/${id}`],
      ['PATCH', `/v1/posts/${id}`],
      ['DELETE', `/v1/posts/${id}`],
      ['POST', `/v1/posts/${id}/publish`],
      ['POST', `/v1/posts/${id}/cancel`],
      ['POST', `/v1/posts/${id}/retry`],
      ['POST', `/v1/accounts/${id}/posts/retry`],
      ['GET', '/v1/content/unposted'],
    ] as const) {
      expect((await gateway.inject({ method, url })).statusCode, `${method} ${url}`).toBe(401);
    }
  });

  it('documents every posts operation: operationId, tag, problems as problem+json, the 202 Location', async () => {
    const document = (await gateway.inject('/openapi.json')).json();
    const operations = [
      ['/v1/posts', 'post', 'createPost'],
      ['/v1/posts', 'get', 'listPosts'],
      ['/v1/posts/{postId}', 'get', 'getPost'],
      ['/v1/posts/{postId}', 'patch', 'updatePost'],
      ['/v1/posts/{postId}', 'delete', 'deletePost'],
      ['/v1/posts/{postId}/publish', 'post', 'publishPost'],
      ['/v1/posts/{postId}/cancel', 'post', 'cancelPost'],
      ['/v1/posts/{postId}/retry', 'post', 'retryPost'],
      ['/v1/accounts/{accountId}/posts/retry', 'post', 'retryAccountPosts'],
      ['/v1/content/unposted', 'get', 'listUnpostedContent'],
    ] as const;
    for (const [path, method, operationId] of operations) {
      const operation = document.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(operation.operationId).toBe(operationId);
      expect(operation.tags).toEqual(['posts']);
      expect(operation.description.length).toBeGreaterThan(20);
      expect(operation.responses['401'].content).toHaveProperty(['application/problem+json']);
      if (method !== 'get') {
        expect(operation.responses['202'].headers.Location.schema).toEqual({ type: 'string' });
        // An account's retry lists what the publisher refused in its 200 instead.
        if (operationId !== 'retryAccountPosts') expect(operation.responses['422'].content['application/problem+json'].schema).toEqual({ $ref: '#/components/schemas/Problem' });
      }
    }
    expect(document.components.schemas.Problem.properties).toHaveProperty('errors');
    // Shared shapes are components: a $ref names one.
    const resolve = (schema: { $ref?: string }) => (schema.$ref ? document.components.schemas[schema.$ref.split('/').pop() ?? ''] : schema);
    const create = document.paths['/v1/posts'].post;
    const body = { ...create.requestBody.content['application/json'], schema: resolve(create.requestBody.content['application/json'].schema) };
    expect(body.example ?? body.schema.example).toMatchObject({ scheduledFor: '2026-03-08T09:00:00-05:00' });
    expect(body.schema.properties.scheduledFor.description).toMatch(/offset/);
    expect(create.parameters.map((parameter: { name: string }) => parameter.name)).toEqual(expect.arrayContaining(['idempotency-key', 'prefer']));
  });
});
