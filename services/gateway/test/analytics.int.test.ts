import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { analyticsRequests } from '@postwire/contracts';
import { eventually, observeTopic } from '@postwire/testing';
import { type Member, buildGateway, createMembers, testEnvironment } from './helpers.ts';

type Recorded = { readonly method: string; readonly url: string; readonly authorization: string | undefined };

/** A stand-in for an owning service's read API: records each request, answers what the test sets. */
async function standIn() {
  const requests: Recorded[] = [];
  let answer: (request: IncomingMessage) => { status: number; body: unknown } = () => ({ status: 200, body: { data: [] } });
  const server: Server = createServer((request, response) => {
    requests.push({ method: request.method ?? '', url: request.url ?? '', authorization: request.headers.authorization });
    const { status, body } = answer(request);
    response.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    answerWith(next: typeof answer) {
      answer = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('insights through the gateway: snapshots, summary, top posts and the on-demand refresh', () => {
  let members: Awaited<ReturnType<typeof createMembers>>;
  let gateway: FastifyInstance;
  let analytics: Awaited<ReturnType<typeof standIn>>;
  let publisher: Awaited<ReturnType<typeof standIn>>;
  let observer: Awaited<ReturnType<typeof observeTopic>>;
  let member: Member;
  const postId = randomUUID();
  const socialAccountId = randomUUID();
  const series = (refreshAvailableAt: string | null, syncsStoppedReason: string | null = null) => ({
    postId,
    socialAccountId,
    platform: 'instagram',
    postType: 'feed',
    publishedAt: '2026-12-01T10:00:00.000Z',
    syncsStoppedReason,
    refreshAvailableAt,
    data: [
      { id: randomUUID(), postId, likes: 8, comments: 1, shares: 1, saves: 2, reach: 70, impressions: 100, plays: null, engagementRate: 17.14, snapshotAt: '2026-12-01T11:00:00.000Z', hoursSincePublished: 1 },
    ],
  });

  beforeAll(async () => {
    members = await createMembers();
    analytics = await standIn();
    publisher = await standIn();
    ({ gateway } = await buildGateway(testEnvironment(members.url, { GATEWAY_ANALYTICS_URL: analytics.url, GATEWAY_PUBLISHER_URL: publisher.url })));
    member = await members.member();
    observer = await observeTopic(analyticsRequests.name);
  });

  afterAll(async () => {
    await observer?.stop();
    await gateway?.close();
    await Promise.all([analytics?.close(), publisher?.close()]);
    await members?.close();
  });

  beforeEach(() => {
    analytics.requests.length = 0;
    publisher.requests.length = 0;
  });

  it("forwards a post's snapshots to the analytics service with the caller's token", async () => {
    analytics.answerWith(() => ({ status: 200, body: series(null) }));
    const response = await gateway.inject({ url: `/v1/posts/${postId}/snapshots`, headers: { authorization: member.authorization } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ postId, data: [{ hoursSincePublished: 1, impressions: 100 }] });
    expect(analytics.requests).toEqual([{ method: 'GET', url: `/v1/posts/${postId}/snapshots`, authorization: member.authorization }]);
  });

  it('forwards the summary and top posts with validated queries, and refuses bad ones without asking', async () => {
    analytics.answerWith(() => ({ status: 200, body: { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', previousFrom: '2026-10-02T00:00:00.000Z', groups: [] } }));
    publisher.answerWith(() => ({ status: 200, body: { data: [] } }));
    expect((await gateway.inject({ url: '/v1/analytics/summary?days=30', headers: { authorization: member.authorization } })).statusCode).toBe(200);
    expect((await gateway.inject({ url: '/v1/analytics/top-posts?limit=5', headers: { authorization: member.authorization } })).statusCode).toBe(200);
    expect(analytics.requests.map((request) => request.url)).toEqual(['/v1/analytics/summary?days=30']);
    expect(publisher.requests.map((request) => request.url)).toEqual(['/v1/analytics/top-posts?days=30&limit=5']);
    const bad = await gateway.inject({ url: '/v1/analytics/top-posts?days=0', headers: { authorization: member.authorization } });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(publisher.requests).toHaveLength(1);
    expect((await gateway.inject({ url: '/v1/analytics/summary' })).statusCode).toBe(401);
  });

  it('turns a refresh into post.insights-refresh-requested keyed by the account, 202 with the Location', async () => {
    analytics.answerWith(() => ({ status: 200, body: series(null) }));
    const response = await gateway.inject({ method: 'POST', url: `/v1/posts/${postId}/insights/refresh`, headers: { authorization: member.authorization } });
    expect(response.statusCode).toBe(202);
    expect(response.headers.location).toBe(`/v1/posts/${postId}/snapshots`);
    expect(response.json()).toEqual({ status: 'accepted', postId });
    const [event] = await eventually(() => (observer.messages.length > 0 ? observer.messages : undefined), 'the refresh request on Kafka');
    expect(event?.key).toBe(socialAccountId);
    expect(event?.headers.ce_type).toBe('post.insights-refresh-requested');
    expect(event?.headers.ce_organisationid).toBe(member.organisationId);
    expect(event?.data).toEqual({ postId, socialAccountId });
  });

  it('answers 429 with Retry-After inside the cooldown, 409 when Meta stopped giving insights, 404 for a post it cannot see', async () => {
    const before = observer.messages.length;
    analytics.answerWith(() => ({ status: 200, body: series(new Date(Date.now() + 90_000).toISOString()) }));
    const tooSoon = await gateway.inject({ method: 'POST', url: `/v1/posts/${postId}/insights/refresh`, headers: { authorization: member.authorization } });
    expect(tooSoon.statusCode).toBe(429);
    expect(Number(tooSoon.headers['retry-after'])).toBeGreaterThanOrEqual(89);
    expect(tooSoon.json()).toMatchObject({ type: 'https://postwire.dev/problems/refresh-too-soon' });
    analytics.answerWith(() => ({ status: 200, body: series(null, 'object-deleted') }));
    const stopped = await gateway.inject({ method: 'POST', url: `/v1/posts/${postId}/insights/refresh`, headers: { authorization: member.authorization } });
    expect(stopped.statusCode).toBe(409);
    analytics.answerWith(() => ({ status: 404, body: { type: 'https://postwire.dev/problems/post-not-found', title: 'Post not found', status: 404, detail: 'No published post.' } }));
    const hidden = await gateway.inject({ method: 'POST', url: `/v1/posts/${postId}/insights/refresh`, headers: { authorization: member.authorization } });
    expect(hidden.statusCode).toBe(404);
    const malformed = await gateway.inject({ method: 'POST', url: '/v1/posts/not-a-post/insights/refresh', headers: { authorization: member.authorization } });
    expect(malformed.statusCode).toBe(400);
    await observer.caughtUp();
    expect(observer.messages).toHaveLength(before);
  });
});
