import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxControl, startMetaSandbox, submitConsent } from '@postwire/testing';
import { buildGateway, createMembers, testEnvironment } from './helpers.ts';

/** The connect flows' OAuth mechanics on @fastify/oauth2: cookies, the form-POST exchange and its failures. */
describe('connect flows on @fastify/oauth2', () => {
  let sandbox: Awaited<ReturnType<typeof startMetaSandbox>>;
  let gateway: FastifyInstance;
  let members: Awaited<ReturnType<typeof createMembers>>;
  let bearer: string;

  beforeAll(async () => {
    sandbox = await startMetaSandbox();
    members = await createMembers();
    ({ gateway } = await buildGateway(testEnvironment(members.url, { META_SANDBOX_URL: sandbox.baseUrl })));
    ({ authorization: bearer } = await members.member());
  });
  afterAll(async () => {
    await gateway.close();
    await sandbox.close();
    await members.close();
  });

  async function start(provider: 'facebook' | 'instagram') {
    const response = await gateway.inject({ url: `/v1/connect/${provider}/start`, headers: { authorization: bearer } });
    expect(response.statusCode, response.body).toBe(302);
    const setCookie = [response.headers['set-cookie'] ?? []].flat().map(String);
    return { dialog: String(response.headers.location), setCookie, cookie: setCookie[0]?.split(';')[0] ?? '' };
  }

  it("leaves only the sealed cookie in the browser: the plugin's own state and verifier cookies are cleared", async () => {
    const { setCookie } = await start('facebook');
    expect(setCookie[0]).toMatch(/^pw_connect=[^;]+;/);
    expect(setCookie.slice(1).sort()).toEqual([expect.stringMatching(/^pw_connect_pkce=;.*Expires=Thu, 01 Jan 1970/), expect.stringMatching(/^pw_connect_state=;.*Expires=Thu, 01 Jan 1970/)]);
  });

  it('exchanges the code by form POST, and reports a refused exchange as meta-exchange-failed with its class', async () => {
    const { dialog, cookie } = await start('facebook');
    const redirect = await submitConsent(dialog, 'allow');
    // Only a POST matches: proves the plugin exchanged the code the way standard OAuth clients do.
    await sandboxControl(sandbox.baseUrl, 'POST', '/faults', {
      operation: 'facebook.access-token',
      method: 'POST',
      kind: 'error',
      error: { code: 100, subcode: 36009, message: 'This authorization code has been used.' },
      times: 1,
    });
    const answer = await gateway.inject({ url: `${redirect.pathname}${redirect.search}`, headers: { cookie, accept: 'application/json' } });
    expect(answer.statusCode).toBe(502);
    expect(answer.json()).toMatchObject({ type: 'https://postwire.dev/problems/meta-exchange-failed', metaClass: 'invalid-parameter' });
    const faults = await sandboxControl<{ faults: { hits: number }[] }>(sandbox.baseUrl, 'GET', '/faults');
    expect(faults.faults.map((fault) => fault.hits)).toEqual([1]);
    await sandboxControl(sandbox.baseUrl, 'DELETE', '/faults');
  });
});
