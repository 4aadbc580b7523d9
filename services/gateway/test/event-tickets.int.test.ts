import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountEvents, postEvents } from '@postwire/contracts';
import { type TokenCipher, createTokenCipher } from '@postwire/crypto';
import type { EventProducer } from '@postwire/kafka';
import { eventually, openStream, uniqueName } from '@postwire/testing';
import { newConnectSession, sealConnectSession } from '../src/domain/connect-session.ts';
import { issueStreamTicket } from '../src/domain/stream-ticket.ts';
import { type Member, buildGateway, createMembers, ownersProducer, postPublished, testEnvironment } from './helpers.ts';

type Ticket = { readonly ticket: string; readonly url: string; readonly types: string | null; readonly expiresAt: string };

describe('stream tickets: GET /v1/events from a browser, without a bearer token', () => {
  let members: Awaited<ReturnType<typeof createMembers>>;
  let gateway: FastifyInstance;
  let other: FastifyInstance;
  let cipher: TokenCipher;
  let logLines: string[];
  let base: string;
  let otherBase: string;
  let producer: EventProducer;
  let alice: Member;
  let bob: Member;
  const streams: { close(): void }[] = [];

  beforeAll(async () => {
    members = await createMembers();
    alice = await members.member();
    bob = await members.member();
    // Two instances of one deployment: the same database and keys, consumer groups of their own.
    const environment = testEnvironment(members.url, { GATEWAY_EVENTS_HEARTBEAT_MS: '1000' });
    let config;
    ({ gateway, config, logLines } = await buildGateway(environment));
    ({ gateway: other } = await buildGateway({ ...environment, GATEWAY_INSTANCE_ID: uniqueName('gateway-test'), GATEWAY_WEBHOOK_CONSUMER_GROUP: uniqueName('gateway-webhooks-test') }));
    cipher = createTokenCipher(config.keyRing);
    base = await gateway.listen({ host: '127.0.0.1', port: 0 });
    otherBase = await other.listen({ host: '127.0.0.1', port: 0 });
    producer = await ownersProducer(gateway);
  }, 120_000);

  afterAll(async () => {
    for (const stream of streams) stream.close();
    await producer?.disconnect();
    await other?.close();
    await gateway?.close();
    await members?.close();
  });

  const disconnected = (organisationId: string) => ({
    type: 'account.disconnected' as const,
    data: { socialAccountId: randomUUID(), platform: 'facebook' as const, reason: 'user-request' as const, deleted: false, disconnectedAt: '2026-03-08T14:00:00.000Z' },
    metadata: { organisationId, id: randomUUID() },
  });

  const ticketFor = async (member: Member, body?: { types?: string }): Promise<Ticket> => {
    const answer = await gateway.inject({ method: 'POST', url: '/v1/events/tickets', headers: { authorization: member.authorization }, ...(body ? { payload: body } : {}) });
    expect(answer.statusCode, answer.body).toBe(200);
    return answer.json<Ticket>();
  };

  /** Opens the stream as a browser would: the ticket in the URL, no Authorization header. */
  const open = async (url: string, at = base, headers: Record<string, string> = {}) => {
    const opened = await openStream(`${at}${url}`, headers);
    streams.push(opened);
    await eventually(() => (opened.messages.some((message) => message.comment === 'connected') ? true : undefined), 'the stream to open');
    return opened;
  };

  const refused = async (url: string, headers: Record<string, string> = {}) => {
    const answer = await gateway.inject({ method: 'GET', url, headers });
    expect(answer.headers['content-type']).toContain('application/problem+json');
    return answer;
  };

  it('issues a ticket for a minute that is never cached, and refuses unknown types and callers without a token', async () => {
    const before = Date.now();
    const answer = await gateway.inject({ method: 'POST', url: '/v1/events/tickets', headers: { authorization: alice.authorization }, payload: { types: ' post.* ,account.connected' } });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    const ticket = answer.json<Ticket>();
    expect(ticket).toStrictEqual({ ticket: expect.stringMatching(/^enc:v1:/), url: `/v1/events?ticket=${encodeURIComponent(ticket.ticket)}`, types: 'account.connected,post.*', expiresAt: expect.any(String) });
    const expiresIn = Date.parse(ticket.expiresAt) - before;
    expect(expiresIn).toBeGreaterThanOrEqual(60_000);
    expect(expiresIn).toBeLessThan(70_000);
    // Nothing in it can be read.
    expect(ticket.ticket).not.toContain(alice.userId);

    expect((await ticketFor(alice)).types).toBeNull();
    const unknown = await gateway.inject({ method: 'POST', url: '/v1/events/tickets', headers: { authorization: alice.authorization }, payload: { types: 'post.exploded' } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ code: 'unknown-event-type', errors: [{ location: 'body', field: 'types' }] });
    const anonymous = await gateway.inject({ method: 'POST', url: '/v1/events/tickets' });
    expect(anonymous.statusCode).toBe(401);
    // A ticket is no way into anything else, the ticket route included.
    const withTicket = await gateway.inject({ method: 'POST', url: `/v1/events/tickets?ticket=${encodeURIComponent(ticket.ticket)}` });
    expect(withTicket.statusCode).toBe(401);
    expect((await gateway.inject({ method: 'GET', url: `/v1/me?ticket=${encodeURIComponent(ticket.ticket)}` })).statusCode).toBe(401);
  });

  it("opens the organisation's stream with a ticket in place of the bearer token; another organisation's ticket sees none of it", async () => {
    const alices = await open((await ticketFor(alice)).url);
    const bobs = await open((await ticketFor(bob)).url);
    expect(alices.status()).toBe(200);
    expect(alices.headers()['content-type']).toBe('text/event-stream; charset=utf-8');
    // The headers hooks set before the stream took over are sent with it (CORS for a web origin is one).
    expect(alices.headers()['x-correlation-id']).toMatch(/^[0-9a-f]{32}$/);

    const post = postPublished(alice.organisationId);
    const bobsPost = postPublished(bob.organisationId);
    await producer.publish(postEvents, [post, bobsPost]);
    await eventually(() => (alices.events().length >= 1 && bobs.events().length >= 1 ? true : undefined), 'both organisations\' events');
    expect(alices.events().map((message) => message.id)).toEqual([post.metadata.id]);
    expect(bobs.events().map((message) => message.id)).toEqual([bobsPost.metadata.id]);
  });

  it("keeps to the ticket's types: the URL may repeat them, not change them, and a refused request leaves the ticket unused", async () => {
    const ticket = await ticketFor(alice, { types: 'account.*' });
    const changed = await refused(`${ticket.url}&types=post.*`);
    expect(changed.statusCode).toBe(400);
    expect(changed.json()).toMatchObject({ code: 'ticket-types-mismatch' });
    const stream = await open(`${ticket.url}&types=${encodeURIComponent('account.*')}`);
    const all = await open((await ticketFor(alice)).url);
    const post = postPublished(alice.organisationId);
    const gone = disconnected(alice.organisationId);
    await producer.publish(postEvents, [post]);
    await producer.publish(accountEvents, [gone]);
    // Both streams hear from the same hub: once the unfiltered one has both events, the filtered one has had its chance.
    await eventually(() => (all.events().length >= 2 ? true : undefined), 'both events on the unfiltered stream');
    await eventually(() => (stream.events().length >= 1 ? true : undefined), 'the account event on the filtered stream');
    expect(stream.events().map((message) => message.id)).toEqual([gone.metadata.id]);
  });

  it('opens one stream per ticket, on whichever instance redeems it first', async () => {
    const ticket = await ticketFor(alice);
    // Issued by one instance, opened on another: the keys are the deployment's, nothing else is shared.
    const onOther = await open(ticket.url, otherBase);
    expect(onOther.status()).toBe(200);
    for (const target of [gateway, other]) {
      const again = await target.inject({ method: 'GET', url: ticket.url });
      expect(again.statusCode).toBe(401);
      expect(again.json()).toMatchObject({ code: 'unauthorized', detail: expect.stringContaining('used already') });
      expect(again.headers['www-authenticate']).toMatch(/^Bearer realm="postwire", error="invalid_token"/);
    }
  });

  it('refuses an expired ticket, a tampered one, one sealed for something else or with other keys, with a 401 problem', async () => {
    const expired = issueStreamTicket(cipher, { userId: alice.userId, organisationId: alice.organisationId, types: null, now: Date.now() - 60_001 }).sealed;
    const answer = await refused(`/v1/events?ticket=${encodeURIComponent(expired)}`);
    expect(answer.statusCode).toBe(401);
    expect(answer.json()).toMatchObject({ status: 401, detail: expect.stringContaining('expired'), instance: '/v1/events' });
    expect(answer.body).not.toContain(expired);

    const { ticket } = await ticketFor(alice);
    const parts = ticket.split(':');
    const body = parts[4] ?? '';
    const tampered = [...parts.slice(0, 4), `${body.startsWith('A') ? 'B' : 'A'}${body.slice(1)}`, parts[5]].join(':');
    const connectCookie = sealConnectSession(cipher, newConnectSession({ provider: 'facebook', userId: alice.userId, organisationId: alice.organisationId, pkce: false, now: Date.now() }));
    const otherKeys = issueStreamTicket(createTokenCipher({ activeKeyId: 'test-1', keys: new Map([['test-1', Buffer.alloc(32, 1)]]) }), {
      userId: alice.userId,
      organisationId: alice.organisationId,
      types: null,
      now: Date.now(),
    }).sealed;
    for (const [label, value] of [['tampered', tampered], ['connect cookie', connectCookie], ['other keys', otherKeys], ['garbage', 'x'], ['bearer token', alice.authorization.slice(7)]]) {
      const refusal = await refused(`/v1/events?ticket=${encodeURIComponent(value ?? '')}`);
      expect({ label, status: refusal.statusCode, detail: refusal.json().detail }).toEqual({ label, status: 401, detail: expect.stringContaining('not valid') });
    }
    // The untouched ticket still works: nothing above used it.
    expect((await open(`/v1/events?ticket=${encodeURIComponent(ticket)}`)).status()).toBe(200);
  });

  it("checks the user still belongs to the ticket's organisation when the stream opens", async () => {
    const carol = await members.member();
    // Sealed as the gateway seals them; the gateway has not seen carol yet, so no membership is cached.
    const ticket = issueStreamTicket(cipher, { userId: carol.userId, organisationId: carol.organisationId, types: null, now: Date.now() }).sealed;
    await members.leave(carol.userId);
    const answer = await gateway.inject({ method: 'GET', url: `/v1/events?ticket=${encodeURIComponent(ticket)}` });
    expect(answer.statusCode).toBe(403);
    expect(answer.json()).toMatchObject({ code: 'forbidden' });
  });

  it('refuses a request that carries a bearer token and a ticket', async () => {
    const { url } = await ticketFor(alice);
    const answer = await refused(url, { authorization: alice.authorization });
    expect(answer.statusCode).toBe(400);
    expect(answer.json()).toMatchObject({ code: 'ambiguous-credentials' });
  });

  it('resumes after `lastEventId` in the URL (a new EventSource cannot send Last-Event-ID); the header wins when both are sent', async () => {
    const live = await open((await ticketFor(alice)).url);
    const events = [postPublished(alice.organisationId), postPublished(alice.organisationId), postPublished(alice.organisationId)];
    // One after another: each its own partition key, so order only by sending them in turn.
    for (const event of events) {
      await producer.publish(postEvents, [event]);
      await eventually(() => (live.events().some((message) => message.id === event.metadata.id) ? true : undefined), 'the event live');
    }
    const [first, second, third] = events.map((event) => event.metadata.id);
    const fromUrl = await open(`${(await ticketFor(alice)).url}&lastEventId=${first}`);
    expect(fromUrl.events().map((message) => message.id)).toEqual([second, third]);
    const headerWins = await open(`${(await ticketFor(alice)).url}&lastEventId=${first}`, base, { 'last-event-id': second ?? '' });
    expect(headerWins.events().map((message) => message.id)).toEqual([third]);
    const notAnId = await refused(`${(await ticketFor(alice)).url}&lastEventId=not-an-event-id`);
    expect(notAnId.statusCode).toBe(400);
  });

  it('never writes a ticket to the log', async () => {
    const { ticket, url } = await ticketFor(alice);
    await open(url);
    await gateway.inject({ method: 'GET', url });
    const expired = issueStreamTicket(cipher, { userId: alice.userId, organisationId: alice.organisationId, types: null, now: Date.now() - 120_000 }).sealed;
    await gateway.inject({ method: 'GET', url: `/v1/events?ticket=${encodeURIComponent(expired)}` });
    const log = logLines.join('\n');
    // The request lines were logged, the tickets in them were not.
    expect(log).toContain('/v1/events?ticket=%5Bredacted%5D');
    for (const sealed of [ticket, expired]) {
      const body = sealed.split(':')[4] ?? '';
      expect(body.length).toBeGreaterThan(40);
      expect(log).not.toContain(body);
    }
  });
});
