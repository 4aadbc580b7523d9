import { createServer, type Server, type Socket, connect } from 'node:net';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, openStream, uniqueName } from '@postwire/testing';
import { buildGateway, createMembers, freePort, testEnvironment } from './helpers.ts';

/** The Redis the tests share budgets through: REDIS_URL's, else the local server `./postwire test` starts. */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const WEB_APP = 'https://app.example.com';

/** Small budgets, so a test spends one in a few requests; a minute's window, so none refills mid-test. */
const SMALL_LIMITS = {
  GATEWAY_RATE_LIMIT_WINDOW_MS: '60000',
  GATEWAY_RATE_LIMIT_READS: '3',
  GATEWAY_RATE_LIMIT_WRITES: '2',
  GATEWAY_RATE_LIMIT_DOCS: '2',
  GATEWAY_RATE_LIMIT_CONNECT: '2',
};

async function requireRedis(): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2_000, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`These tests need Redis at ${REDIS_URL} (set REDIS_URL to use another; ./postwire test starts the local one): ${String(error)}`);
  } finally {
    redis.disconnect();
  }
}

type Limits = { policy: string | undefined; remaining: number; reset: number };

function limitsOf(response: LightMyRequestResponse): Limits {
  const field = String(response.headers.ratelimit ?? '');
  const match = /^"([a-z]+)";r=(\d+);t=(\d+)$/.exec(field);
  expect(match, `RateLimit: ${field}`).not.toBeNull();
  return { policy: match?.[1], remaining: Number(match?.[2]), reset: Number(match?.[3]) };
}

/** A counter as the instance's internal /metrics address tells it (0 before its first count). */
async function counterValue(metricsPort: number, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{`) && candidate.includes(labels));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('rate limits per organisation and route class (one instance, counted in memory)', () => {
  let gateway: FastifyInstance;
  let metricsPort: number;
  let members: Awaited<ReturnType<typeof createMembers>>;

  beforeAll(async () => {
    members = await createMembers();
    metricsPort = await freePort();
    ({ gateway } = await buildGateway(testEnvironment(members.url, { ...SMALL_LIMITS, GATEWAY_WEB_ORIGINS: WEB_APP, GATEWAY_METRICS_PORT: String(metricsPort) })));
  });

  afterAll(async () => {
    await gateway?.close();
    await members?.close();
  });

  it('tells the budget on every answer, counts it down, then refuses with a 429 problem and Retry-After', async () => {
    const { authorization } = await members.member();
    const seen: Limits[] = [];
    for (let index = 0; index < 3; index += 1) {
      const response = await gateway.inject({ url: '/v1/me', headers: { authorization } });
      expect(response.statusCode).toBe(200);
      expect(response.headers['ratelimit-policy']).toBe('"reads";q=3;w=60');
      seen.push(limitsOf(response));
    }
    expect(seen.map((limits) => limits.remaining)).toEqual([2, 1, 0]);
    for (const limits of seen) expect(limits.reset).toBeGreaterThan(0);
    for (const limits of seen) expect(limits.reset).toBeLessThanOrEqual(60);

    const before = await counterValue(metricsPort, 'postwire_gateway_rate_limited_requests_total', 'class="reads"');
    const refused = await gateway.inject({ url: '/v1/me?page=2', headers: { authorization } });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({
      type: 'https://postwire.dev/problems/rate-limited',
      code: 'rate-limited',
      status: 429,
      instance: '/v1/me',
      retryAfter: Number(refused.headers['retry-after']),
      detail: expect.stringContaining('reads budget (3 requests per 60 s)'),
    });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limitsOf(refused)).toMatchObject({ policy: 'reads', remaining: 0 });
    expect(refused.headers['ratelimit-policy']).toBe('"reads";q=3;w=60');
    expect(await counterValue(metricsPort, 'postwire_gateway_rate_limited_requests_total', 'class="reads"')).toBe(before + 1);
  });

  it("an organisation that spent its budget does not limit another's", async () => {
    const spender = await members.member();
    const other = await members.member();
    for (let index = 0; index < 4; index += 1) await gateway.inject({ url: '/v1/me', headers: { authorization: spender.authorization } });
    expect((await gateway.inject({ url: '/v1/me', headers: { authorization: spender.authorization } })).statusCode).toBe(429);
    const response = await gateway.inject({ url: '/v1/me', headers: { authorization: other.authorization } });
    expect(response.statusCode).toBe(200);
    expect(limitsOf(response)).toMatchObject({ policy: 'reads', remaining: 2 });
  });

  it('reads and writes are separate budgets; a refused write body still spends the writes budget', async () => {
    const { authorization } = await members.member();
    for (let index = 0; index < 3; index += 1) await gateway.inject({ url: '/v1/posts', headers: { authorization } });
    expect((await gateway.inject({ url: '/v1/posts', headers: { authorization } })).statusCode).toBe(429);

    const write = () => gateway.inject({ method: 'POST', url: '/v1/posts', headers: { authorization }, payload: { nonsense: true } });
    const first = await write();
    expect(first.statusCode).toBe(400);
    expect(first.headers['ratelimit-policy']).toBe('"writes";q=2;w=60');
    expect(limitsOf(first)).toMatchObject({ policy: 'writes', remaining: 1 });
    expect((await write()).statusCode).toBe(400);
    expect((await write()).statusCode).toBe(429);

    // A body that is never read (of a type the API does not take, or not JSON at all) spends it too.
    const other = await members.member();
    const unreadable = (payload: string, contentType: string) =>
      gateway.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: other.authorization, 'content-type': contentType }, payload });
    const wrongType = await unreadable('caption=hi', 'application/x-www-form-urlencoded');
    expect(wrongType.statusCode).toBe(415);
    expect(limitsOf(wrongType)).toMatchObject({ policy: 'writes', remaining: 1 });
    expect((await unreadable('{not json', 'application/json')).statusCode).toBe(400);
    expect((await unreadable('{not json', 'application/json')).statusCode).toBe(429);
  });

  it('a HEAD spends the reads budget once', async () => {
    const { authorization } = await members.member();
    const head = await gateway.inject({ method: 'HEAD', url: '/v1/me', headers: { authorization } });
    expect(head.statusCode).toBe(200);
    expect(limitsOf(head)).toMatchObject({ policy: 'reads', remaining: 2 });
  });

  it('routes without a bearer token spend a budget of the client address, per class', async () => {
    const docs = async () => gateway.inject({ url: '/openapi.json', remoteAddress: '198.51.100.7' });
    const first = await docs();
    expect(first.statusCode).toBe(200);
    expect(first.headers['ratelimit-policy']).toBe('"docs";q=2;w=60');
    expect(limitsOf(first).remaining).toBe(1);
    await docs();
    expect((await docs()).statusCode).toBe(429);
    // Another address, and another class for the same address, are untouched.
    expect(limitsOf(await gateway.inject({ url: '/openapi.json', remoteAddress: '198.51.100.8' })).remaining).toBe(1);
    const callback = await gateway.inject({ url: '/v1/connect/instagram/callback?error=access_denied&state=x', remoteAddress: '198.51.100.7', headers: { accept: 'application/json' } });
    expect(callback.headers['ratelimit-policy']).toBe('"connect";q=2;w=60');
    expect(limitsOf(callback).remaining).toBe(1);
  });

  it('counts the client named by X-Forwarded-For only when the request comes from a trusted proxy', async () => {
    const { gateway: behindProxy } = await buildGateway(testEnvironment(members.url, { ...SMALL_LIMITS, GATEWAY_TRUST_PROXY: '192.0.2.0/24', GATEWAY_METRICS_PORT: String(await freePort()) }));
    try {
      const docs = (remoteAddress: string, client: string) => behindProxy.inject({ url: '/openapi.json', remoteAddress, headers: { 'x-forwarded-for': client } });
      // Through the proxy: each client has a budget of its own.
      expect(limitsOf(await docs('192.0.2.10', '203.0.113.1')).remaining).toBe(1);
      expect(limitsOf(await docs('192.0.2.10', '203.0.113.1')).remaining).toBe(0);
      expect(limitsOf(await docs('192.0.2.10', '203.0.113.2')).remaining).toBe(1);
      // Not from a trusted proxy: the header is the caller's word and is ignored; the socket's address counts.
      expect(limitsOf(await docs('198.51.100.40', '203.0.113.3')).remaining).toBe(1);
      expect(limitsOf(await docs('198.51.100.40', '203.0.113.4')).remaining).toBe(0);
    } finally {
      await behindProxy.close();
    }
  });

  it('documents the 429 and the budget fields on every operation', async () => {
    const document = (await gateway.inject({ url: '/openapi.json', remoteAddress: '203.0.113.9' })).json() as {
      paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>>;
    };
    const operations = Object.values(document.paths).flatMap((path) => Object.values(path));
    expect(operations.length).toBeGreaterThan(20);
    for (const operation of operations) {
      expect(Object.keys(operation.responses[429]?.headers ?? {}).sort()).toEqual(['RateLimit', 'RateLimit-Policy', 'Retry-After']);
      const success = Object.entries(operation.responses).find(([status]) => status.startsWith('2'))?.[1];
      expect(Object.keys(success?.headers ?? {})).toEqual(expect.arrayContaining(['RateLimit', 'RateLimit-Policy']));
      expect(operation.responses[401]?.headers?.RateLimit).toBeUndefined();
    }
  });

  it('health probes are never limited', async () => {
    for (let index = 0; index < 5; index += 1) {
      const response = await gateway.inject({ url: '/healthz', remoteAddress: '198.51.100.9' });
      expect(response.statusCode).toBe(200);
      expect(response.headers.ratelimit).toBeUndefined();
    }
  });

  it('refuses a body over the limit with a 413 problem, and a body it cannot read with a 415 problem', async () => {
    const { authorization } = await members.member();
    const huge = JSON.stringify({ caption: 'x'.repeat(300 * 1024) });
    const tooLarge = await gateway.inject({ method: 'POST', url: '/v1/posts', headers: { authorization, 'content-type': 'application/json' }, payload: huge });
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(tooLarge.json()).toMatchObject({ code: 'payload-too-large', status: 413, instance: '/v1/posts', maxBytes: 256 * 1024 });

    const other = await members.member();
    const wrongType = await gateway.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: other.authorization, 'content-type': 'text/csv' }, payload: 'a,b' });
    expect(wrongType.statusCode).toBe(415);
    expect(wrongType.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(wrongType.json()).toMatchObject({ code: 'unsupported-media-type', status: 415, instance: '/v1/posts' });
  });

  it('answers CORS preflights and requests of the configured web origins only', async () => {
    const { authorization } = await members.member();
    const preflight = (origin: string) =>
      gateway.inject({
        method: 'OPTIONS',
        url: '/v1/posts',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,idempotency-key' },
      });
    const allowed = await preflight(WEB_APP);
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe(WEB_APP);
    expect(String(allowed.headers['access-control-allow-headers'])).toMatch(/Authorization.*Idempotency-Key.*If-Match.*If-None-Match.*Prefer.*Last-Event-ID/);
    expect(String(allowed.headers['access-control-allow-methods'])).toContain('PATCH');
    expect(allowed.headers['access-control-max-age']).toBe('7200');
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    expect(allowed.headers.vary).toMatch(/Origin/);

    const refused = await preflight('https://evil.example.net');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    expect(refused.headers['access-control-allow-methods']).toBeUndefined();
    expect(refused.headers['access-control-allow-credentials']).toBeUndefined();
    expect(refused.statusCode).toBe(405);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);

    const simple = await gateway.inject({ url: '/v1/me', headers: { authorization, origin: WEB_APP } });
    expect(simple.headers['access-control-allow-origin']).toBe(WEB_APP);
    expect(String(simple.headers['access-control-expose-headers'])).toMatch(/Location.*ETag.*RateLimit.*RateLimit-Policy.*Retry-After/);
    const foreign = await gateway.inject({ url: '/v1/me', headers: { authorization, origin: 'https://evil.example.net' } });
    expect(foreign.statusCode).toBe(200);
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    expect(foreign.headers['access-control-expose-headers']).toBeUndefined();
  });

  it("opens a live-events stream with its budget's fields and, for a web app, its CORS headers", async () => {
    const { authorization } = await members.member();
    const url = await gateway.listen({ host: '127.0.0.1', port: 0 });
    const stream = await openStream(`${url}/v1/events`, { authorization, origin: WEB_APP });
    try {
      expect(stream.status()).toBe(200);
      expect(stream.headers()['content-type']).toMatch(/^text\/event-stream/);
      expect(stream.headers()['access-control-allow-origin']).toBe(WEB_APP);
      expect(stream.headers()['ratelimit-policy']).toBe('"events";q=1000000;w=60');
      expect(stream.headers().ratelimit).toMatch(/^"events";r=999999;t=\d+$/);
      expect(stream.headers()['x-content-type-options']).toBe('nosniff');
    } finally {
      stream.close();
    }
  });

  it('sends security headers on API answers, problems and the reference pages', async () => {
    const { authorization } = await members.member();
    for (const response of [
      await gateway.inject({ url: '/v1/me', headers: { authorization } }),
      await gateway.inject({ url: '/v1/me' }),
      await gateway.inject({ url: '/docs/', remoteAddress: '203.0.113.5' }),
    ]) {
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      const policy = String(response.headers['content-security-policy']);
      expect(policy).toContain("frame-ancestors 'none'");
      expect(policy).toContain("script-src 'self'");
      expect(policy).not.toContain('upgrade-insecure-requests');
    }
  });
});

/** A TCP link to Redis that a test can cut and restore: Redis itself going away, as seen from a gateway. */
async function redisLink(port: number): Promise<{ up(): Promise<void>; down(): Promise<void> }> {
  const target = new URL(REDIS_URL);
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  return {
    async up() {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 6379), target.hostname);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => socket.destroy());
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
    },
    async down() {
      const closed = new Promise<void>((resolve) => server?.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

describe('rate limits shared through Redis', () => {
  const prefix = `${uniqueName('gateway-rate-limit-test')}:`;
  let first: FastifyInstance;
  let second: FastifyInstance;
  let secondLog: string[];
  let secondMetricsPort: number;
  let link: Awaited<ReturnType<typeof redisLink>>;
  let members: Awaited<ReturnType<typeof createMembers>>;

  beforeAll(async () => {
    await requireRedis();
    members = await createMembers();
    const linkPort = await freePort();
    link = await redisLink(linkPort);
    await link.up();
    // A loaded machine can take longer than production's 1 s over a command Redis did run: the counts must not drift.
    const shared = { ...SMALL_LIMITS, GATEWAY_RATE_LIMIT_REDIS_PREFIX: prefix, GATEWAY_RATE_LIMIT_REDIS_TIMEOUT_MS: '3000' };
    ({ gateway: first } = await buildGateway(testEnvironment(members.url, { ...shared, REDIS_URL })));
    // The second instance reaches the same Redis through a link the tests can cut.
    secondMetricsPort = await freePort();
    ({ gateway: second, logLines: secondLog } = await buildGateway(
      testEnvironment(members.url, { ...shared, REDIS_URL: `redis://127.0.0.1:${linkPort}`, GATEWAY_METRICS_PORT: String(secondMetricsPort) }),
    ));
  });

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await link?.down().catch(() => {});
    await members?.close();
  });

  it('two instances spend one budget', async () => {
    const { authorization } = await members.member();
    const remaining: number[] = [];
    for (const gateway of [first, second, first]) {
      const response = await gateway.inject({ url: '/v1/me', headers: { authorization } });
      expect(response.statusCode).toBe(200);
      remaining.push(limitsOf(response).remaining);
    }
    expect(remaining).toEqual([2, 1, 0]);
    const refused = await second.inject({ url: '/v1/me', headers: { authorization } });
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('lets requests through uncounted while Redis is out of reach, says so, and counts again once it is back', async () => {
    const { authorization } = await members.member();
    expect(limitsOf(await second.inject({ url: '/v1/me', headers: { authorization } })).remaining).toBe(2);
    const errorsBefore = await counterValue(secondMetricsPort, 'postwire_gateway_rate_limit_store_errors_total');

    await link.down();
    for (let index = 0; index < 5; index += 1) {
      const response = await second.inject({ url: '/v1/me', headers: { authorization } });
      expect(response.statusCode).toBe(200);
      expect(response.headers.ratelimit).toBeUndefined();
    }
    expect(await counterValue(secondMetricsPort, 'postwire_gateway_rate_limit_store_errors_total')).toBeGreaterThanOrEqual(errorsBefore + 5);
    expect(secondLog.filter((line) => line.includes('requests are let through uncounted')).length).toBe(1);

    await link.up();
    // The uncounted requests spent nothing: the budget goes on where it was.
    const counted = await eventually(async () => {
      const response = await second.inject({ url: '/v1/me', headers: { authorization } });
      return response.headers.ratelimit === undefined ? undefined : response;
    }, 'the second instance to count again', { timeoutMs: 15_000, intervalMs: 200 });
    expect(limitsOf(counted).remaining).toBe(1);
    expect(secondLog.some((line) => line.includes('counting resumed'))).toBe(true);
    expect(limitsOf(await first.inject({ url: '/v1/me', headers: { authorization } })).remaining).toBe(0);
  });
});
