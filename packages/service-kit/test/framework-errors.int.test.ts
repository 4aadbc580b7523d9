import { connect } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemServerOptions, serviceKit } from '../src/index.ts';

/** Writes `request` to the server exactly as given (no client library would send these) and reads the answer. */
async function raw(port: number, request: string): Promise<{ status: number; contentType: string | undefined; body: unknown }> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(request);
  await new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const [head = '', body = ''] = Buffer.concat(chunks).toString().split('\r\n\r\n');
  return {
    status: Number(head.split(' ')[1]),
    contentType: /^content-type:\s*(.+)$/im.exec(head)?.[1]?.trim(),
    body: body ? (JSON.parse(body) as unknown) : undefined,
  };
}

const get = (target: string, extra = '') => `GET ${target} HTTP/1.1\r\nHost: localhost\r\n${extra}Connection: close\r\n\r\n`;

describe('errors raised before a request reaches a route are problems too', () => {
  let app: FastifyInstance;
  let port: number;

  beforeAll(async () => {
    app = Fastify({ ...problemServerOptions });
    await app.register(serviceKit, { service: 'kit-test' });
    app.get('/v1/items/:id', async (request) => ({ id: (request.params as { id: string }).id }));
    app.post('/v1/items', async () => ({ ok: true }));
    port = Number(new URL(await app.listen({ host: '127.0.0.1', port: 0 })).port);
  });

  afterAll(() => app.close());

  it.each([
    ['bad percent-encoding', get('/v1/items/%zz'), 400, 'bad-url'],
    ['a 10,000-character id', get(`/v1/items/${'a'.repeat(10_000)}`), 414, 'uri-too-long'],
    ['headers over the limit', get('/v1/items/1', `X-Padding: ${'p'.repeat(20_000)}\r\n`), 431, 'request-header-fields-too-large'],
    ['Content-Length with chunked encoding', 'POST /v1/items HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n', 400, 'bad-request'],
    ['an unknown method', 'BREW /v1/items/1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', 400, 'bad-request'],
    ['an absolute-form target', get('http://127.0.0.1:9/v1/items/1'), 400, 'absolute-form-target'],
  ])('%s: answered as application/problem+json', async (_case, request, status, type) => {
    const answer = await raw(port, request);
    expect(answer).toMatchObject({ status, contentType: expect.stringMatching(/^application\/problem\+json/) });
    expect(answer.body).toMatchObject({ type: `https://postwire.dev/problems/${type}`, status, title: expect.any(String) });
  });

  it('a well-formed request still reaches its route', async () => {
    expect(await raw(port, get('/v1/items/42'))).toMatchObject({ status: 200, body: { id: '42' } });
  });
});
