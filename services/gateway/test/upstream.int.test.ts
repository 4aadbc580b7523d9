import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, createServer } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Member, buildGateway, createMembers, freePort, testEnvironment } from './helpers.ts';

type Recorded = { readonly method: string; readonly url: string; readonly authorization: string | undefined };

/** A local HTTP server that records every request and answers with what the test sets. */
async function recordingServer() {
  const requests: Recorded[] = [];
  let answer: (request: IncomingMessage) => { status: number; headers: Record<string, string>; body: string } = () => ({
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ data: [] }),
  });
  const server: Server = createServer((request, response) => {
    requests.push({ method: request.method ?? '', url: request.url ?? '', authorization: request.headers.authorization });
    const { status, headers, body } = answer(request);
    response.writeHead(status, headers).end(body);
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

/** One raw HTTP/1.1 exchange: the request line exactly as written, as no HTTP client library would send it. */
async function rawRequest(port: number, requestLine: string, headers: Record<string, string>): Promise<{ status: number; head: string; body: string }> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const lines = [requestLine, ...Object.entries({ host: `127.0.0.1:${port}`, connection: 'close', ...headers }).map(([name, value]) => `${name}: ${value}`)];
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  await new Promise<void>((resolve, reject) => socket.on('end', resolve).on('error', reject));
  const text = Buffer.concat(chunks).toString();
  const [head = '', body = ''] = text.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), head, body };
}

describe('reads forwarded to an owning service that is down or silent', () => {
  let silent: Server;
  let down: FastifyInstance;
  let slow: FastifyInstance;
  let members: Awaited<ReturnType<typeof createMembers>>;
  let authorization: string;

  beforeAll(async () => {
    members = await createMembers();
    // A socket that accepts and never answers: the owner hangs.
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    ({ gateway: down } = await buildGateway(testEnvironment(members.url, { GATEWAY_ACCOUNTS_URL: `http://127.0.0.1:${await freePort()}` })));
    ({ gateway: slow } = await buildGateway(testEnvironment(members.url, { GATEWAY_ACCOUNTS_URL: silentUrl, GATEWAY_UPSTREAM_TIMEOUT_MS: '300' })));
    ({ authorization } = await members.member());
  });

  afterAll(async () => {
    await Promise.all([down.close(), slow.close()]);
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    await members.close();
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

describe('the gateway calls only its configured upstream, on paths it builds itself', () => {
  let owner: Awaited<ReturnType<typeof recordingServer>>;
  let elsewhere: Awaited<ReturnType<typeof recordingServer>>;
  let gateway: FastifyInstance;
  let gatewayPort: number;
  let members: Awaited<ReturnType<typeof createMembers>>;
  let caller: Member;

  beforeAll(async () => {
    members = await createMembers();
    owner = await recordingServer();
    elsewhere = await recordingServer();
    ({ gateway } = await buildGateway(testEnvironment(members.url, { GATEWAY_ACCOUNTS_URL: owner.url })));
    const address = await gateway.listen({ host: '127.0.0.1', port: 0 });
    gatewayPort = Number(new URL(address).port);
    caller = await members.member();
  });

  beforeEach(() => {
    owner.requests.splice(0);
    elsewhere.requests.splice(0);
    owner.answerWith(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: [] }) }));
  });

  afterAll(async () => {
    await gateway.close();
    await Promise.all([owner.close(), elsewhere.close()]);
    await members.close();
  });

  it('refuses an absolute-form request target and calls nobody with the caller\'s token', async () => {
    const response = await rawRequest(gatewayPort, `GET ${elsewhere.url}/v1/accounts HTTP/1.1`, { authorization: caller.authorization });
    expect(response.status).toBe(400);
    expect(response.head).toMatch(/content-type: application\/problem\+json/i);
    expect(JSON.parse(response.body)).toMatchObject({ type: 'https://postwire.dev/problems/absolute-form-target', status: 400 });
    expect(elsewhere.requests).toEqual([]);
    expect(owner.requests).toEqual([]);
  });

  it('builds the upstream path from the validated route parameters and query, not from the raw target', async () => {
    const id = randomUUID();
    owner.answerWith((request) => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request.url?.includes('capabilities') ? { accountId: id, canPostFeed: true, canPostStories: false, canPostReels: false, isActive: true } : { data: [] }),
    }));
    expect((await rawRequest(gatewayPort, `GET /v1/accounts/${id}/capabilities?extra=%2F%2Fevil HTTP/1.1`, { authorization: caller.authorization })).status).toBe(200);
    const list = await rawRequest(gatewayPort, 'GET /v1/accounts?status=active&status2=x&platform=instagram HTTP/1.1', { authorization: caller.authorization });
    expect(list.status).toBe(200);
    expect(owner.requests.map((request) => request.url)).toEqual([`/v1/accounts/${id}/capabilities`, '/v1/accounts?status=active&platform=instagram']);
    expect(owner.requests.every((request) => request.authorization === caller.authorization)).toBe(true);
  });

  it('hands an owner\'s JSON answer back byte for byte, not parsed and written again', async () => {
    const body = '{"data":[{"id":"2c6f0e4a-9b1d-4f3e-a7c5-6d8e9f0a1b2c", "platform":"instagram"}]}';
    owner.answerWith(() => ({ status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body }));
    const response = await gateway.inject({ url: '/v1/accounts', headers: { authorization: caller.authorization } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.body).toBe(body);
  });

  it('never follows an upstream redirect: the caller gets a 502 and the redirect target is never called', async () => {
    owner.answerWith(() => ({ status: 302, headers: { location: `${elsewhere.url}/metrics` }, body: '' }));
    const response = await gateway.inject({ url: '/v1/accounts', headers: { authorization: caller.authorization } });
    expect(response.statusCode).toBe(502);
    expect(response.json()).toMatchObject({ type: 'https://postwire.dev/problems/upstream-failed' });
    expect(owner.requests).toHaveLength(1);
    expect(elsewhere.requests).toEqual([]);
  });

  it('never hands back an upstream\'s non-JSON body or error body verbatim', async () => {
    const secret = '# HELP internal_metric something only the cluster may see';
    owner.answerWith(() => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: secret }));
    const plain = await gateway.inject({ url: '/v1/accounts', headers: { authorization: caller.authorization } });
    expect(plain.statusCode).toBe(502);
    expect(plain.body).not.toContain('internal_metric');

    owner.answerWith(() => ({ status: 404, headers: { 'content-type': 'text/html' }, body: `<pre>${secret}</pre>` }));
    const html = await gateway.inject({ url: `/v1/accounts/${randomUUID()}`, headers: { authorization: caller.authorization } });
    expect(html.statusCode).toBe(502);
    expect(html.body).not.toContain('internal_metric');

    owner.answerWith(() => ({ status: 500, headers: { 'content-type': 'application/problem+json' }, body: JSON.stringify({ title: 'boom', detail: secret }) }));
    const failed = await gateway.inject({ url: '/v1/accounts', headers: { authorization: caller.authorization } });
    expect(failed.statusCode).toBe(502);
    expect(failed.body).not.toContain('internal_metric');
  });

  it('re-issues an owner\'s problem as its own, keeping only its status, type, title and detail', async () => {
    const id = randomUUID();
    owner.answerWith(() => ({
      status: 404,
      headers: { 'content-type': 'application/problem+json' },
      body: JSON.stringify({ type: 'https://postwire.dev/problems/account-not-found', title: 'Account not found', status: 404, detail: `No account ${id} in your organisation.`, stack: 'at secret.ts:1' }),
    }));
    const response = await gateway.inject({ url: `/v1/accounts/${id}`, headers: { authorization: caller.authorization } });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/problem\+json/);
    const body = response.json();
    expect(body).toMatchObject({ type: 'https://postwire.dev/problems/account-not-found', title: 'Account not found', detail: `No account ${id} in your organisation.` });
    expect(body).not.toHaveProperty('stack');
  });
});
