import { connect } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProblemError, problemServerOptions, serviceKit } from '../src/index.ts';

/** A request line Node's parser refuses never becomes a request: its answer is written to the socket. */
async function raw(port: number, request: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(request);
  await new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const [head = '', body = '{}'] = Buffer.concat(chunks).toString().split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), body: JSON.parse(body) as Record<string, unknown> };
}

describe('the protocol refusals are problems: 404, 405 with Allow, 406, each with its instance', () => {
  let app: FastifyInstance;
  let port: number;

  beforeAll(async () => {
    app = Fastify({ ...problemServerOptions });
    await app.register(serviceKit, { service: 'kit-test' });
    const itemSchema = { response: { 200: { type: 'object', properties: { id: { type: 'string' } } } } };
    app.get('/v1/items/:id', { schema: itemSchema }, async (request) => ({ id: (request.params as { id: string }).id }));
    app.delete('/v1/items/:id', { schema: itemSchema }, async (request) => ({ id: (request.params as { id: string }).id }));
    app.post('/v1/items', { schema: itemSchema }, async () => ({ id: 'new' }));
    app.post('/v1/small', { bodyLimit: 64 }, async () => ({ id: 'small' }));
    await app.register(
      async (child) => {
        child.get('/page', { config: { produces: ['text/html', 'application/json'] } }, async (_request, reply) => reply.type('text/html').send('<p>hi</p>'));
        child.get('/refuse', async () => {
          throw new ProblemError(409, 'already-there', 'Conflict', 'It is there already.');
        });
      },
      { prefix: '/v1/nested' },
    );
    port = Number(new URL(await app.listen({ host: '127.0.0.1', port: 0 })).port);
  });

  afterAll(() => app.close());

  it('a body over the limit is a 413 payload-too-large problem naming the limit', async () => {
    const response = await app.inject({ method: 'POST', url: '/v1/small?x=1', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ text: 'x'.repeat(100) }) });
    expect(response.statusCode).toBe(413);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ type: 'https://postwire.dev/problems/payload-too-large', code: 'payload-too-large', status: 413, instance: '/v1/small', maxBytes: 64 });
  });

  it('a wrong method on a known path is 405 with Allow naming the methods it takes', async () => {
    const response = await app.inject({ method: 'PUT', url: '/v1/items/42?x=1' });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('DELETE, GET, HEAD');
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({
      type: 'https://postwire.dev/problems/method-not-allowed',
      code: 'method-not-allowed',
      status: 405,
      instance: '/v1/items/42',
      requestId: expect.any(String),
    });
    const post = await app.inject({ method: 'GET', url: '/v1/items' });
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('POST');
    // Routes of a prefixed child context are known too.
    expect((await app.inject({ method: 'POST', url: '/v1/nested/page' })).headers.allow).toBe('GET, HEAD');
  });

  it('an unknown path is 404, a path one segment off included', async () => {
    for (const url of ['/v1/nothing', '/v1/items/42/more', '/v1/items/']) {
      const response = await app.inject({ method: 'PUT', url });
      expect(response.statusCode, url).toBe(404);
      expect(response.headers.allow).toBeUndefined();
      expect(response.json()).toMatchObject({ code: 'not-found', status: 404, instance: url });
    }
  });

  it('406 when the caller accepts nothing the route answers with, as a problem the caller can read anyway', async () => {
    const response = await app.inject({ url: '/v1/items/42', headers: { accept: 'text/csv' } });
    expect(response.statusCode).toBe(406);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ code: 'not-acceptable', status: 406, instance: '/v1/items/42', available: ['application/json'] });
    expect((await app.inject({ url: '/v1/items/42', headers: { accept: 'application/json;q=0, text/html' } })).statusCode).toBe(406);
    expect((await app.inject({ url: '/v1/nested/page', headers: { accept: 'application/xml' } })).json()).toMatchObject({ status: 406, available: ['text/html', 'application/json'] });
  });

  it.each([
    ['no Accept', undefined],
    ['*/*', '*/*'],
    ['application/*', 'application/*'],
    ['JSON among others, weighted', 'text/html;q=0.9, application/json;q=0.5'],
    ['a browser', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
    ['mixed case', 'Application/JSON'],
    ['an empty Accept (as good as none)', ''],
  ])('%s is served', async (_case, accept) => {
    const response = await app.inject({ url: '/v1/items/42', headers: accept === undefined ? {} : { accept } });
    expect(response.statusCode).toBe(200);
  });

  it('a route that declares what it produces is served to a caller asking for that', async () => {
    const response = await app.inject({ url: '/v1/nested/page', headers: { accept: 'text/html' } });
    expect(response.statusCode).toBe(200);
  });

  it("every problem names its instance: a handler's, a validation's, a pre-routing refusal's", async () => {
    expect((await app.inject('/v1/nested/refuse?secret=1')).json()).toMatchObject({ status: 409, instance: '/v1/nested/refuse' });
    expect((await app.inject('/v1/items/%zz')).json()).toMatchObject({ status: 400, code: 'bad-url', instance: '/v1/items/%zz' });
  });

  it('a request the HTTP parser refuses gets its path as instance, or a urn:uuid when none can be read', async () => {
    const overflow = await raw(port, `GET /v1/items/1?q=2 HTTP/1.1\r\nHost: localhost\r\nX-Padding: ${'p'.repeat(20_000)}\r\nConnection: close\r\n\r\n`);
    expect(overflow).toMatchObject({ status: 431, body: { status: 431, instance: '/v1/items/1' } });
    const garbage = await raw(port, '\u0001\u0002 nonsense\r\n\r\n');
    expect(garbage.status).toBe(400);
    expect(garbage.body.instance).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
  });

});
