import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountEvents } from '@postwire/contracts';
import { type TopicObserver, observeTopic, sandboxControl, submitConsent } from '@postwire/testing';
import { type Member, eventually, startStack } from './stack.ts';

const DAY_MS = 24 * 3_600_000;
const BAKERY_IG = '17841400000000301';

type Account = { id: string; status: string; errorMessage: string | null; tokenExpiresAt: string | null; lastTokenRefresh: string | null };
type Observed = { type: string; data: Record<string, unknown> };

describe('a connected account’s token over time, seen through the gateway', () => {
  // Meta's clock (the sandbox's) and the accounts service's lifecycle clock move together.
  let offsetMs = 0;
  let stack: Awaited<ReturnType<typeof startStack>>;
  let bob: Member;
  let account: Account;
  let observer: TopicObserver | undefined;
  const events = (): Observed[] => (observer?.messages ?? []).map((message) => ({ type: message.headers.ce_type ?? '', data: message.data }));

  beforeAll(async () => {
    stack = await startStack({
      accountsClock: () => new Date(Date.now() + offsetMs),
      accountsEnvironment: {
        // Timers off: the test runs each pass itself.
        ACCOUNTS_EXPIRY_SCAN_INTERVAL_MS: '0',
        ACCOUNTS_HEALTH_CHECK_INTERVAL_MS: '0',
        // Refresh close to the end, so the 7-day warning comes first.
        ACCOUNTS_TOKEN_REFRESH_AGE_HOURS: String(59 * 24),
      },
    });
    bob = await stack.member();
    observer = await observeTopic(accountEvents.name);

    const start = await stack.gateway.inject({ url: '/v1/connect/instagram/start', headers: { authorization: bob.authorization } });
    const cookie = String(start.headers['set-cookie']).split(';')[0] ?? '';
    const redirect = await submitConsent(String(start.headers.location), 'allow');
    const answer = await stack.gateway.inject({ url: `${redirect.pathname}${redirect.search}`, headers: { cookie, accept: 'application/json' } });
    expect(answer.statusCode, answer.body).toBe(200);
    [account] = (await get<{ data: Account[] }>('/v1/accounts')).data as [Account];
  });

  afterAll(async () => {
    await observer?.stop();
    await stack.stop();
  });

  async function get<T>(url: string): Promise<T> {
    const response = await stack.gateway.inject({ url, headers: { authorization: bob.authorization } });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<T>();
  }

  async function advanceDays(days: number) {
    await sandboxControl(stack.sandbox.baseUrl, 'POST', '/clock', { advanceMs: days * DAY_MS });
    offsetMs += days * DAY_MS;
  }

  const eventFor = (type: string) =>
    eventually(async () => events().find((event) => event.type === type && event.data.socialAccountId === account.id), type, { timeoutMs: 15_000 });

  it('a 60-day Instagram token is announced as expiring a week before, then refreshed', async () => {
    const firstExpiry = Date.parse(account.tokenExpiresAt ?? '');
    expect(firstExpiry - Date.now()).toBeGreaterThan(59 * DAY_MS);

    await advanceDays(54);
    await stack.accounts.tokenLifecycle.expiryScan.runOnce();
    const expiring = await eventFor('token.expiring');
    expect(expiring.data).toMatchObject({ platform: 'instagram', refreshable: true });
    expect(Number(expiring.data.expiresInSeconds)).toBeLessThanOrEqual(7 * 86_400);

    await advanceDays(5);
    await stack.accounts.tokenLifecycle.expiryScan.runOnce();
    await eventFor('account.token-refreshed');
    const refreshed = await get<Account>(`/v1/accounts/${account.id}`);
    expect(refreshed.status).toBe('active');
    expect(refreshed.lastTokenRefresh).not.toBeNull();
    // A fresh 60 days from Meta's now, which is 59 days later than the first token's start.
    expect(Date.parse(refreshed.tokenExpiresAt ?? '') - firstExpiry).toBeGreaterThan(58 * DAY_MS);
  });

  it('a token revoked at Meta (password change) is found by the health check and the account shows expired', async () => {
    await sandboxControl(stack.sandbox.baseUrl, 'POST', '/tokens/invalidate', { subjectId: BAKERY_IG, reason: 'password_changed' });
    await stack.accounts.tokenLifecycle.healthCheck.runOnce();
    const expired = await eventFor('account.expired');
    expect(expired.data).toMatchObject({ reason: 'password-changed' });
    const shown = await get<Account>(`/v1/accounts/${account.id}`);
    expect(shown.status).toBe('expired');
    expect(shown.errorMessage).toMatch(/^Reconnect/);
    expect((await get<{ data: Account[] }>('/v1/accounts?status=active')).data).toEqual([]);
  });

  it('none of this put a plaintext token in the logs or on Kafka', async () => {
    // Run alone too, this has something to search: the connect's event and Meta's issued tokens.
    await eventFor('account.connected');
    const tokens = stack.issuedTokens();
    expect(tokens.length).toBeGreaterThan(0);
    expect(stack.logLines.length).toBeGreaterThan(0);
    const haystacks = [stack.logLines.join(''), JSON.stringify(events())];
    for (const token of tokens) for (const haystack of haystacks) expect(haystack.includes(token)).toBe(false);
  });
});
