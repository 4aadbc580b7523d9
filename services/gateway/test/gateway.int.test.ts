import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@postwire/config';
import { signDevelopmentToken } from '@postwire/auth';
import app from '../src/app.ts';
import { configSchema } from '../src/config.ts';

const secret = 'gateway-test-shared-secret-32-characters';

describe('gateway configuration', () => {
  it('refuses to boot without a way to verify tokens', () => {
    expect(() => loadConfig(configSchema, {})).toThrow(ConfigError);
    expect(() => loadConfig(configSchema, {})).toThrow(/exactly one of JWT_SECRET/);
  });

  it('has working defaults once a secret is set', () => {
    const config = loadConfig(configSchema, { JWT_SECRET: secret, GATEWAY_PUBLIC_URL: 'https://api.postwire.test/' });
    expect(config).toMatchObject({ host: '127.0.0.1', port: 3000, publicUrl: 'https://api.postwire.test', kafka: { brokers: ['127.0.0.1:9092'] } });
    expect(config.auth).toMatchObject({ key: { kind: 'secret' }, audience: 'authenticated', organisationClaim: 'organisation_id' });
  });
});

describe('gateway', () => {
  let gateway: FastifyInstance;

  beforeAll(async () => {
    gateway = Fastify();
    await gateway.register(app, { config: loadConfig(configSchema, { JWT_SECRET: secret }) });
    await gateway.ready();
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
