import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ALICE, APP_ID, APP_SECRET, BAKERY_IG, BAKERY_PAGE, advance, call, control, expectMetaError, id, mintToken, useListeningSandbox } from './helpers.ts';

const sandbox = useListeningSandbox();
let token: string;

beforeEach(async () => {
  token = await mintToken(sandbox.app, { kind: 'facebook-user', subjectId: ALICE });
});

const jpg = () => `${sandbox.base}/_sandbox/media/sample.jpg`;

describe('errors and versions', () => {
  it("answers Meta's error body with HTTP 400, even for token errors", async () => {
    const answer = await call(sandbox.app, 'GET', '/v25.0/me', { access_token: 'EAAUnot-a-real-token' });
    expect(answer.status).toBe(400);
    expect(Object.keys(answer.body.error ?? {}).sort()).toEqual(['code', 'fbtrace_id', 'is_transient', 'message', 'type']);
    expect(answer.body.error).toMatchObject({ code: 190, type: 'OAuthException', is_transient: false });
    const subcoded = await call(sandbox.app, 'POST', `/v25.0/${BAKERY_IG}/media_publish`, { creation_id: '1', access_token: token });
    expect(Object.keys(subcoded.body.error ?? {}).sort()).toEqual(['code', 'error_subcode', 'error_user_title', 'fbtrace_id', 'is_transient', 'message', 'type']);
    expectMetaError(await call(sandbox.app, 'GET', '/v25.0/me'), 104);
  });

  it('serves v19.0-v26.0 and unversioned paths; refuses other versions and unknown paths', async () => {
    for (const prefix of ['', '/v19.0', '/v25.0', '/v26.0']) {
      expect((await call(sandbox.app, 'GET', `${prefix}/me`, { access_token: token })).status).toBe(200);
    }
    expectMetaError(await call(sandbox.app, 'GET', '/v18.0/me', { access_token: token }), 2635);
    expectMetaError(await call(sandbox.app, 'GET', '/v25.0/me/nothing-here', { access_token: token }), 2500);
  });

  it('accepts the token as an Authorization: Bearer header too', async () => {
    const response = await sandbox.app.inject({ url: '/v25.0/me', headers: { authorization: `Bearer ${token}` } });
    expect(response.json()).toMatchObject({ id: ALICE });
  });
});

describe('usage headers and rate limits', () => {
  it('reports X-App-Usage that rises with platform calls, then answers 4 past the app budget', async () => {
    await control(sandbox.app, 'PATCH', '/settings', { appCallBudget: 10, businessCallBudget: 1000 });
    const percents: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const answer = await call(sandbox.app, 'GET', '/v25.0/me', { access_token: token });
      expect(answer.status).toBe(200);
      percents.push((JSON.parse(String(answer.headers['x-app-usage'])) as { call_count: number }).call_count);
      expect(answer.headers['x-business-use-case-usage']).toBeUndefined();
    }
    expect(percents).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    const limited = await call(sandbox.app, 'GET', '/v25.0/me', { access_token: token });
    expect(expectMetaError(limited, 4).is_transient).toBe(true);
  });

  it("follows Meta's split: Instagram on BUC (80002), Pages with a Page token on BUC (80001), with a user token on platform limits (32)", async () => {
    await control(sandbox.app, 'PATCH', '/settings', { businessCallBudget: 4, usageHeadersFromPercent: 0 });
    const instagram = await call(sandbox.app, 'GET', `/v25.0/${BAKERY_IG}`, { fields: 'username', access_token: token });
    expect(instagram.headers['x-app-usage']).toBeUndefined();
    expect(JSON.parse(String(instagram.headers['x-business-use-case-usage']))).toEqual({
      [BAKERY_IG]: [{ type: 'instagram', call_count: 25, total_cputime: 12, total_time: 12, estimated_time_to_regain_access: 0 }],
    });
    const pageToken = await mintToken(sandbox.app, { kind: 'facebook-page', subjectId: ALICE, pageId: BAKERY_PAGE });
    const asPage = await call(sandbox.app, 'GET', `/v25.0/${BAKERY_PAGE}/feed`, { access_token: pageToken });
    expect(asPage.headers['x-app-usage']).toBeUndefined();
    expect(JSON.parse(String(asPage.headers['x-business-use-case-usage']))[BAKERY_PAGE]).toEqual([
      { type: 'pages', call_count: 25, total_cputime: 12, total_time: 12, estimated_time_to_regain_access: 0 },
    ]);
    const asUser = await call(sandbox.app, 'GET', `/v25.0/${BAKERY_PAGE}/feed`, { access_token: token });
    expect(asUser.headers['x-business-use-case-usage']).toBeUndefined();
    expect(JSON.parse(String(asUser.headers['x-app-usage']))).toMatchObject({ call_count: expect.any(Number) });
    // The Page's budget of 4 is spent (one Page-token call, three user-token calls).
    await call(sandbox.app, 'GET', `/v25.0/${BAKERY_PAGE}/feed`, { access_token: token });
    await call(sandbox.app, 'GET', `/v25.0/${BAKERY_PAGE}/feed`, { access_token: token });
    expectMetaError(await call(sandbox.app, 'GET', `/v25.0/${BAKERY_PAGE}/feed`, { access_token: pageToken }), 80001);
    expectMetaError(await call(sandbox.app, 'GET', `/v25.0/${BAKERY_PAGE}/feed`, { access_token: token }), 32);
  });

  it('leaves usage headers out until usage reaches the configured percent', async () => {
    await control(sandbox.app, 'PATCH', '/settings', { appCallBudget: 200, businessCallBudget: 100, usageHeadersFromPercent: 3 });
    const business: boolean[] = [];
    for (let i = 0; i < 3; i += 1) {
      const answer = await call(sandbox.app, 'GET', `/v25.0/${BAKERY_IG}`, { access_token: token });
      expect(answer.status).toBe(200);
      business.push(answer.headers['x-business-use-case-usage'] !== undefined);
    }
    expect(business).toEqual([false, false, true]);
    // The app counter also counted those three calls: 4/200 and 5/200 round to 2 %, 6/200 is 3 %.
    const platform: boolean[] = [];
    for (let i = 0; i < 3; i += 1) platform.push((await call(sandbox.app, 'GET', '/v25.0/me', { access_token: token })).headers['x-app-usage'] !== undefined);
    expect(platform).toEqual([false, false, true]);
  });

  it('answers 80002 past the Instagram account budget, with the time to regain access', async () => {
    await control(sandbox.app, 'PATCH', '/settings', { businessCallBudget: 3 });
    for (let i = 0; i < 3; i += 1) await call(sandbox.app, 'GET', `/${BAKERY_IG}`, { access_token: token });
    const limited = await call(sandbox.app, 'GET', `/${BAKERY_IG}`, { access_token: token });
    expectMetaError(limited, 80002);
    const buc = JSON.parse(String(limited.headers['x-business-use-case-usage'])) as Record<string, { call_count: number; estimated_time_to_regain_access: number }[]>;
    expect(buc[BAKERY_IG]?.[0]).toMatchObject({ call_count: 100 });
    expect(buc[BAKERY_IG]?.[0]?.estimated_time_to_regain_access).toBeGreaterThan(0);
  });
});

describe('fault injection and the clock', () => {
  it('injects a Meta error on one operation, a given number of times', async () => {
    await control(sandbox.app, 'POST', '/faults', { operation: 'instagram.media.create', kind: 'error', error: { code: 2, message: 'Service temporarily unavailable', isTransient: true }, times: 1 });
    const failed = await call(sandbox.app, 'POST', `/${BAKERY_IG}/media`, { image_url: jpg(), access_token: token });
    expect(failed.status).toBe(500);
    expect(expectMetaError(failed, 2).is_transient).toBe(true);
    expect((await call(sandbox.app, 'POST', `/${BAKERY_IG}/media`, { image_url: jpg(), access_token: token })).status).toBe(200);
    const listed = (await control(sandbox.app, 'GET', '/operations')).body.operations as unknown as string[];
    expect(listed).toEqual(expect.arrayContaining(['instagram.media.create', 'instagram.media-publish', 'instagram-container.get']));
  });

  it('adds latency to an operation', async () => {
    await control(sandbox.app, 'POST', '/faults', { operation: 'facebook-user.get', kind: 'latency', latencyMs: 150 });
    const started = Date.now();
    expect((await call(sandbox.app, 'GET', `/${ALICE}`, { access_token: token })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('applies media_publish and then drops the connection: the client sees a reset, the post exists exactly once', async () => {
    const containerId = id(await call(sandbox.app, 'POST', `/${BAKERY_IG}/media`, { image_url: jpg(), access_token: token }));
    await advance(sandbox.app, 5_000);
    await control(sandbox.app, 'POST', '/faults', { operation: 'instagram.media-publish', kind: 'drop-after-apply', times: 1 });
    const attempt = fetch(`${sandbox.base}/v25.0/${BAKERY_IG}/media_publish?creation_id=${containerId}&access_token=${token}`, { method: 'POST' });
    await expect(attempt).rejects.toThrow();
    const status = await call(sandbox.app, 'GET', `/${containerId}`, { fields: 'status_code', access_token: token });
    expect(status.body.status_code).toBe('PUBLISHED');
    const retry = await call(sandbox.app, 'POST', `/${BAKERY_IG}/media_publish`, { creation_id: containerId, access_token: token });
    expectMetaError(retry, 100);
    const media = (await control(sandbox.app, 'GET', `/instagram/${BAKERY_IG}/media`)).body.media as unknown as { containerId: string }[];
    expect(media.filter((item) => item.containerId === containerId)).toHaveLength(1);
  });

  it('drops before applying, or hangs like a timeout, without any effect', async () => {
    await control(sandbox.app, 'POST', '/faults', { operation: 'pages.feed.create', kind: 'drop', times: 1 });
    const pageToken = await mintToken(sandbox.app, { kind: 'facebook-page', subjectId: ALICE, pageId: BAKERY_PAGE });
    await expect(fetch(`${sandbox.base}/${BAKERY_PAGE}/feed?message=x&access_token=${pageToken}`, { method: 'POST' })).rejects.toThrow();
    await control(sandbox.app, 'POST', '/faults', { operation: 'pages.feed.create', kind: 'timeout', holdMs: 5_000, times: 1 });
    await expect(fetch(`${sandbox.base}/${BAKERY_PAGE}/feed?message=x&access_token=${pageToken}`, { method: 'POST', signal: AbortSignal.timeout(300) })).rejects.toThrow();
    expect(((await control(sandbox.app, 'GET', `/pages/${BAKERY_PAGE}/posts`)).body.posts as unknown[]).length).toBe(0);
    await control(sandbox.app, 'DELETE', '/faults');
  });

  it('moves the sandbox clock forward only', async () => {
    const before = (await control(sandbox.app, 'GET', '/clock')).body.epochMs as unknown as number;
    const after = await control(sandbox.app, 'POST', '/clock', { advanceHours: 2 });
    expect((after.body.epochMs as unknown as number) - before).toBeGreaterThanOrEqual(2 * 3_600_000);
    const back = await control(sandbox.app, 'POST', '/clock', { to: '2000-01-01T00:00:00Z' });
    expect(back.status).toBe(409);
    expect(back.body.type).toBe('about:blank');
  });

  it('seeds extra accounts and resets to the dev seed', async () => {
    const seeded = await control(sandbox.app, 'POST', '/seed', {
      users: [{ name: 'Carol Sandbox', pages: [{ name: 'Carol Cafe', instagram: { username: 'carol.cafe', accountType: 'MEDIA_CREATOR' } }] }],
    });
    expect(seeded.status).toBe(201);
    const carol = (seeded.body.users as unknown as { id: string; pages: { instagramAccountId: string }[] }[])[0];
    const carolToken = await mintToken(sandbox.app, { kind: 'facebook-user', subjectId: carol?.id ?? '' });
    const account = await call(sandbox.app, 'GET', `/${carol?.pages[0]?.instagramAccountId ?? ''}`, { fields: 'username,account_type', access_token: carolToken });
    expect(account.body).toMatchObject({ username: 'carol.cafe', account_type: 'MEDIA_CREATOR' });
    await control(sandbox.app, 'POST', '/reset', {});
    const state = (await control(sandbox.app, 'GET', '/state')).body;
    expect((state.users as unknown as unknown[]).length).toBe(2);
    expect((await control(sandbox.app, 'POST', '/seed', { users: [{ pages: [] }] })).status).toBe(400);
  });
});

describe('webhooks', () => {
  type Received = { headers: IncomingMessage['headers']; body: string };
  let receiver: Server;
  let receiverUrl: string;
  let received: Received[];
  let verifyAnswer: (challenge: string) => string;

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://x');
      if (request.method === 'GET') {
        const ok = url.searchParams.get('hub.mode') === 'subscribe' && url.searchParams.get('hub.verify_token') === 'let-me-in';
        response.writeHead(ok ? 200 : 403).end(ok ? verifyAnswer(url.searchParams.get('hub.challenge') ?? '') : 'no');
        return;
      }
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ headers: request.headers, body });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const address = receiver.address();
    receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
  });
  beforeEach(() => {
    received = [];
    verifyAnswer = (challenge) => challenge;
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

  const subscribe = (object: string, fields: string, verifyToken = 'let-me-in') =>
    call(sandbox.app, 'POST', `/v25.0/${APP_ID}/subscriptions`, { object, callback_url: receiverUrl, fields, verify_token: verifyToken, access_token: `${APP_ID}|${APP_SECRET}` });

  it('subscribes only after the verification handshake echoes the challenge (else 2200)', async () => {
    expectMetaError(await subscribe('instagram', 'comments', 'wrong-token'), 2200);
    verifyAnswer = () => 'not the challenge';
    expectMetaError(await subscribe('instagram', 'comments'), 2200);
    verifyAnswer = (challenge) => challenge;
    expect((await subscribe('instagram', 'comments')).body).toEqual({ success: true });
    const listed = await call(sandbox.app, 'GET', `/${APP_ID}/subscriptions`, { access_token: `${APP_ID}|${APP_SECRET}` });
    expect(listed.body.data).toEqual([expect.objectContaining({ object: 'instagram', callback_url: receiverUrl, fields: [{ name: 'comments', version: 'v25.0' }] })]);
  });

  it('delivers a signed comments change when a comment is created through the API', async () => {
    await subscribe('instagram', 'comments');
    const containerId = id(await call(sandbox.app, 'POST', `/${BAKERY_IG}/media`, { image_url: jpg(), access_token: token }));
    await advance(sandbox.app, 5_000);
    const mediaId = id(await call(sandbox.app, 'POST', `/${BAKERY_IG}/media_publish`, { creation_id: containerId, access_token: token }));
    const commentId = id(await call(sandbox.app, 'POST', `/${mediaId}/comments`, { message: 'Looks tasty', access_token: token }));
    await sandbox.app.sandbox.webhooks.settled();
    expect(received).toHaveLength(1);
    const [delivery] = received;
    const expected = 'sha256=' + createHmac('sha256', APP_SECRET).update(delivery?.body ?? '').digest('hex');
    expect(delivery?.headers['x-hub-signature-256']).toBe(expected);
    expect(JSON.parse(delivery?.body ?? '{}')).toMatchObject({
      object: 'instagram',
      entry: [{ id: BAKERY_IG, time: expect.any(Number), changes: [{ field: 'comments', value: { id: commentId, text: 'Looks tasty', media: { id: mediaId } } }] }],
    });
  });

  it('delivers Page feed changes on publish once the Page subscribed the app', async () => {
    await subscribe('page', 'feed');
    const pageToken = await mintToken(sandbox.app, { kind: 'facebook-page', subjectId: ALICE, pageId: BAKERY_PAGE });
    await call(sandbox.app, 'POST', `/${BAKERY_PAGE}/feed`, { message: 'not yet subscribed', access_token: pageToken });
    expect((await call(sandbox.app, 'POST', `/${BAKERY_PAGE}/subscribed_apps`, { subscribed_fields: 'feed', access_token: pageToken })).body).toEqual({ success: true });
    const postId = id(await call(sandbox.app, 'POST', `/${BAKERY_PAGE}/feed`, { message: 'hello subscribers', access_token: pageToken }));
    await sandbox.app.sandbox.webhooks.settled();
    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0]?.body ?? '{}')).toMatchObject({
      object: 'page',
      entry: [{ id: BAKERY_PAGE, changes: [{ field: 'feed', value: { item: 'status', verb: 'add', post_id: postId, message: 'hello subscribers' } }] }],
    });
    const deliveries = (await control(sandbox.app, 'GET', '/webhooks/deliveries')).body.deliveries as unknown as { status: string }[];
    expect(deliveries.map((delivery) => delivery.status)).toEqual(['delivered']);
  });
});
