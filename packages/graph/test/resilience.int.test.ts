import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GraphApiError, GraphNetworkError, classifyGraphError, type GraphClient } from '../src/index.ts';
import { z } from 'zod';
import { ALICE, BAKERY_IG, BAKERY_PAGE, addFault, advance, clientFor, control, faultHits, mintToken, startSandbox } from './sandbox.ts';

let sandbox: Awaited<ReturnType<typeof startSandbox>>;
let graph: GraphClient;
let userToken: string;
let pageToken: string;
let warnings: string[];

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(() => sandbox.close());
beforeEach(async () => {
  await control(sandbox.baseUrl, 'POST', '/reset', {});
  warnings = [];
  graph = clientFor(sandbox.baseUrl, {}, { logger: { debug: () => undefined, warn: (_object, message) => void warnings.push(message) } });
  userToken = await mintToken(sandbox.baseUrl, { kind: 'facebook-user', subjectId: ALICE, scopes: ['pages_show_list', 'instagram_basic'], longLived: true });
  pageToken = await mintToken(sandbox.baseUrl, { kind: 'facebook-page', subjectId: ALICE, pageId: BAKERY_PAGE, scopes: ['instagram_basic', 'instagram_content_publish', 'pages_read_engagement'] });
});

const image = () => `${sandbox.baseUrl}/_sandbox/media/sample.jpg?w=1080&h=1080`;
const containers = async () => (await control<{ containers: unknown[] }>(sandbox.baseUrl, 'GET', `/instagram/${BAKERY_IG}/containers`)).containers;

describe('retries', () => {
  it('retries a GET through transient 500s and answers', async () => {
    const fault = await addFault(sandbox.baseUrl, { operation: 'facebook.permissions', kind: 'error', error: { code: 2, httpStatus: 500, isTransient: true, message: 'Service temporarily unavailable' }, times: 2 });
    const permissions = await graph.permissions(userToken);
    expect(permissions.granted).toContain('instagram_basic');
    expect(await faultHits(sandbox.baseUrl, fault.id)).toBe(2);
    expect(warnings).toEqual(['retrying meta call', 'retrying meta call']);
  });

  it('gives up after the configured retries and surfaces the transient error', async () => {
    const fault = await addFault(sandbox.baseUrl, { operation: 'facebook.permissions', kind: 'error', error: { code: 1, httpStatus: 500, isTransient: true } });
    const error = await graph.permissions(userToken).catch((caught: unknown) => caught);
    expect(classifyGraphError(error)).toMatchObject({ class: 'transient', retryable: true });
    expect(await faultHits(sandbox.baseUrl, fault.id)).toBe(4);
  });

  it('does not retry a GET on errors that will not heal (token, parameters)', async () => {
    const fault = await addFault(sandbox.baseUrl, { operation: 'facebook.permissions', kind: 'error', error: { code: 190, subcode: 460 } });
    expect(classifyGraphError(await graph.permissions(userToken).catch((caught: unknown) => caught)).class).toBe('token-invalid');
    expect(await faultHits(sandbox.baseUrl, fault.id)).toBe(1);
  });

  it('never retries a POST; a code 2 / HTTP 500 answer to a write is ambiguous (Meta may have applied it)', async () => {
    const fault = await addFault(sandbox.baseUrl, { operation: 'instagram.media.create', kind: 'error', error: { code: 2, httpStatus: 500, isTransient: true }, times: 1 });
    const error = await graph.createMediaContainer(BAKERY_IG, pageToken, { kind: 'image', imageUrl: image() }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GraphApiError);
    expect(classifyGraphError(error)).toMatchObject({ class: 'ambiguous', action: 'reconcile-then-retry', retryable: false });
    // Here the fault answered before doing anything, which is what reconciling finds out.
    expect(await faultHits(sandbox.baseUrl, fault.id)).toBe(1);
    expect(await containers()).toHaveLength(0);
    expect(warnings).toEqual([]);
  });

  it('retries a GET whose connection was dropped before anything was done', async () => {
    const fault = await addFault(sandbox.baseUrl, { operation: 'facebook.permissions', kind: 'drop', times: 1 });
    expect((await graph.permissions(userToken)).granted).toContain('pages_show_list');
    expect(await faultHits(sandbox.baseUrl, fault.id)).toBe(1);
  });
});

describe('ambiguous outcomes and timeouts', () => {
  it('reports a POST applied then dropped as an ambiguous network error, and the container does exist', async () => {
    await addFault(sandbox.baseUrl, { operation: 'instagram.media.create', kind: 'drop-after-apply', times: 1 });
    const error = await graph.createMediaContainer(BAKERY_IG, pageToken, { kind: 'image', imageUrl: image() }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GraphNetworkError);
    expect(error).toMatchObject({ ambiguous: true, requestSent: true, timedOut: false, method: 'POST' });
    expect(classifyGraphError(error)).toMatchObject({ class: 'ambiguous', action: 'reconcile-then-retry', retryable: false });
    // The point of "ambiguous": Meta did the work, so a blind retry would create a second container.
    expect(await containers()).toHaveLength(1);
    expect((error as Error).message).not.toContain(pageToken);
  });

  it('reports media_publish applied then dropped as ambiguous; the post exists exactly once', async () => {
    const container = await graph.createMediaContainer(BAKERY_IG, pageToken, { kind: 'image', imageUrl: image() });
    await advance(sandbox.baseUrl, 2_000);
    await addFault(sandbox.baseUrl, { operation: 'instagram.media-publish', kind: 'drop-after-apply', times: 1 });
    const error = await graph.publishMedia(BAKERY_IG, pageToken, container.id).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ ambiguous: true });
    expect((await graph.containerStatus(container.id, pageToken)).statusCode).toBe('PUBLISHED');
    expect((await control<{ media: unknown[] }>(sandbox.baseUrl, 'GET', `/instagram/${BAKERY_IG}/media`)).media).toHaveLength(1);
  });

  it('classifies media_publish applied then answered 4/2207051 as ambiguous; reconciling finds the live media', async () => {
    const container = await graph.createMediaContainer(BAKERY_IG, pageToken, { kind: 'image', imageUrl: image(), caption: 'went live anyway' });
    await advance(sandbox.baseUrl, 2_000);
    await addFault(sandbox.baseUrl, { operation: 'instagram.media-publish', kind: 'error-after-apply', error: { preset: 'action-blocked' }, times: 1 });
    const error = await graph.publishMedia(BAKERY_IG, pageToken, container.id).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 4, subcode: 2207051, method: 'POST' });
    expect(classifyGraphError(error)).toMatchObject({ class: 'ambiguous', action: 'reconcile-then-retry', retryable: false });
    expect((await graph.containerStatus(container.id, pageToken)).statusCode).toBe('PUBLISHED');
    // The same answer to a read is what it says: the account is restricted.
    await addFault(sandbox.baseUrl, { operation: 'instagram-container.get', kind: 'error', error: { preset: 'action-blocked' }, times: 1 });
    const read = await graph.containerStatus(container.id, pageToken).catch((caught: unknown) => caught);
    expect(classifyGraphError(read)).toMatchObject({ class: 'account-restricted', accountProblem: true });
  });

  it('classifies a Page post answered code 2 / HTTP 500 after it was created as ambiguous', async () => {
    const writer = await mintToken(sandbox.baseUrl, { kind: 'facebook-page', subjectId: ALICE, pageId: BAKERY_PAGE, scopes: ['pages_manage_posts'] });
    await addFault(sandbox.baseUrl, { operation: 'pages.feed.create', kind: 'error-after-apply', error: { preset: 'service-error' }, times: 1 });
    const error = await graph
      .post(`/${BAKERY_PAGE}/feed`, { token: writer, params: { message: 'created anyway' }, schema: z.object({ id: z.string() }) })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 2, httpStatus: 500 });
    expect(classifyGraphError(error).class).toBe('ambiguous');
    const posts = await control<{ posts: { message: string }[] }>(sandbox.baseUrl, 'GET', `/pages/${BAKERY_PAGE}/posts`);
    expect(posts.posts.map((post) => post.message)).toEqual(['created anyway']);
  });

  it('reads a just-created object again after 100/33 (transient on a read)', async () => {
    const fault = await addFault(sandbox.baseUrl, { operation: 'facebook.permissions', kind: 'error', error: { preset: 'object-not-ready' }, times: 1 });
    expect((await graph.permissions(userToken)).granted).toContain('instagram_basic');
    expect(await faultHits(sandbox.baseUrl, fault.id)).toBe(1);
  });

  it('classifies 190/492 as a lost Page role, not a reconnect', async () => {
    await addFault(sandbox.baseUrl, { operation: 'facebook.permissions', kind: 'error', error: { preset: 'page-role-lost' } });
    const error = await graph.permissions(userToken).catch((caught: unknown) => caught);
    expect(classifyGraphError(error)).toMatchObject({ class: 'page-role-lost', action: 'regain-page-role', accountProblem: true, retryable: false });
  });

  it('times out a slow answer with a timeout error (GET: not ambiguous; POST: ambiguous)', async () => {
    const quick = clientFor(sandbox.baseUrl, { GRAPH_TIMEOUT_MS: '200', GRAPH_MAX_RETRIES: '0' });
    await addFault(sandbox.baseUrl, { operation: 'facebook.permissions', kind: 'latency', latencyMs: 1_000 });
    const started = Date.now();
    const error = await quick.permissions(userToken).catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeLessThan(900);
    expect(error).toBeInstanceOf(GraphNetworkError);
    expect(error).toMatchObject({ timedOut: true, ambiguous: false, method: 'GET' });
    expect(classifyGraphError(error).class).toBe('transient');

    await addFault(sandbox.baseUrl, { operation: 'instagram.media.create', kind: 'timeout-after-apply', holdMs: 1_000, times: 1 });
    const write = await quick.createMediaContainer(BAKERY_IG, pageToken, { kind: 'image', imageUrl: image() }).catch((caught: unknown) => caught);
    expect(write).toMatchObject({ timedOut: true, ambiguous: true, method: 'POST' });
    expect(await containers()).toHaveLength(1);
  });

  it('retries a timed-out GET when retries are allowed', async () => {
    const patient = clientFor(sandbox.baseUrl, { GRAPH_TIMEOUT_MS: '200', GRAPH_MAX_RETRIES: '2' });
    const fault = await addFault(sandbox.baseUrl, { operation: 'facebook.permissions', kind: 'latency', latencyMs: 1_000, times: 1 });
    expect((await patient.permissions(userToken)).granted).toContain('instagram_basic');
    expect(await faultHits(sandbox.baseUrl, fault.id)).toBe(1);
  });
});

describe('rate limits', () => {
  it("turns an Instagram account's spent budget into rate-limited with Meta's regain time, and stops the usage policy", async () => {
    await control(sandbox.baseUrl, 'PATCH', '/settings', { businessCallBudget: 3 });
    for (let call = 0; call < 3; call += 1) await graph.contentPublishingLimit(BAKERY_IG, pageToken);
    expect(graph.usage.advice(BAKERY_IG)).toMatchObject({ action: 'stop', percent: 100 });
    const error = await graph.contentPublishingLimit(BAKERY_IG, pageToken).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 80002 });
    const classification = classifyGraphError(error);
    expect(classification).toMatchObject({ class: 'rate-limited', action: 'wait-for-usage', retryable: true });
    // The budget window is 24 h; Meta's estimate is in minutes.
    expect(classification.retryAfterMs).toBeGreaterThan(60 * 60_000);
    expect((classification.retryAfterMs ?? 0) % 60_000).toBe(0);
  });

  it('slows down above the threshold before the app budget runs out, then reports code 4 as rate-limited', async () => {
    await control(sandbox.baseUrl, 'PATCH', '/settings', { appCallBudget: 10 });
    for (let call = 0; call < 9; call += 1) await graph.permissions(userToken);
    expect(graph.usage.latest().app?.callCount).toBe(90);
    expect(graph.usage.advice()).toMatchObject({ action: 'slow-down', percent: 90 });
    await graph.permissions(userToken);
    const error = await graph.permissions(userToken).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 4 });
    const classification = classifyGraphError(error);
    expect(classification.class).toBe('rate-limited');
    expect(classification.retryAfterMs).toBeGreaterThan(0);
  });
});
