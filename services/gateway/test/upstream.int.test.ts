import { randomUUID } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevelopmentToken } from '@postwire/auth';
import { TEST_JWT_SECRET, buildGateway, testEnvironment } from './helpers.ts';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('reads forwarded to an owning service that is down or silent', () => {
  let silent: Server;
  let down: FastifyInstance;
  let slow: FastifyInstance;
  let authorization: string;

  beforeAll(async () => {
    // A socket that accepts and never answers: the owner hangs.
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    ({ gateway: down } = await buildGateway(testEnvironment({ GATEWAY_ACCOUNTS_URL: `http://127.0.0.1:${await closedPort()}` })));
    ({ gateway: slow } = await buildGateway(testEnvironment({ GATEWAY_ACCOUNTS_URL: silentUrl, GATEWAY_UPSTREAM_TIMEOUT_MS: '300' })));
    authorization = `Bearer ${await signDevelopmentToken({ secret: TEST_JWT_SECRET, userId: randomUUID(), organisationId: randomUUID() })}`;
  });

  afterAll(async () => {
    await Promise.all([down.close(), slow.close()]);
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('answers 503 problem+json when the owner is not reachable', async () => {
    const response = await down.inject({ url: '/v1/accounts', headers: { authorization } });
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toMatch(/problem\+json/);
    expect(response.json()).toMatchObject({ type: 'https://postwire.dev/problems/upstream-unavailable' });
  });

  it('answers 504 when the owner does not answer in time', async () => {
    const started = Date.now();
    const response = await slow.inject({ url: '/v1/accounts', headers: { authorization } });
    expect(response.statusCode).toBe(504);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('a disconnect, which first asks the owner whether the account is visible, answers the same way', async () => {
    const url = `/v1/accounts/${randomUUID()}`;
    expect((await down.inject({ method: 'DELETE', url, headers: { authorization } })).statusCode).toBe(503);
    const started = Date.now();
    expect((await slow.inject({ method: 'DELETE', url, headers: { authorization } })).statusCode).toBe(504);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('verifies the caller before forwarding anything', async () => {
    expect((await down.inject('/v1/accounts')).statusCode).toBe(401);
  });
});
