import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { type CryptoKey, type JWK, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@postwire/config';
import { serviceKit } from '@postwire/service-kit';
import { authEnvironment, authPlugin, cachedOrganisationOf, callerOf, createJwtVerifier, signDevelopmentToken } from '../src/index.ts';

const userId = randomUUID();
const organisationId = randomUUID();

describe('JWKS verification (RS256 and ES256) against a real key endpoint', () => {
  let server: Server;
  let jwksUrl: string;
  const keys: { kid: string; alg: 'RS256' | 'ES256'; privateKey: CryptoKey }[] = [];
  let fetches = 0;

  beforeAll(async () => {
    const jwks: JWK[] = [];
    for (const alg of ['RS256', 'ES256'] as const) {
      const { publicKey, privateKey } = await generateKeyPair(alg);
      const kid = `${alg.toLowerCase()}-1`;
      keys.push({ kid, alg, privateKey });
      jwks.push({ ...(await exportJWK(publicKey)), kid, alg, use: 'sig' });
    }
    server = createServer((_request, response) => {
      fetches += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: jwks }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('verifies RS256 and ES256 tokens by key id, fetching the key set once', async () => {
    const verify = createJwtVerifier(loadConfig(authEnvironment, { JWT_JWKS_URL: jwksUrl, JWT_ISSUER: 'https://id.example.test' }));
    for (const key of keys) {
      const token = await new SignJWT({ organisation_id: organisationId })
        .setProtectedHeader({ alg: key.alg, kid: key.kid }).setSubject(userId).setAudience('authenticated')
        .setIssuer('https://id.example.test').setExpirationTime('5m').sign(key.privateKey);
      expect(await verify(token)).toMatchObject({ userId, organisationId });
    }
    expect(fetches).toBe(1);
  });

  it('refuses a token from another issuer and an HS256 token when keys come from JWKS', async () => {
    const verify = createJwtVerifier(loadConfig(authEnvironment, { JWT_JWKS_URL: jwksUrl, JWT_ISSUER: 'https://id.example.test' }));
    const [rsa] = keys;
    if (!rsa) throw new Error('no key');
    const otherIssuer = await new SignJWT({ organisation_id: organisationId })
      .setProtectedHeader({ alg: rsa.alg, kid: rsa.kid }).setSubject(userId).setAudience('authenticated')
      .setIssuer('https://evil.example.test').setExpirationTime('5m').sign(rsa.privateKey);
    await expect(verify(otherIssuer)).rejects.toMatchObject({ status: 401, message: 'the token\'s "iss" claim is not acceptable' });
    const symmetric = await signDevelopmentToken({ secret: 'x'.repeat(32), userId, organisationId, issuer: 'https://id.example.test' });
    await expect(verify(symmetric)).rejects.toMatchObject({ status: 401 });
  });
});

describe('authenticate hook', () => {
  const secret = 'another-shared-secret-with-32-characters!';
  let app: FastifyInstance;
  // The host's users table, as the plugin sees it through its lookup (services back it with Postgres).
  const members = new Map<string, string>([[userId, organisationId]]);
  const lookups: string[] = [];

  beforeAll(async () => {
    app = Fastify();
    await app.register(serviceKit, { service: 'auth-test' });
    await app.register(authPlugin, {
      verify: createJwtVerifier(loadConfig(authEnvironment, { JWT_SECRET: secret })),
      organisationOf: cachedOrganisationOf(async (user) => {
        lookups.push(user);
        return members.get(user) ?? null;
      }),
    });
    await app.register(async (api) => {
      api.addHook('onRequest', api.authenticate);
      api.get('/v1/me', async (request) => {
        const caller = callerOf(request);
        return { userId: caller.userId, organisationId: caller.organisationId };
      });
    });
    await app.ready();
  });

  afterAll(() => app.close());

  it('answers 401 with a Bearer challenge when no token is presented, and health stays public', async () => {
    const response = await app.inject('/v1/me');
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="postwire"');
    expect(response.headers['content-type']).toMatch(/problem\+json/);
    expect((await app.inject('/healthz')).statusCode).toBe(200);
  });

  it('answers 401 invalid_token for a bad token and 403 for a token without an organisation', async () => {
    const bad = await app.inject({ url: '/v1/me', headers: { authorization: 'Bearer not.a.jwt' } });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    const noOrganisation = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId)
      .setAudience('authenticated').setExpirationTime('5m').sign(new TextEncoder().encode(secret));
    const forbidden = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${noOrganisation}` } });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ status: 403, title: 'Forbidden' });
  });

  it('lets a valid caller through and tells the route who it is', async () => {
    const token = await signDevelopmentToken({ secret, userId, organisationId });
    const response = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${token}` } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ userId, organisationId });
  });

  it('refuses with 403 a valid token whose organisation is not the user\'s, or whose user is unknown', async () => {
    const foreign = await signDevelopmentToken({ secret, userId, organisationId: randomUUID() });
    const response = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${foreign}` } });
    expect(response.statusCode).toBe(403);
    expect(response.headers['content-type']).toMatch(/problem\+json/);
    expect(response.json()).toMatchObject({ detail: "the token's organisation is not the user's organisation" });
    const stranger = await signDevelopmentToken({ secret, userId: randomUUID(), organisationId });
    const unknown = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${stranger}` } });
    expect(unknown.statusCode).toBe(403);
    expect(unknown.json()).toMatchObject({ detail: "the token's user is not known here" });
  });

  it('looks a member up once and then answers from its short-lived cache', async () => {
    const member = randomUUID();
    members.set(member, organisationId);
    const token = await signDevelopmentToken({ secret, userId: member, organisationId });
    for (let call = 0; call < 3; call += 1) {
      expect((await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    }
    expect(lookups.filter((user) => user === member)).toHaveLength(1);
  });

  it('keeps the challenge one quoted string when the reason itself quotes a claim', async () => {
    const wrongAudience = await signDevelopmentToken({ secret, userId, organisationId, audience: 'someone-else' });
    const response = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${wrongAudience}` } });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe(
      `Bearer realm="postwire", error="invalid_token", error_description="the token's 'aud' claim is not acceptable"`,
    );
  });

  it('refuses a token issued in the future beyond the clock tolerance', async () => {
    const future = await new SignJWT({ organisation_id: organisationId }).setProtectedHeader({ alg: 'HS256' }).setSubject(userId)
      .setAudience('authenticated').setIssuedAt(Math.floor(Date.now() / 1000) + 600).setExpirationTime('1h').sign(new TextEncoder().encode(secret));
    const response = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${future}` } });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ detail: 'the token was issued in the future' });
  });
});
