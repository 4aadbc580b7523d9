import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStream, startReceiver, uniqueName, verifiesPerSpec } from '@postwire/testing';
import { type Member, eventually, startStack } from './stack.ts';

/**
 * Live events on the running stack: an account connected through Facebook Login makes the accounts
 * service announce it, and the gateway streams it (SSE, over a real socket) and delivers it as a signed
 * webhook, to the connecting organisation only, never with its token.
 */
describe('live events end to end: accounts → Kafka → gateway → SSE stream and signed webhook', () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  let alice: Member;
  let outsider: Member;
  const closers: (() => unknown)[] = [];

  beforeAll(async () => {
    stack = await startStack({
      gatewayEnvironment: { GATEWAY_WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', GATEWAY_WEBHOOK_CONSUMER_GROUP: uniqueName('e2e-webhooks'), GATEWAY_WEBHOOK_POLL_MS: '100' },
    });
    alice = await stack.member();
    outsider = await stack.member();
    // Ready once its live-event consumers have joined (they start at the latest offsets).
    await eventually(async () => ((await stack.gateway.inject('/readyz')).statusCode === 200 ? true : undefined), 'the gateway to be ready', { timeoutMs: 60_000 });
  });

  afterAll(async () => {
    for (const close of closers) await close();
    await stack.stop();
  });

  it("the connecting organisation's stream and endpoint get account.connected, signed and without tokens; another organisation gets nothing", async () => {
    const stream = async (member: Member) => {
      const opened = await openStream(`${stack.gatewayUrl}/v1/events?types=account.*`, { authorization: member.authorization });
      closers.push(opened.close);
      await eventually(() => (opened.messages.some((message) => message.comment === 'connected') ? true : undefined), 'the stream to open');
      return opened;
    };
    const register = async (member: Member) => {
      const receiver = await startReceiver();
      closers.push(receiver.close);
      const answer = await stack.gateway.inject({
        method: 'POST',
        url: '/v1/webhooks/endpoints',
        headers: { authorization: member.authorization },
        payload: { url: receiver.url, eventTypes: ['account.connected'] },
      });
      expect(answer.statusCode, answer.body).toBe(201);
      return { receiver, endpoint: answer.json<{ id: string; secret: string }>() };
    };
    const alicesStream = await stream(alice);
    const outsidersStream = await stream(outsider);
    const alices = await register(alice);
    const outsiders = await register(outsider);

    await stack.connectFacebook(alice);

    // Two Pages and their two Instagram accounts.
    const streamed = await eventually(() => {
      const connected = alicesStream.events().filter((message) => message.event === 'account.connected');
      return connected.length === 4 ? connected : undefined;
    }, 'four account.connected events on the stream', { timeoutMs: 30_000 });
    const delivered = await eventually(() => (alices.receiver.received.length === 4 ? alices.receiver.received : undefined), 'four webhooks', { timeoutMs: 30_000 });

    expect(new Set(delivered.map((request) => request.headers['webhook-id']))).toEqual(new Set(streamed.map((message) => message.id)));
    for (const request of delivered) expect(verifiesPerSpec(alices.endpoint.secret, request.headers, request.body)).toBe(true);
    const usernames = streamed.map((message) => JSON.parse(message.data ?? '{}') as { username: string; accessToken?: string });
    expect(usernames.map((data) => data.username).sort()).toEqual(['Postwire Bakery', 'Postwire Studio', 'postwire.bakery', 'postwire.studio']);
    expect(usernames.every((data) => data.accessToken === undefined)).toBe(true);
    const everything = [...alicesStream.messages.map((message) => message.data ?? ''), ...delivered.map((request) => request.body)].join('\n');
    expect(everything).not.toContain('enc:v1');
    for (const token of stack.issuedTokens()) expect(everything).not.toContain(token);

    expect(outsidersStream.events()).toEqual([]);
    expect(outsiders.receiver.received).toEqual([]);
  });
});
