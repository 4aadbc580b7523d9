import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { accountEvents, accountRequests } from '@postwire/contracts';
import { createEventProducer, createKafkaClient } from '@postwire/kafka';
import { type Observed, type TopicObserver, eventually, observeTopic, startMetaSandbox, submitConsent, uniqueName } from '@postwire/testing';
import { buildGateway, createMembers, testEnvironment } from './helpers.ts';

/** Every refusal of the gateway is an RFC 9457 problem with its instance; a browser's connect pages excepted. */
describe('the gateway refuses with problems', () => {
  let sandbox: Awaited<ReturnType<typeof startMetaSandbox>>;
  let gateway: FastifyInstance;
  let members: Awaited<ReturnType<typeof createMembers>>;
  let authorization: string;
  let organisationId: string;
  let observer: TopicObserver | undefined;

  beforeAll(async () => {
    sandbox = await startMetaSandbox();
    members = await createMembers();
    ({ gateway } = await buildGateway(testEnvironment(members.url, { META_SANDBOX_URL: sandbox.baseUrl })));
    ({ authorization, organisationId } = await members.member());
    observer = await observeTopic(accountRequests.name);
  });

  afterAll(async () => {
    await observer?.stop();
    await gateway?.close();
    await sandbox?.close();
    await members?.close();
  });

  const isProblem = (response: { statusCode: number; headers: Record<string, unknown>; json: () => unknown }, status: number, code: string, instance: string) => {
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ type: `https://postwire.dev/problems/${code}`, code, status, title: expect.any(String), instance, requestId: expect.any(String) });
  };

  it('a wrong method on a known path is 405 with Allow; an unknown path 404', async () => {
    const post = randomUUID();
    const cases: [string, string, string][] = [
      ['PUT', `/v1/posts/${post}`, 'DELETE, GET, HEAD, PATCH'],
      ['DELETE', '/v1/posts', 'GET, HEAD, POST'],
      ['GET', `/v1/posts/${post}/publish`, 'POST'],
      ['POST', '/v1/me', 'GET, HEAD'],
      ['PATCH', `/v1/accounts/${post}`, 'DELETE, GET, HEAD'],
      ['POST', '/v1/connect/facebook/start', 'GET, HEAD'],
      ['OPTIONS', '/v1/connect/instagram/callback', 'GET, HEAD'],
    ];
    for (const [method, url, allow] of cases) {
      const response = await gateway.inject({ method: method as 'GET', url: `${url}?x=1`, headers: { authorization } });
      isProblem(response, 405, 'method-not-allowed', url);
      expect(response.headers.allow, `${method} ${url}`).toBe(allow);
    }
    isProblem(await gateway.inject({ method: 'GET', url: '/v1/postz', headers: { authorization } }), 404, 'not-found', '/v1/postz');
  });

  it('an Accept that takes nothing the operation answers with is 406, still a readable problem', async () => {
    for (const url of ['/v1/me', '/v1/posts', `/v1/posts/${randomUUID()}`, '/v1/accounts']) {
      const response = await gateway.inject({ url, headers: { authorization, accept: 'text/csv' } });
      isProblem(response, 406, 'not-acceptable', url);
      expect(response.json().available).toEqual(['application/json']);
    }
    // The connect pages are HTML or JSON: a browser's Accept is served, XML is not.
    const start = await gateway.inject({ url: '/v1/connect/facebook/start', headers: { authorization, accept: 'text/html' } });
    expect(start.statusCode).toBe(302);
    isProblem(await gateway.inject({ url: '/v1/connect/facebook/callback', headers: { accept: 'application/xml' } }), 406, 'not-acceptable', '/v1/connect/facebook/callback');
  });

  it('names the instance on every problem: a validation failure, a missing token, an owner unreachable', async () => {
    isProblem(await gateway.inject({ url: '/v1/posts?status=bogus' , headers: { authorization } }), 400, 'invalid-request', '/v1/posts');
    isProblem(await gateway.inject({ url: '/v1/me' }), 401, 'unauthorized', '/v1/me');
    // No publisher runs here: its reads are refused as a problem, not a stack trace.
    const unreachable = await gateway.inject({ url: '/v1/posts', headers: { authorization } });
    expect(unreachable.statusCode).toBeGreaterThanOrEqual(502);
    expect(unreachable.json()).toMatchObject({ status: unreachable.statusCode, instance: '/v1/posts' });
  });

  async function startConnect() {
    const started = await gateway.inject({ url: '/v1/connect/facebook/start', headers: { authorization } });
    return { dialog: String(started.headers.location), cookie: String(started.headers['set-cookie']).split(';')[0] ?? '' };
  }

  it('the connect callback tells an API client "consent declined" as a problem (a browser still gets the page)', async () => {
    const { dialog, cookie } = await startConnect();
    const redirect = await submitConsent(dialog, 'deny');
    const response = await gateway.inject({ url: `${redirect.pathname}${redirect.search}`, headers: { cookie, accept: 'application/json' } });
    isProblem(response, 400, 'consent-declined', '/v1/connect/facebook/callback');
    expect(response.json()).toMatchObject({ outcome: 'denied', provider: 'facebook', detail: expect.stringContaining('access was declined') });
    // The query string (Meta's error, or a code) is never echoed as the instance.
    expect(response.json().instance).not.toContain('?');
  });

  it('a connect that failed for a missing permission is a permission-missing problem naming each scope', async () => {
    const { dialog, cookie } = await startConnect();
    const pending = await gateway.inject({ url: (({ pathname, search }) => `${pathname}${search}`)(await submitConsent(dialog, 'allow')), headers: { cookie, accept: 'application/json' } });
    expect(pending.statusCode).toBe(202);
    expect(pending.headers['content-type']).toMatch(/^application\/json/);
    const statusUrl = String(pending.headers.location);
    const attemptCookie = [pending.headers['set-cookie']].flat().map(String).find((header) => header.startsWith('pw_connect_attempt='))?.split(';')[0] ?? '';
    const authorized = await eventually(
      () => (observer?.messages ?? []).find((entry: Observed) => entry.headers.ce_correlationid === String(pending.headers['x-correlation-id'])),
      'account.authorized of this flow',
      { timeoutMs: 15_000 },
    );
    // What the accounts service answers when the granted scopes lack one it needs.
    const client = createKafkaClient({ brokers: inject('kafkaBrokers'), topicPrefix: inject('kafkaTopicPrefix'), clientId: uniqueName('problems-test'), logger: gateway.log });
    const producer = createEventProducer(client, { source: '/postwire/accounts' });
    await producer.connect();
    try {
      await producer.publish(accountEvents, [
        {
          type: 'account.connection-failed',
          data: {
            socialAccountId: String(authorized.data.socialAccountId),
            platform: 'facebook',
            stage: 'scope-check',
            error: { category: 'permission', message: 'Postwire needs permission to publish to Instagram.', retryable: false },
            missingScopes: ['instagram_content_publish'],
            consecutiveFailures: 1,
          },
          metadata: { organisationId, causationId: authorized.headers.ce_id, correlationId: authorized.headers.ce_correlationid },
        },
      ]);
    } finally {
      await producer.disconnect();
    }
    const failed = await eventually(
      async () => {
        const response = await gateway.inject({ url: statusUrl, headers: { cookie: attemptCookie, accept: 'application/json' } });
        return response.statusCode === 202 ? undefined : response;
      },
      'the attempt to end',
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    isProblem(failed, 422, 'permission-missing', statusUrl);
    expect(failed.json()).toMatchObject({
      errors: [{ field: 'scope', code: 'permission-missing', message: 'instagram_content_publish was not granted' }],
      failures: [{ missingScopes: ['instagram_content_publish'] }],
    });
  });
});
