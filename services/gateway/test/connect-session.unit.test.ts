import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenCipher } from '@postwire/crypto';
import {
  CONNECT_SESSION_TTL_MS,
  codeChallengeOf,
  createNonceLedger,
  newConnectSession,
  openConnectSession,
  sealConnectSession,
} from '../src/domain/connect-session.ts';

const cipher = createTokenCipher({ activeKeyId: 'k1', keys: new Map([['k1', randomBytes(32)]]) });
const now = Date.UTC(2026, 10, 25, 12);

function started(pkce = true) {
  return newConnectSession({ provider: 'facebook', organisationId: randomUUID(), userId: randomUUID(), pkce, now });
}

describe('connect session', () => {
  it('round-trips through a sealed cookie that does not reveal the verifier or the ids', () => {
    const session = started();
    const sealed = sealConnectSession(cipher, session);
    expect(sealed).not.toContain(session.codeVerifier);
    expect(sealed).not.toContain(session.organisationId);
    expect(openConnectSession(cipher, sealed, { provider: 'facebook', state: session.nonce, now })).toEqual({ ok: true, session });
  });

  it('binds the callback to the state it sent: another state, provider or an expired session is refused', () => {
    const session = started();
    const sealed = sealConnectSession(cipher, session);
    expect(openConnectSession(cipher, sealed, { provider: 'facebook', state: started().nonce, now })).toEqual({ ok: false, reason: 'state-mismatch' });
    expect(openConnectSession(cipher, sealed, { provider: 'facebook', state: undefined, now })).toEqual({ ok: false, reason: 'state-mismatch' });
    expect(openConnectSession(cipher, sealed, { provider: 'instagram', state: session.nonce, now })).toEqual({ ok: false, reason: 'provider-mismatch' });
    expect(openConnectSession(cipher, sealed, { provider: 'facebook', state: session.nonce, now: now + CONNECT_SESSION_TTL_MS })).toEqual({ ok: false, reason: 'expired' });
  });

  it('a missing, forged or tampered cookie is refused', () => {
    const session = started();
    const sealed = sealConnectSession(cipher, session);
    const expected = { provider: 'facebook' as const, state: session.nonce, now };
    expect(openConnectSession(cipher, undefined, expected)).toEqual({ ok: false, reason: 'missing' });
    const otherKey = createTokenCipher({ activeKeyId: 'k1', keys: new Map([['k1', randomBytes(32)]]) });
    expect(openConnectSession(cipher, sealConnectSession(otherKey, session), expected)).toEqual({ ok: false, reason: 'invalid' });
    expect(openConnectSession(cipher, `${sealed.slice(0, -3)}AAA`, expected)).toEqual({ ok: false, reason: 'invalid' });
    expect(openConnectSession(cipher, cipher.encrypt('{"nonce":1}', 'gateway:connect-session'), expected)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('makes an RFC 7636 S256 challenge from its verifier', () => {
    // The example from RFC 7636 appendix B.
    expect(codeChallengeOf('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    expect(started(true).codeVerifier).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(started(false).codeVerifier).toBeUndefined();
  });
});

describe('nonce ledger', () => {
  it('accepts a state once and refuses its replay', () => {
    const ledger = createNonceLedger();
    expect(ledger.consume('n1', now + 1000, now)).toBe(true);
    expect(ledger.consume('n1', now + 1000, now)).toBe(false);
    expect(ledger.consume('n2', now + 1000, now)).toBe(true);
  });

  it('stays bounded, dropping expired nonces first', () => {
    const ledger = createNonceLedger(2);
    ledger.consume('old', now - 1, now - 10);
    ledger.consume('live', now + 1000, now);
    expect(ledger.consume('new', now + 1000, now)).toBe(true);
    expect(ledger.consume('live', now + 1000, now)).toBe(false);
  });
});
