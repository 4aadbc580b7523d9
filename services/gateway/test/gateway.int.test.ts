import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevelopmentToken } from '@postwire/auth';
import { TEST_JWT_SECRET as secret, buildGateway, createMembers, freePort, testEnvironment } from './helpers.ts';
import { eventually } from '@postwire/testing';

describe('gateway', () => {
  let gateway: FastifyInstance;
  let members: Awaited<ReturnType<typeof createMembers>>;
  let metricsPort: number;

  beforeAll(async () => {
    members = await createMembers();
    metricsPort = await freePort();
    ({ gateway } = await buildGateway(testEnvironment(members.url, { GATEWAY_METRICS_PORT: String(metricsPort) })));
  });

  afterAll(async () => {
    await gateway.close();
    await members.close();
  });

  it('publishes an OpenAPI 3.1 document generated from the route schemas, with bearer auth', async () => {
    const response = await gateway.inject('/openapi.json');
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document.openapi).toBe('3.1.0');
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(document.paths['/v1/me'].get.responses['200'].content['application/json'].schema.properties).toHaveProperty('organisationId');
    // Health, metrics and the documents themselves are not part of the public API description.
    expect(Object.keys(document.paths)).not.toContain('/healthz');
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/v1/connect/{provider}/start', '/v1/connect/{provider}/callback']));
  });

  it('serves Swagger UI at /docs', async () => {
    const response = await gateway.inject('/docs/');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/text\/html/);
  });

  it('serves the AsyncAPI 3 document of the event catalogue', async () => {
    const response = await gateway.inject('/asyncapi.json');
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document.asyncapi).toMatch(/^3\./);
    expect(Object.keys(document.channels).length).toBeGreaterThan(0);
  });

  it('is ready once Kafka answers and its live-event consumers have joined their groups', async () => {
    const response = await eventually(async () => {
      const answer = await gateway.inject('/readyz');
      return answer.statusCode === 200 ? answer : undefined;
    }, 'the gateway to be ready');
    expect(response.json()).toEqual({
      status: 'ready',
      checks: { database: 'ok', kafka: 'ok', 'live-events': 'ok', 'worker-database': 'ok', 'webhook-fan-out': 'ok' },
    });
  });

  it('requires a bearer token on the API and tells a valid caller who they are', async () => {
    expect((await gateway.inject('/v1/me')).statusCode).toBe(401);
    const { userId, organisationId, authorization } = await members.member();
    const response = await gateway.inject({ url: '/v1/me', headers: { authorization } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ userId, organisationId });
  });

  it('refuses with 403, on every route, a valid token whose organisation is not the user\'s or whose user is unknown', async () => {
    const member = await members.member();
    const other = await members.member();
    const tokens = {
      foreignOrganisation: await signDevelopmentToken({ secret, userId: member.userId, organisationId: other.organisationId }),
      unknownUser: await signDevelopmentToken({ secret, userId: randomUUID(), organisationId: member.organisationId }),
    };
    const account = randomUUID();
    const routes: [string, string][] = [
      ['GET', '/v1/me'],
      ['GET', '/v1/accounts'],
      ['GET', '/v1/accounts/expiring'],
      ['GET', `/v1/accounts/${account}`],
      ['GET', `/v1/accounts/${account}/capabilities`],
      ['DELETE', `/v1/accounts/${account}`],
      ['GET', '/v1/connect/facebook/start'],
      ['GET', '/v1/connect/instagram/start'],
      ['GET', '/v1/posts'],
      ['POST', '/v1/posts'],
      ['GET', `/v1/posts/${account}`],
      ['PATCH', `/v1/posts/${account}`],
      ['DELETE', `/v1/posts/${account}`],
      ['POST', `/v1/posts/${account}/publish`],
      ['POST', `/v1/accounts/${account}/posts/retry`],
      ['GET', '/v1/content/unposted'],
    ];
    for (const [kind, token] of Object.entries(tokens)) {
      for (const [method, url] of routes) {
        const response = await gateway.inject({ method: method as 'GET' | 'POST' | 'PATCH' | 'DELETE', url, headers: { authorization: `Bearer ${token}` } });
        expect({ kind, method, url, status: response.statusCode, type: response.headers['content-type'] }).toEqual({
          kind, method, url, status: 403, type: 'application/problem+json; charset=utf-8',
        });
        // A refused connect start binds no flow to the browser.
        expect(response.headers['set-cookie']).toBeUndefined();
      }
    }
  });

  it('serves /metrics on its own internal address, not on the public port', async () => {
    const { authorization } = await members.member();
    await gateway.inject({ url: '/v1/me', headers: { authorization } });
    expect((await gateway.inject('/metrics')).statusCode).toBe(404);
    const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/v1\/me"/);
  });
});
