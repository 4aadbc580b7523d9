import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenCipher } from '@postwire/crypto';
import { CONNECT_TICKET_TTL_MS, PAGE_CONNECT_TICKET_TTL_MS, issueConnectTicket, openConnectTicket } from '../src/domain/connect-ticket.ts';
import { issueStreamTicket } from '../src/domain/stream-ticket.ts';

const now = Date.UTC(2026, 11, 2, 11);
const newCipher = () => createTokenCipher({ activeKeyId: 'k1', keys: new Map([['k1', randomBytes(32)]]) });
const who = () => ({ userId: randomUUID(), organisationId: randomUUID() });
const RETURN_TO = 'https://app.example.com/settings/accounts';

describe('connect tickets', () => {
  it("name the user, organisation, provider and the flow's returnTo and account, sealed so nothing of them shows", () => {
    const cipher = newCipher();
    const caller = who();
    const accountId = randomUUID();
    const { ticket, sealed } = issueConnectTicket(cipher, { ...caller, provider: 'instagram', returnTo: RETURN_TO, accountId, now, ttlMs: CONNECT_TICKET_TTL_MS });
    expect(ticket).toStrictEqual({ ...caller, provider: 'instagram', returnTo: RETURN_TO, accountId, expiresAt: now + 120_000 });
    expect(CONNECT_TICKET_TTL_MS).toBe(120_000);
    expect(PAGE_CONNECT_TICKET_TTL_MS).toBe(600_000);
    expect(sealed).toMatch(/^enc:v1:k1:/);
    for (const shown of [caller.userId, caller.organisationId, 'instagram', 'app.example.com', accountId]) expect(sealed).not.toContain(shown);
    expect(openConnectTicket(cipher, sealed, { provider: 'instagram', now })).toStrictEqual({ ok: true, ticket });
  });

  it('leave out a returnTo and an account the flow does not have', () => {
    const cipher = newCipher();
    const caller = who();
    const { ticket, sealed } = issueConnectTicket(cipher, { ...caller, provider: 'facebook', returnTo: undefined, accountId: undefined, now, ttlMs: 1000 });
    expect(ticket).toStrictEqual({ ...caller, provider: 'facebook', expiresAt: now + 1000 });
    expect(openConnectTicket(cipher, sealed, { provider: 'facebook', now })).toStrictEqual({ ok: true, ticket });
  });

  it('open until the moment they expire, not from then on', () => {
    const cipher = newCipher();
    const { ticket, sealed } = issueConnectTicket(cipher, { ...who(), provider: 'facebook', now, ttlMs: CONNECT_TICKET_TTL_MS });
    expect(openConnectTicket(cipher, sealed, { provider: 'facebook', now: now + 119_999 })).toStrictEqual({ ok: true, ticket });
    expect(openConnectTicket(cipher, sealed, { provider: 'facebook', now: now + 120_000 })).toStrictEqual({ ok: false, reason: 'expired' });
    expect(openConnectTicket(cipher, sealed, { provider: 'facebook', now: now + 3_600_000 })).toStrictEqual({ ok: false, reason: 'expired' });
  });

  it('are refused for another provider, tampered with, sealed with another key, or when they are a stream ticket', () => {
    const cipher = newCipher();
    const caller = who();
    const { sealed } = issueConnectTicket(cipher, { ...caller, provider: 'facebook', now, ttlMs: CONNECT_TICKET_TTL_MS });
    const invalid = { ok: false, reason: 'invalid' };
    expect(openConnectTicket(cipher, sealed, { provider: 'instagram', now })).toStrictEqual(invalid);
    const parts = sealed.split(':');
    const body = parts[4] ?? '';
    const flipped = [...parts.slice(0, 4), `${body.startsWith('A') ? 'B' : 'A'}${body.slice(1)}`, parts[5]].join(':');
    expect(openConnectTicket(cipher, flipped, { provider: 'facebook', now })).toStrictEqual(invalid);
    expect(openConnectTicket(newCipher(), sealed, { provider: 'facebook', now })).toStrictEqual(invalid);
    expect(openConnectTicket(cipher, issueStreamTicket(cipher, { ...caller, types: null, now }).sealed, { provider: 'facebook', now })).toStrictEqual(invalid);
    expect(openConnectTicket(cipher, '', { provider: 'facebook', now })).toStrictEqual(invalid);
    // The context is part of the format every instance of a deployment shares: a ticket is what is sealed under it.
    const { ticket } = issueConnectTicket(cipher, { ...caller, provider: 'facebook', now, ttlMs: 1000 });
    expect(openConnectTicket(cipher, cipher.encrypt(JSON.stringify(ticket), 'gateway:connect-ticket'), { provider: 'facebook', now })).toStrictEqual({ ok: true, ticket });
    expect(openConnectTicket(cipher, cipher.encrypt(JSON.stringify(ticket), ''), { provider: 'facebook', now })).toStrictEqual(invalid);
    // Another field than a ticket's (strict): not a ticket.
    expect(openConnectTicket(cipher, cipher.encrypt(JSON.stringify({ ...ticket, role: 'admin' }), 'gateway:connect-ticket'), { provider: 'facebook', now })).toStrictEqual(invalid);
  });
});
