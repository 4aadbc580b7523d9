import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authEnvironment, authPlugin, cachedOrganisationOf, createJwtVerifier, signDevelopmentToken } from '@postwire/auth';
import { loadConfig } from '@postwire/config';
import { createOrganisationLookup, withCallerClaims } from '@postwire/db';
import { databasePlugin, serviceKit, zodSchemasPlugin } from '@postwire/service-kit';
import { createTestDatabase, type TestDatabase } from '@postwire/testing';
import { createAccountReads } from '../src/db/read-queries.ts';
import { accountRoutes } from '../src/routes/accounts.ts';

const secret = 'accounts-read-api-test-secret-32-chars!';

describe('accounts read API', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  let app: FastifyInstance;
  const orgA = randomUUID();
  const orgB = randomUUID();
  const userA = randomUUID();
  const userB = randomUUID();
  const ids = { igA: randomUUID(), pageA: randomUUID(), expiredA: randomUUID(), soonA: randomUUID(), igB: randomUUID() };
  let tokenA: string;
  let tokenB: string;

  beforeAll(async () => {
    database = await createTestDatabase('accounts_read');
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    await admin.query(`INSERT INTO organisations (id, name) VALUES ($1, 'A'), ($2, 'B')`, [orgA, orgB]);
    await admin.query(`INSERT INTO users (id, organisation_id, email) VALUES ($1, $2, 'a@x.test'), ($3, $4, 'b@x.test')`, [userA, orgA, userB, orgB]);
    const insert = (id: string, org: string, platform: string, type: string, platformId: string, username: string, extra = '', values: unknown[] = []) =>
      admin.query(
        `INSERT INTO accounts.social_media_accounts
           (id, organisation_id, platform, account_type, platform_account_id, username, access_token, can_publish_stories, can_publish_reels ${extra ? `, ${extra}` : ''})
         VALUES ($1, $2, $3, $4, $5, $6, 'enc:v1:k1:AAAAAAAAAAAAAAAA:c2VjcmV0:AAAAAAAAAAAAAAAAAAAAAA', $7, true ${values.map((_, i) => `, $${i + 8}`).join('')})`,
        [id, org, platform, type, platformId, username, type === 'business', ...values],
      );
    await insert(ids.igA, orgA, 'instagram', 'business', '17841400000000301', 'postwire.bakery', 'token_expires_at', [new Date(Date.now() + 40 * 86_400_000)]);
    await insert(ids.pageA, orgA, 'facebook', 'page', '1001000000000201', 'Postwire Bakery');
    await insert(ids.expiredA, orgA, 'instagram', 'creator', '17841400000000302', 'postwire.studio', 'status, error_message', ['expired', 'Reconnect: the token was revoked']);
    await insert(ids.soonA, orgA, 'instagram', 'creator', '17841400000000303', 'soon', 'token_expires_at', [new Date(Date.now() + 2 * 86_400_000)]);
    await insert(ids.igB, orgB, 'instagram', 'business', '17841400000000301', 'other.org');

    app = Fastify();
    await app.register(serviceKit, { service: 'accounts' });
    await app.register(zodSchemasPlugin);
    await app.register(databasePlugin, { connectionUri: database.urlFor('accounts', 'app') });
    await app.register(authPlugin, {
      verify: createJwtVerifier(loadConfig(authEnvironment, { JWT_SECRET: secret })),
      organisationOf: cachedOrganisationOf(createOrganisationLookup(app.db)),
    });
    await app.register(accountRoutes, { prefix: '/v1' });
    await app.ready();
    tokenA = `Bearer ${await signDevelopmentToken({ secret, userId: userA, organisationId: orgA })}`;
    tokenB = `Bearer ${await signDevelopmentToken({ secret, userId: userB, organisationId: orgB })}`;
  });

  afterAll(async () => {
    await app.close();
    await admin.end();
    await database.drop();
  });

  const get = (url: string, authorization = tokenA) => app.inject({ url, headers: { authorization } });

  it('lists the organisation’s accounts ordered by platform then creation (example query 1), without tokens', async () => {
    const response = await get('/v1/accounts');
    expect(response.statusCode).toBe(200);
    const { data } = response.json();
    expect(data.map((account: { id: string }) => account.id)).toEqual([ids.pageA, ids.igA, ids.expiredA, ids.soonA]);
    expect(response.body).not.toContain('enc:v1');
    expect(response.body).not.toContain('access_token');
    expect(data[1]).toMatchObject({ platform: 'instagram', accountType: 'business', username: 'postwire.bakery', capabilities: { feed: true, stories: true, reels: true } });
  });

  it('filters by status: status=active is exactly the seed’s active-accounts query', async () => {
    const active = (await get('/v1/accounts?status=active')).json().data.map((account: { id: string }) => account.id);
    expect(active).toEqual([ids.pageA, ids.igA, ids.soonA]);
    const expired = (await get('/v1/accounts?status=expired')).json().data;
    expect(expired).toEqual([expect.objectContaining({ id: ids.expiredA, errorMessage: 'Reconnect: the token was revoked' })]);
    expect((await get('/v1/accounts?status=bogus')).statusCode).toBe(400);
  });

  it('another organisation sees only its own, and cannot read ours by id', async () => {
    expect((await get('/v1/accounts', tokenB)).json().data.map((account: { id: string }) => account.id)).toEqual([ids.igB]);
    const foreign = await get(`/v1/accounts/${ids.igA}`, tokenB);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.headers['content-type']).toMatch(/problem\+json/);
    expect((await get(`/v1/accounts/${ids.igA}/capabilities`, tokenB)).statusCode).toBe(404);
  });

  it('returns one account and its capabilities (get_account_capabilities)', async () => {
    expect((await get(`/v1/accounts/${ids.igA}`)).json()).toMatchObject({ id: ids.igA, status: 'active', pageId: null });
    expect((await get(`/v1/accounts/${ids.expiredA}/capabilities`)).json()).toEqual({
      accountId: ids.expiredA, canPostFeed: true, canPostStories: false, canPostReels: true, isActive: false,
    });
  });

  it('lists active accounts whose tokens expire within the window (example query 4)', async () => {
    const week = (await get('/v1/accounts/expiring')).json().data;
    expect(week).toEqual([expect.objectContaining({ id: ids.soonA, platform: 'instagram', username: 'soon' })]);
    expect(week[0].daysUntilExpiry).toBeGreaterThan(1.9);
    expect(week[0].daysUntilExpiry).toBeLessThan(2.1);
    const twoMonths = (await get('/v1/accounts/expiring?days=60')).json().data.map((account: { id: string }) => account.id);
    expect(twoMonths).toEqual([ids.soonA, ids.igA]);
  });

  it('needs the caller’s bearer token and rejects malformed ids', async () => {
    expect((await app.inject('/v1/accounts')).statusCode).toBe(401);
    expect((await get('/v1/accounts/not-a-uuid')).statusCode).toBe(400);
  });

  it('refuses with 403 on every route a token whose organisation is not its user\'s, even one naming the account\'s organisation', async () => {
    // User A's token claiming organisation B, where the account igB lives.
    const foreign = `Bearer ${await signDevelopmentToken({ secret, userId: userA, organisationId: orgB })}`;
    const unknown = `Bearer ${await signDevelopmentToken({ secret, userId: randomUUID(), organisationId: orgB })}`;
    for (const authorization of [foreign, unknown]) {
      for (const url of ['/v1/accounts', '/v1/accounts/expiring', `/v1/accounts/${ids.igB}`, `/v1/accounts/${ids.igB}/capabilities`]) {
        const response = await get(url, authorization);
        expect({ url, status: response.statusCode }).toEqual({ url, status: 403 });
        expect(response.body).not.toContain('other.org');
      }
    }
  });

  it('the capabilities read applies the same organisation filter as its siblings, beside RLS', async () => {
    // RLS lets user A see organisation A's accounts; asked for organisation B's view, the read finds nothing.
    const read = (organisationId: string, id: string) =>
      withCallerClaims(app.db, { sub: userA, organisationId }, (connection) => createAccountReads(connection).capabilities(organisationId, id));
    expect(await read(orgA, ids.igA)).toMatchObject({ is_active: true });
    expect(await read(orgB, ids.igA)).toBeNull();
    expect(await read(orgA, ids.igB)).toBeNull();
  });
});
