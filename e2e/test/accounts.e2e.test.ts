import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountEvents, accountRequests } from '@postwire/contracts';
import { type TopicObserver, observeTopic, submitConsent } from '@postwire/testing';
import { type Member, eventually, startStack } from './stack.ts';

type Account = { id: string; platform: string; accountType: string; username: string; status: string; capabilities: { stories: boolean } };

describe('connecting accounts end to end: gateway → Kafka → accounts → gateway reads', () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  let alice: Member;
  let outsider: Member;
  let observers: TopicObserver[] = [];
  const messages = () => observers.flatMap((observer) => observer.messages.map((message) => `${message.value} ${JSON.stringify(message.headers)}`));

  beforeAll(async () => {
    stack = await startStack();
    alice = await stack.member();
    outsider = await stack.member();
    observers = [await observeTopic(accountRequests.name), await observeTopic(accountEvents.name)];
  });

  afterAll(async () => {
    for (const observer of observers) await observer.stop();
    await stack.stop();
  });

  const api = (member: Member, url: string, method: 'GET' | 'DELETE' = 'GET') =>
    stack.gateway.inject({ method, url, headers: { authorization: member.authorization, accept: 'application/json' } });

  type ConnectAnswer = {
    outcome: string;
    accounts: { platform: string; username: string; accountType: string }[];
    failures: { message: string; missingScopes: string[] }[];
  };

  async function connect(member: Member, provider: 'facebook' | 'instagram', options: { accept?: string; uncheckScopes?: string[] } = {}) {
    const start = await stack.gateway.inject({ url: `/v1/connect/${provider}/start`, headers: { authorization: member.authorization } });
    expect(start.statusCode, start.body).toBe(302);
    const cookie = String(start.headers['set-cookie']).split(';')[0] ?? '';
    const redirect = await submitConsent(String(start.headers.location), 'allow', { uncheckScopes: options.uncheckScopes ?? [] });
    return stack.gateway.inject({ url: `${redirect.pathname}${redirect.search}`, headers: { cookie, accept: options.accept ?? 'application/json' } });
  }

  const listAccounts = async (member: Member, query = '') => (await api(member, `/v1/accounts${query}`)).json<{ data: Account[] }>().data;

  it('Facebook Login connects the chosen Pages and their linked Instagram accounts, with the right capabilities', async () => {
    const answer = await connect(alice, 'facebook');
    // The flow ends by saying what was connected.
    expect(answer.statusCode, answer.body).toBe(200);
    const result = answer.json<ConnectAnswer>();
    expect(result.outcome).toBe('connected');
    expect(result.accounts.map((account) => `${account.platform}:${account.username}`).sort()).toEqual([
      'facebook:Postwire Bakery', 'facebook:Postwire Studio', 'instagram:postwire.bakery', 'instagram:postwire.studio',
    ]);
    const accounts = await eventually(async () => {
      const listed = await listAccounts(alice, '?status=active');
      return listed.length === 4 ? listed : undefined;
    }, 'four connected accounts', { timeoutMs: 30_000 });
    const byName = Object.fromEntries(accounts.map((account) => [`${account.platform}:${account.username}`, account]));
    expect(Object.keys(byName).sort()).toEqual(['facebook:Postwire Bakery', 'facebook:Postwire Studio', 'instagram:postwire.bakery', 'instagram:postwire.studio']);
    expect(byName['instagram:postwire.bakery']).toMatchObject({ accountType: 'business', capabilities: { stories: true } });
    expect(byName['instagram:postwire.studio']).toMatchObject({ accountType: 'creator', capabilities: { stories: false } });
  });

  it('another organisation sees none of them, through the API or by id, and cannot disconnect them', async () => {
    expect(await listAccounts(outsider)).toEqual([]);
    const [first] = await listAccounts(alice);
    expect((await api(outsider, `/v1/accounts/${first?.id}`)).statusCode).toBe(404);
    expect((await api(outsider, `/v1/accounts/${first?.id}`, 'DELETE')).statusCode).toBe(404);
    expect((await api(alice, `/v1/accounts/${first?.id}`)).json()).toMatchObject({ status: 'active' });
  });

  it('disconnecting erases the token and shows the account disconnected; reconnecting brings the same row back', async () => {
    const instagram = (await listAccounts(alice)).find((account) => account.username === 'postwire.bakery');
    if (!instagram) throw new Error('no Instagram account');
    const accepted = await api(alice, `/v1/accounts/${instagram.id}`, 'DELETE');
    expect(accepted.statusCode).toBe(202);
    expect(accepted.headers.location).toBe(`/v1/accounts/${instagram.id}`);
    await eventually(async () => ((await api(alice, `/v1/accounts/${instagram.id}`)).json().status === 'disconnected' ? true : undefined), 'the disconnect', { timeoutMs: 20_000 });
    const stored = await stack.admin.query('SELECT access_token FROM accounts.social_media_accounts WHERE id = $1', [instagram.id]);
    expect(stored.rows[0]?.access_token).toBe('');

    const page = await connect(alice, 'facebook', { accept: 'text/html' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-outcome="connected"');
    expect(page.body).toContain('Instagram account @postwire.bakery (business)');
    await eventually(async () => ((await api(alice, `/v1/accounts/${instagram.id}`)).json().status === 'active' ? true : undefined), 'the reconnect', { timeoutMs: 30_000 });
    const rows = await stack.admin.query('SELECT count(*)::int AS count FROM accounts.social_media_accounts WHERE organisation_id = $1', [alice.organisationId]);
    expect(rows.rows[0]?.count).toBe(4);
  });

  it('a consent without a required permission connects nothing and names what is missing', async () => {
    const carol = await stack.member();
    const answer = await connect(carol, 'facebook', { uncheckScopes: ['instagram_content_publish', 'pages_manage_posts'] });
    expect(answer.statusCode, answer.body).toBe(422);
    const result = answer.json<ConnectAnswer>();
    expect(result.outcome).toBe('failed');
    expect(result.failures.flatMap((failure) => failure.missingScopes)).toEqual(expect.arrayContaining(['instagram_content_publish']));
    expect(await listAccounts(carol, '?status=active')).toEqual([]);
  });

  it('Instagram Login connects the Instagram account directly', async () => {
    const bob = await stack.member();
    const answer = await connect(bob, 'instagram');
    expect(answer.json<ConnectAnswer>()).toMatchObject({ outcome: 'connected', accounts: [{ platform: 'instagram', username: 'postwire.bakery' }] });
    const [account] = await eventually(async () => {
      const listed = await listAccounts(bob, '?status=active');
      return listed.length === 1 ? listed : undefined;
    }, 'one Instagram account', { timeoutMs: 30_000 });
    expect(account).toMatchObject({ platform: 'instagram', username: 'postwire.bakery' });
  });

  it('no plaintext token appears anywhere: database, Kafka topics, logs', async () => {
    const tokens = stack.issuedTokens();
    expect(tokens.length).toBeGreaterThan(4);
    // Every column of every row, as JSON text: the tokens columns included.
    const textColumns = await stack.admin.query<{ dump: string }>(
      `SELECT coalesce(string_agg(row_to_json(a)::text, ' '), '') AS dump FROM accounts.social_media_accounts a`,
    );
    const outbox = await stack.admin.query<{ dump: string }>(`SELECT coalesce(string_agg(row_to_json(o)::text, ' '), '') AS dump FROM accounts.outbox o`);
    const everywhere = [textColumns.rows[0]?.dump ?? '', outbox.rows[0]?.dump ?? '', messages().join('\n'), stack.logLines.join('')];
    expect(everywhere[0]).toContain('enc:v1:');
    expect(messages().length).toBeGreaterThan(0);
    for (const token of tokens) {
      for (const haystack of everywhere) expect(haystack.includes(token)).toBe(false);
    }
  });
});
