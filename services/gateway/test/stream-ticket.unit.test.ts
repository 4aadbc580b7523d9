import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type TokenCipher, createTokenCipher } from '@postwire/crypto';
import { STREAM_TICKET_TTL_MS, issueStreamTicket, openStreamTicket } from '../src/domain/stream-ticket.ts';
import { sealConnectSession, newConnectSession } from '../src/domain/connect-session.ts';

const now = Date.UTC(2026, 11, 2, 10);
const newCipher = () => createTokenCipher({ activeKeyId: 'k1', keys: new Map([['k1', randomBytes(32)]]) });
const caller = () => ({ userId: randomUUID(), organisationId: randomUUID() });

describe('stream tickets', () => {
  it('name the user, organisation and types for a minute, sealed so nothing of them shows', () => {
    const cipher = newCipher();
    const who = caller();
    const { ticket, sealed } = issueStreamTicket(cipher, { ...who, types: 'post.*', now });
    expect(ticket).toStrictEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), ...who, types: 'post.*', expiresAt: now + 60_000 });
    expect(STREAM_TICKET_TTL_MS).toBe(60_000);
    expect(sealed).toMatch(/^enc:v1:k1:/);
    for (const shown of [who.userId, who.organisationId, 'post.*']) expect(sealed).not.toContain(shown);
    expect(openStreamTicket(cipher, sealed, now)).toStrictEqual({ ok: true, ticket });
    // Each ticket is one of its own.
    expect(issueStreamTicket(cipher, { ...who, types: null, now }).ticket.id).not.toBe(ticket.id);
  });

  it('open until the moment they expire, not from then on', () => {
    const cipher = newCipher();
    const { ticket, sealed } = issueStreamTicket(cipher, { ...caller(), types: null, now });
    expect(openStreamTicket(cipher, sealed, now + 59_999)).toStrictEqual({ ok: true, ticket });
    expect(openStreamTicket(cipher, sealed, now + 60_000)).toStrictEqual({ ok: false, reason: 'expired' });
    expect(openStreamTicket(cipher, sealed, now + 3_600_000)).toStrictEqual({ ok: false, reason: 'expired' });
  });

  it('are refused when tampered with, sealed with another key, or sealed for something else', () => {
    const cipher = newCipher();
    const { sealed } = issueStreamTicket(cipher, { ...caller(), types: null, now });
    const parts = sealed.split(':');
    const body = parts[4] ?? '';
    const flipped = [...parts.slice(0, 4), `${body.startsWith('A') ? 'B' : 'A'}${body.slice(1)}`, parts[5]].join(':');
    const invalid = { ok: false, reason: 'invalid' };
    expect(openStreamTicket(cipher, flipped, now)).toStrictEqual(invalid);
    expect(openStreamTicket(newCipher(), sealed, now)).toStrictEqual(invalid);
    expect(openStreamTicket(cipher, 'garbage', now)).toStrictEqual(invalid);
    expect(openStreamTicket(cipher, '', now)).toStrictEqual(invalid);
    // A connect cookie is sealed with the same keys under another context: no ticket.
    const cookie = sealConnectSession(cipher, newConnectSession({ provider: 'facebook', ...caller(), pkce: false, now }));
    expect(openStreamTicket(cipher, cookie, now)).toStrictEqual(invalid);
    // Sealed under the ticket context but not a ticket's shape (JSON or not).
    const context = 'gateway:events-stream-ticket';
    expect(openStreamTicket(cipher, cipher.encrypt('{"id":"x"}', context), now)).toStrictEqual(invalid);
    expect(openStreamTicket(cipher, cipher.encrypt('not json', context), now)).toStrictEqual(invalid);
    const extra = { ...issueStreamTicket(cipher, { ...caller(), types: null, now }).ticket, role: 'admin' };
    expect(openStreamTicket(cipher, cipher.encrypt(JSON.stringify(extra), context), now)).toStrictEqual(invalid);
    // The context is part of the format every instance of a deployment shares: a ticket is what is sealed under it.
    const { ticket } = issueStreamTicket(cipher, { ...caller(), types: 'post.*', now });
    expect(openStreamTicket(cipher, cipher.encrypt(JSON.stringify(ticket), context), now)).toStrictEqual({ ok: true, ticket });
    expect(openStreamTicket(cipher, cipher.encrypt(JSON.stringify(ticket), ''), now)).toStrictEqual(invalid);
  });

  it('let a failure that is not about the ticket through, rather than calling the ticket invalid', () => {
    const broken: TokenCipher = { ...newCipher(), decrypt: () => { throw new RangeError('the key store is unreachable'); } };
    expect(() => openStreamTicket(broken, 'enc:v1:k1:AAAAAAAAAAAAAAAA:abc:BBBBBBBBBBBBBBBBBBBBBB', now)).toThrow(RangeError);
  });
});
