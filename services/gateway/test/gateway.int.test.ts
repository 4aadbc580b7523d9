import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevelopmentToken } from '@postwire/auth';
import { TEST_JWT_SECRET as secret, buildGateway, testEnvironment } from './helpers.ts';

describe('gateway', () => {
  let gateway: FastifyInstance;

  beforeAll(async () => {
    ({ gateway } = await buildGateway(testEnvironment()));
  });

  afterAll(() => gateway.close());

  it('publishes an OpenAPI 3.1 document generated from the route schemas, with bearer auth', async () => {
    const response = await gateway.inject('/openapi.json');
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document.openapi).toBe('3.1.0');
    expect(document.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
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

  it('is ready once Kafka answers', async () => {
    const response = await gateway.inject('/readyz');
    expect(response.json()).toEqual({ status: 'ready', checks: { kafka: 'ok' } });
  });

  it('requires a bearer token on the API and tells a valid caller who they are', async () => {
    expect((await gateway.inject('/v1/me')).statusCode).toBe(401);
    const userId = randomUUID();
    const organisationId = randomUUID();
    const token = await signDevelopmentToken({ secret, userId, organisationId });
    const response = await gateway.inject({ url: '/v1/me', headers: { authorization: `Bearer ${token}` } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ userId, organisationId });
  });
});
