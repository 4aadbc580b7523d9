import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogCapture, createTestDatabase, type TestDatabase } from '@postwire/testing';
import { ProblemError, databasePlugin, loggerOptions, serviceKit } from '../src/index.ts';

describe('service kit', () => {
  let database: TestDatabase;
  let app: FastifyInstance;
  const { stream, lines: logLines } = createLogCapture();

  beforeAll(async () => {
    database = await createTestDatabase('service_kit');
    const logger = loggerOptions({ service: 'kit-test', level: 'info' });
    app = Fastify({ logger: { ...(typeof logger === 'object' ? logger : {}), stream } });
    await app.register(serviceKit, { service: 'kit-test', readinessTimeoutMs: 500 });
    await app.register(databasePlugin, { connectionUri: database.urlFor('accounts', 'app') });
    app.get('/boom', async () => {
      throw new Error('connection string postgres://secret@db leaked?');
    });
    app.get('/refuse', async () => {
      throw new ProblemError(422, 'unsupported-media', 'Unsupported media', 'Stories take one image or video', { field: 'media' });
    });
    app.post(
      '/validated',
      { schema: { body: { type: 'object', required: ['caption'], properties: { caption: { type: 'string', maxLength: 5 } } } } },
      async () => ({ ok: true }),
    );
    app.post('/echo', async (request) => ({ received: typeof request.body }));
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    await database.drop();
  });

  it('/healthz answers while the process serves', async () => {
    const response = await app.inject('/healthz');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('/readyz is ready when the database answers, and names a failing dependency with 503', async () => {
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { database: 'ok' } });

    const other = Fastify();
    await other.register(serviceKit, { service: 'kit-test', readinessTimeoutMs: 100 });
    other.readiness.register('kafka', () => new Promise(() => undefined));
    other.readiness.register('database', async () => undefined);
    const notReady = await other.inject('/readyz');
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json()).toEqual({ status: 'not ready', checks: { kafka: 'failing', database: 'ok' } });
    await other.close();
  });

  it('an unknown route is a problem+json 404', async () => {
    const response = await app.inject('/nope?x=1');
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status: 404, title: 'Not Found', detail: 'No route for GET /nope' });
  });

  it('a ProblemError becomes exactly that problem, with its extensions', async () => {
    const response = await app.inject('/refuse');
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({
      type: 'https://postwire.dev/problems/unsupported-media',
      title: 'Unsupported media',
      status: 422,
      detail: 'Stories take one image or video',
      instance: '/refuse',
      code: 'unsupported-media',
      field: 'media',
    });
  });

  it('an unexpected error is a 500 that hides its details from the caller but logs them', async () => {
    const response = await app.inject('/boom');
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('postgres://');
    expect(response.json()).toMatchObject({ status: 500, title: 'Internal Server Error' });
    expect(logLines.some((line) => line.includes('leaked?') && line.includes('"level":"error"'))).toBe(true);
  });

  it('schema violations are a 400 listing each problem', async () => {
    const response = await app.inject({ method: 'POST', url: '/validated', payload: { caption: 'far too long' } });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      title: 'Invalid request',
      code: 'invalid-request',
      errors: [{ location: 'body', path: '/caption', field: 'caption', code: 'max-length', message: expect.stringContaining('5') }],
    });
  });

  it('malformed JSON is a 400 problem, not a 500', async () => {
    const response = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"caption":' });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('joins the caller’s trace and echoes a correlation id', async () => {
    const response = await app.inject({
      url: '/healthz',
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'x-correlation-id': 'req-42' },
    });
    expect(response.headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(response.headers['x-correlation-id']).toBe('req-42');
  });

  it('Fastify’s own request and response log lines carry the trace and correlation ids', async () => {
    const correlationId = `corr-${Date.now()}`;
    await app.inject({
      method: 'POST',
      url: '/echo',
      payload: { a: 1 },
      headers: { traceparent: '00-5bf92f3577b34da6a3ce929d0e0e4737-00f067aa0ba902b7-01', 'x-correlation-id': correlationId },
    });
    const lines = logLines.filter((line) => line.includes(correlationId)).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => line.message)).toEqual(expect.arrayContaining(['incoming request', 'request completed']));
    for (const line of lines) expect(line).toMatchObject({ correlationId, traceId: '5bf92f3577b34da6a3ce929d0e0e4737' });
  });

  it('/metrics reports request durations by route template', async () => {
    await app.inject('/refuse');
    const response = await app.inject('/metrics');
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/refuse"[^}]*status_code="422"[^}]*\} \d+/);
    expect(response.body).toContain('process_cpu_user_seconds_total');
  });

  it('credentials never reach the logs: headers, token fields and secret query parameters', async () => {
    const token = 'EAAGsecretaccesstoken123';
    await app.inject({ url: `/nope?code=AQ-oauth-code-999&access_token=${token}`, headers: { authorization: `Bearer ${token}` } });
    app.log.info({ account: { access_token: token, id: 'a1' } }, 'stored account');
    const all = logLines.join('');
    expect(all).toContain('stored account');
    expect(all).not.toContain(token);
    expect(all).not.toContain('AQ-oauth-code-999');
  });
});
