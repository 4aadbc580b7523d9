import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type TokenCipher, columnContext, createTokenCipher } from '@postwire/crypto';
import {
  CONNECT_ATTEMPT_TTL_MS,
  CONNECT_SESSION_TTL_MS,
  type ConnectResultRecord,
  type ConnectSession,
  RESULT_COOKIE_MAX_LENGTH,
  codeChallengeOf,
  createNonceLedger,
  newConnectSession,
  openConnectAttempt,
  openConnectResult,
  openConnectSession,
  sealConnectAttempt,
  sealConnectResult,
  sealConnectSession,
} from '../src/domain/connect-session.ts';

const now = Date.UTC(2026, 10, 25, 12);
const newCipher = () => createTokenCipher({ activeKeyId: 'k1', keys: new Map([['k1', randomBytes(32)]]) });

function started(pkce = true) {
  return newConnectSession({ provider: 'facebook', organisationId: randomUUID(), userId: randomUUID(), pkce, now });
}

/** Seals `session` with whatever fields the test changed and opens it with its own nonce as the state. */
function reopened(cipher: TokenCipher, session: Record<string, unknown>) {
  const sealed = sealConnectSession(cipher, session as ConnectSession);
  return openConnectSession(cipher, sealed, { provider: 'facebook', state: String(session.nonce), now });
}

describe('connect session', () => {
  it('starts a flow for ten minutes with a 43-character nonce and, for PKCE, a 64-character verifier', () => {
    const organisationId = randomUUID();
    const userId = randomUUID();
    const session = newConnectSession({ provider: 'instagram', organisationId, userId, pkce: true, now });
    expect(session).toStrictEqual({
      nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      provider: 'instagram',
      organisationId,
      userId,
      codeVerifier: expect.stringMatching(/^[A-Za-z0-9_-]{64}$/),
      expiresAt: now + 600_000,
    });
    expect(CONNECT_SESSION_TTL_MS).toBe(600_000);
    expect(started().nonce).not.toBe(started().nonce);
  });

  it('carries the account a re-authorisation is for, and no verifier without PKCE', () => {
    const accountId = randomUUID();
    const session = newConnectSession({ provider: 'facebook', organisationId: randomUUID(), userId: randomUUID(), pkce: false, now, accountId });
    expect(session.accountId).toBe(accountId);
    expect('codeVerifier' in session).toBe(false);
    expect('accountId' in started()).toBe(false);
  });

  it('carries the returnTo it was started with, and none when it was not', () => {
    const returnTo = 'https://app.example.com/settings?tab=accounts';
    const session = newConnectSession({ provider: 'facebook', organisationId: randomUUID(), userId: randomUUID(), pkce: false, now, returnTo });
    expect(session.returnTo).toBe(returnTo);
    expect(reopened(newCipher(), session)).toEqual({ ok: true, session });
    expect('returnTo' in started()).toBe(false);
  });

  it('round-trips through a sealed cookie that does not reveal the verifier or the ids', () => {
    const cipher = newCipher();
    const session = { ...started(), accountId: randomUUID() };
    const sealed = sealConnectSession(cipher, session);
    expect(sealed).not.toContain(session.codeVerifier);
    expect(sealed).not.toContain(session.organisationId);
    expect(sealed).not.toContain(session.nonce);
    expect(openConnectSession(cipher, sealed, { provider: 'facebook', state: session.nonce, now })).toEqual({ ok: true, session });
    expect(openConnectSession(cipher, sealed, { provider: 'facebook', state: session.nonce, now: session.expiresAt - 1 })).toEqual({ ok: true, session });
  });

  it('binds the callback to the state it sent: another state, provider or an expired session is refused', () => {
    const cipher = newCipher();
    const session = started();
    const sealed = sealConnectSession(cipher, session);
    const open = (expected: { provider?: 'facebook' | 'instagram'; state?: string | undefined; now?: number }) =>
      openConnectSession(cipher, sealed, { provider: 'facebook', state: session.nonce, now, ...expected });
    expect(open({ state: started().nonce })).toEqual({ ok: false, reason: 'state-mismatch' });
    expect(open({ state: undefined })).toEqual({ ok: false, reason: 'state-mismatch' });
    expect(open({ state: '' })).toEqual({ ok: false, reason: 'state-mismatch' });
    // A state of another length is compared without throwing (timingSafeEqual needs equal lengths).
    expect(open({ state: session.nonce.slice(0, 42) })).toEqual({ ok: false, reason: 'state-mismatch' });
    expect(open({ state: `${session.nonce}A` })).toEqual({ ok: false, reason: 'state-mismatch' });
    expect(open({ provider: 'instagram' })).toEqual({ ok: false, reason: 'provider-mismatch' });
    expect(open({ now: session.expiresAt })).toEqual({ ok: false, reason: 'expired' });
    expect(open({ now: session.expiresAt + CONNECT_SESSION_TTL_MS })).toEqual({ ok: false, reason: 'expired' });
  });

  it('a missing, forged or tampered cookie is refused', () => {
    const cipher = newCipher();
    const session = started();
    const sealed = sealConnectSession(cipher, session);
    const expected = { provider: 'facebook' as const, state: session.nonce, now };
    expect(openConnectSession(cipher, undefined, expected)).toEqual({ ok: false, reason: 'missing' });
    expect(openConnectSession(cipher, '', expected)).toEqual({ ok: false, reason: 'missing' });
    expect(openConnectSession(cipher, 'not-a-cookie', expected)).toEqual({ ok: false, reason: 'invalid' });
    expect(openConnectSession(cipher, sealConnectSession(newCipher(), session), expected)).toEqual({ ok: false, reason: 'invalid' });
    expect(openConnectSession(cipher, `${sealed.slice(0, -3)}AAA`, expected)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('opens only what it sealed itself: the same session encrypted for another use is refused', () => {
    const cipher = newCipher();
    const session = started();
    const expected = { provider: 'facebook' as const, state: session.nonce, now };
    for (const context of ['', columnContext('social_media_accounts', randomUUID(), 'access_token')]) {
      expect(openConnectSession(cipher, cipher.encrypt(JSON.stringify(session), context), expected)).toEqual({ ok: false, reason: 'invalid' });
    }
  });

  it('refuses a sealed cookie whose content is not JSON or not a session', () => {
    const cipher = newCipher();
    const session = started();
    const forged = (content: string) =>
      openConnectSession(cipher, cipher.encrypt(content, 'gateway:connect-session'), { provider: 'facebook', state: session.nonce, now });
    expect(forged(JSON.stringify(session))).toEqual({ ok: true, session });
    expect(forged('not json')).toEqual({ ok: false, reason: 'invalid' });
    expect(forged('{"nonce":1}')).toEqual({ ok: false, reason: 'invalid' });
  });

  it('lets an unexpected failure of the cipher surface instead of calling the cookie invalid', () => {
    const cipher = newCipher();
    const session = started();
    const sealed = sealConnectSession(cipher, session);
    const broken: TokenCipher = {
      ...cipher,
      decrypt: () => {
        throw new RangeError('a bug, not a bad cookie');
      },
    };
    expect(() => openConnectSession(broken, sealed, { provider: 'facebook', state: session.nonce, now })).toThrow(RangeError);
  });

  it.each([
    ['a 42-character nonce', { nonce: 'n'.repeat(42) }],
    ['a 44-character nonce', { nonce: 'n'.repeat(44) }],
    ['a nonce with base64 characters', { nonce: `${'n'.repeat(41)}+/` }],
    ['a nonce with text before it', { nonce: ` ${'n'.repeat(43)}` }],
    ['a nonce with text after it', { nonce: `${'n'.repeat(43)} ` }],
    ['an unknown provider', { provider: 'myspace' }],
    ['an organisation that is not a UUID', { organisationId: 'acme' }],
    ['a user that is not a UUID', { userId: 'alice' }],
    ['a 63-character verifier', { codeVerifier: 'v'.repeat(63) }],
    ['a 65-character verifier', { codeVerifier: 'v'.repeat(65) }],
    ['a verifier with text after it', { codeVerifier: `${'v'.repeat(64)}=` }],
    ['a verifier with text before it', { codeVerifier: `=${'v'.repeat(64)}` }],
    ['an account that is not a UUID', { accountId: 'acct' }],
    ['a returnTo longer than 1024 characters', { returnTo: `https://app.example.com/${'a'.repeat(1001)}` }],
    ['a fractional expiry', { expiresAt: now + 0.5 + CONNECT_SESSION_TTL_MS }],
    ['no expiry', { expiresAt: undefined }],
  ])('refuses a sealed session with %s', (_what, change) => {
    const cipher = newCipher();
    expect(reopened(cipher, { ...started(), ...change })).toEqual({ ok: false, reason: 'invalid' });
  });

  it('accepts a sealed session whose nonce and verifier use the whole base64url alphabet', () => {
    const cipher = newCipher();
    const nonce = 'AZaz09_-'.repeat(5) + 'xyz';
    const session = { ...started(), nonce, codeVerifier: 'AZaz09_-'.repeat(8) };
    expect(reopened(cipher, session)).toEqual({ ok: true, session });
  });

  it('makes an RFC 7636 S256 challenge from its verifier', () => {
    // The example from RFC 7636 appendix B.
    expect(codeChallengeOf('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    expect(started(true).codeVerifier).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(started(false).codeVerifier).toBeUndefined();
  });
});

describe('connect attempt cookie', () => {
  const attempt = () => ({ attemptId: randomUUID(), provider: 'facebook' as const, expiresAt: now + CONNECT_ATTEMPT_TTL_MS, answerBy: now + 30_000 });

  it('opens for the same attempt and provider until it expires ten minutes on', () => {
    const cipher = newCipher();
    const sealed = attempt();
    const cookie = sealConnectAttempt(cipher, sealed);
    expect(CONNECT_ATTEMPT_TTL_MS).toBe(600_000);
    expect(cookie).not.toContain(sealed.attemptId);
    const expected = { attemptId: sealed.attemptId, provider: 'facebook' as const };
    expect(openConnectAttempt(cipher, cookie, { ...expected, now })).toEqual(sealed);
    expect(openConnectAttempt(cipher, cookie, { ...expected, now: sealed.expiresAt - 1 })).toEqual(sealed);
    expect(openConnectAttempt(cipher, cookie, { ...expected, now: sealed.expiresAt })).toBeUndefined();
    expect(openConnectAttempt(cipher, cookie, { ...expected, attemptId: randomUUID(), now })).toBeUndefined();
    expect(openConnectAttempt(cipher, cookie, { ...expected, provider: 'instagram', now })).toBeUndefined();
  });

  it("carries the flow's nonce, returnTo and account, so its outcome can be kept and sent back", () => {
    const cipher = newCipher();
    const sealed = { ...attempt(), nonce: 'n'.repeat(43), returnTo: 'https://app.example.com/', accountId: randomUUID() };
    expect(openConnectAttempt(cipher, sealConnectAttempt(cipher, sealed), { attemptId: sealed.attemptId, provider: 'facebook', now })).toEqual(sealed);
  });

  it('refuses a missing, forged or foreign cookie, and one whose content is not an attempt', () => {
    const cipher = newCipher();
    const sealed = attempt();
    const expected = { attemptId: sealed.attemptId, provider: 'facebook' as const, now };
    expect(openConnectAttempt(cipher, undefined, expected)).toBeUndefined();
    expect(openConnectAttempt(cipher, '', expected)).toBeUndefined();
    expect(openConnectAttempt(cipher, 'not-a-cookie', expected)).toBeUndefined();
    expect(openConnectAttempt(cipher, sealConnectAttempt(newCipher(), sealed), expected)).toBeUndefined();
    for (const context of ['', 'gateway:connect-session']) {
      expect(openConnectAttempt(cipher, cipher.encrypt(JSON.stringify(sealed), context), expected)).toBeUndefined();
    }
    expect(openConnectAttempt(cipher, cipher.encrypt(JSON.stringify(sealed), 'gateway:connect-attempt'), expected)).toEqual(sealed);
    expect(openConnectAttempt(cipher, cipher.encrypt('not json', 'gateway:connect-attempt'), expected)).toBeUndefined();
    for (const change of [
      { attemptId: 'a1' },
      { provider: 'myspace' },
      { expiresAt: now + 0.5 + CONNECT_ATTEMPT_TTL_MS },
      { answerBy: undefined },
      { nonce: 'n'.repeat(42) },
      { nonce: ` ${'n'.repeat(43)}` },
      { nonce: `${'n'.repeat(43)} ` },
      { returnTo: 'x'.repeat(1025) },
      { accountId: 'acct' },
    ]) {
      expect(openConnectAttempt(cipher, sealConnectAttempt(cipher, { ...sealed, ...change } as ReturnType<typeof attempt>), expected)).toBeUndefined();
    }
  });

  it('lets an unexpected failure of the cipher surface', () => {
    const cipher = newCipher();
    const sealed = attempt();
    const broken: TokenCipher = {
      ...cipher,
      decrypt: () => {
        throw new RangeError('a bug, not a bad cookie');
      },
    };
    expect(() => openConnectAttempt(broken, sealConnectAttempt(cipher, sealed), { attemptId: sealed.attemptId, provider: 'facebook', now })).toThrow(RangeError);
  });
});

describe('nonce ledger', () => {
  it('accepts a state once and refuses its replay', () => {
    const ledger = createNonceLedger();
    expect(ledger.consume('n1', now + 1000, now)).toBe(true);
    expect(ledger.consume('n1', now + 1000, now)).toBe(false);
    expect(ledger.consume('n2', now + 1000, now)).toBe(true);
  });

  it('refuses an expired nonce, also one it saw before it expired', () => {
    const ledger = createNonceLedger();
    expect(ledger.consume('late', now, now)).toBe(false);
    expect(ledger.consume('late', now - 1, now)).toBe(false);
    expect(ledger.consume('n1', now + 1000, now)).toBe(true);
    expect(ledger.consume('n1', now + 1000, now + 1000)).toBe(false);
    expect(ledger.consume('n1', now + 5000, now + 2000)).toBe(false);
  });

  it('stays bounded: when full of live nonces it forgets the oldest first, one at a time', () => {
    const ledger = createNonceLedger(3);
    for (const nonce of ['a', 'b', 'c']) expect(ledger.consume(nonce, now + 1000, now)).toBe(true);
    expect(ledger.consume('d', now + 1000, now)).toBe(true);
    // b, c and d are remembered; a, the oldest, was forgotten to make room.
    for (const nonce of ['b', 'c', 'd']) expect(ledger.consume(nonce, now + 1000, now)).toBe(false);
    expect(ledger.consume('a', now + 1000, now)).toBe(true);
  });

  it('when full, drops the nonces that have expired before any live one', () => {
    const ledger = createNonceLedger(2);
    expect(ledger.consume('live', now + 1000, now)).toBe(true);
    expect(ledger.consume('short', now + 10, now)).toBe(true);
    // At now + 10 'short' has expired: it makes room, so 'live' (the oldest) is kept.
    expect(ledger.consume('new', now + 1000, now + 10)).toBe(true);
    expect(ledger.consume('live', now + 1000, now + 10)).toBe(false);
    expect(ledger.consume('new', now + 1000, now + 10)).toBe(false);
  });
});

describe('connect result cookie', () => {
  const nonce = 'AZaz09_-'.repeat(5) + 'xyz';
  const attemptId = randomUUID();
  const record = (change: Partial<ConnectResultRecord> = {}): ConnectResultRecord => ({
    nonce,
    provider: 'instagram',
    returnTo: 'https://app.example.com/settings',
    status: 200,
    result: {
      outcome: 'connected',
      message: 'Connected 1 account.',
      socialAccountId: randomUUID(),
      grantedScopes: ['instagram_business_basic'],
      accounts: [{ id: randomUUID(), platform: 'instagram', accountType: 'business', username: 'postwire.studio' }],
      failures: [],
    },
    expiresAt: now + 600_000,
    ...change,
  });
  const byState = (state: string | undefined, at = now) => ({ provider: 'instagram' as const, state, now: at });

  it("opens for the flow's state or its attempt, for its provider, until it expires", () => {
    const cipher = newCipher();
    const kept = record({ attemptId });
    const sealed = sealConnectResult(cipher, kept);
    expect(sealed).toBeDefined();
    expect(sealed).not.toContain('postwire.studio');
    expect(openConnectResult(cipher, sealed, byState(nonce))).toEqual(kept);
    expect(openConnectResult(cipher, sealed, { provider: 'instagram', attemptId, now })).toEqual(kept);
    expect(openConnectResult(cipher, sealed, byState(nonce, kept.expiresAt - 1))).toEqual(kept);
    expect(openConnectResult(cipher, sealed, byState(nonce, kept.expiresAt))).toBeUndefined();
    expect(openConnectResult(cipher, sealed, { ...byState(nonce), provider: 'facebook' })).toBeUndefined();
    expect(openConnectResult(cipher, sealed, byState(`${nonce.slice(0, -1)}A`))).toBeUndefined();
    expect(openConnectResult(cipher, sealed, byState(undefined))).toBeUndefined();
    expect(openConnectResult(cipher, sealed, { provider: 'instagram', attemptId: randomUUID(), now })).toBeUndefined();
  });

  it('a result kept without an attempt or without a state is found only by what it has', () => {
    const cipher = newCipher();
    expect(openConnectResult(cipher, sealConnectResult(cipher, record()), { provider: 'instagram', attemptId, now })).toBeUndefined();
    const { nonce: _none, ...withoutNonce } = record({ attemptId });
    const sealed = sealConnectResult(cipher, withoutNonce);
    expect(openConnectResult(cipher, sealed, byState(nonce))).toBeUndefined();
    expect(openConnectResult(cipher, sealed, { provider: 'instagram', attemptId, now })).toEqual(withoutNonce);
  });

  it('refuses a missing, forged or foreign cookie, and one whose content is not a result', () => {
    const cipher = newCipher();
    const kept = record();
    expect(openConnectResult(cipher, undefined, byState(nonce))).toBeUndefined();
    expect(openConnectResult(cipher, '', byState(nonce))).toBeUndefined();
    expect(openConnectResult(cipher, 'not-a-cookie', byState(nonce))).toBeUndefined();
    expect(openConnectResult(cipher, sealConnectResult(newCipher(), kept), byState(nonce))).toBeUndefined();
    for (const context of ['', 'gateway:connect-session', 'gateway:connect-attempt']) {
      expect(openConnectResult(cipher, cipher.encrypt(JSON.stringify(kept), context), byState(nonce))).toBeUndefined();
    }
    expect(openConnectResult(cipher, cipher.encrypt('not json', 'gateway:connect-result'), byState(nonce))).toBeUndefined();
    const problem = { code: 'forbidden', title: 'Forbidden' };
    for (const change of [
      { status: 199 },
      { status: 600 },
      { provider: 'myspace' },
      { returnTo: 'x'.repeat(1025) },
      { accountId: 'acct' },
      { expiresAt: now + 0.5 },
      { result: { ...kept.result, outcome: 'maybe' } },
      { result: { ...kept.result, problem: { title: 'Forbidden' } } },
      { result: { ...kept.result, problem: { code: 'forbidden' } } },
      { result: { ...kept.result, problem: { ...problem, extensions: { nested: { a: 1 } } } } },
    ]) {
      expect(openConnectResult(cipher, sealConnectResult(cipher, { ...kept, ...change } as ConnectResultRecord), byState(nonce))).toBeUndefined();
    }
    // Found by its attempt, so that only the nonce's form is wrong.
    for (const wrong of [` ${nonce}`, `${nonce} `, `${nonce}x`, nonce.slice(1)]) {
      expect(openConnectResult(cipher, sealConnectResult(cipher, { ...kept, attemptId, nonce: wrong }), { provider: 'instagram', attemptId, now })).toBeUndefined();
    }
    expect(openConnectResult(cipher, sealConnectResult(cipher, { ...kept, attemptId }), { provider: 'instagram', attemptId, now })).toBeDefined();
  });

  it('keeps every outcome, and the problem a flow ended with (its code, title and scalar extensions)', () => {
    const cipher = newCipher();
    for (const outcome of ['connected', 'authorized', 'denied', 'failed'] as const) {
      const kept = record({ result: { ...record().result, outcome } });
      expect(openConnectResult(cipher, sealConnectResult(cipher, kept), byState(nonce))).toEqual(kept);
    }
    const failed = record({
      status: 502,
      result: { ...record().result, outcome: 'failed', problem: { code: 'meta-exchange-failed', title: 'Meta did not accept the login', extensions: { metaClass: 'transient', retries: 0, final: true } } },
    });
    expect(openConnectResult(cipher, sealConnectResult(cipher, failed), byState(nonce))).toEqual(failed);
  });

  it('keeps a record exactly as long as a cookie allows, whole or slimmed, and nothing one character longer', () => {
    const cipher = newCipher();
    const length = (kept: ConnectResultRecord) => cipher.encrypt(JSON.stringify(kept), 'gateway:connect-result').length;
    /** The record with `message` padded so that `measured(record)` is exactly `target` long (the padding and a returnTo of 1-3 characters are the knobs). */
    const sized = (base: ConnectResultRecord, measured: (kept: ConnectResultRecord) => number, target: number) => {
      for (const suffix of ['a', 'ab', 'abc']) {
        for (let padding = 0; padding < 4000; padding += 1) {
          const kept = { ...base, returnTo: `https://app.example.com/${suffix}`, result: { ...base.result, message: 'm'.repeat(padding) } };
          if (measured(kept) === target) return kept;
        }
      }
      throw new Error('no padding gives that length');
    };
    const whole = sized(record(), length, RESULT_COOKIE_MAX_LENGTH);
    expect(openConnectResult(cipher, sealConnectResult(cipher, whole), byState(nonce))).toEqual(whole);

    const slimmed = (kept: ConnectResultRecord): ConnectResultRecord => {
      const { grantedScopes: _dropped, ...result } = kept.result;
      return { ...kept, result: { ...result, accounts: result.accounts.map((account) => ({ ...account, username: null })), failures: result.failures.map((failure) => ({ ...failure, message: '' })) } };
    };
    const named = record({ result: { ...record().result, accounts: Array.from({ length: 4 }, () => ({ id: randomUUID(), platform: 'facebook', accountType: 'page', username: 'n'.repeat(90) })) } });
    const atLimit = sized(named, (kept) => length(slimmed(kept)), RESULT_COOKIE_MAX_LENGTH);
    expect(length(atLimit)).toBeGreaterThan(RESULT_COOKIE_MAX_LENGTH);
    expect(openConnectResult(cipher, sealConnectResult(cipher, atLimit), byState(nonce))).toEqual(slimmed(atLimit));
    const over = sized(named, (kept) => length(slimmed(kept)), RESULT_COOKIE_MAX_LENGTH + 1);
    expect(sealConnectResult(cipher, over)).toBeUndefined();
  });

  it('lets an unexpected failure of the cipher surface', () => {
    const cipher = newCipher();
    const broken: TokenCipher = { ...cipher, decrypt: () => { throw new RangeError('a bug, not a bad cookie'); } };
    expect(() => openConnectResult(broken, sealConnectResult(cipher, record()), byState(nonce))).toThrow(RangeError);
  });

  it('fits in a cookie: too long, it drops the names, scopes and messages and keeps the ids and the outcome; longer still, nothing is kept', () => {
    const cipher = newCipher();
    const failures = Array.from({ length: 8 }, () => ({ accountId: randomUUID(), message: 'A reason a person can act on. '.repeat(4), missingScopes: ['instagram_business_content_publish'] }));
    const accounts = Array.from({ length: 8 }, () => ({ id: randomUUID(), platform: 'facebook', accountType: 'page', username: 'A Facebook Page with a long name' }));
    const large = record({ status: 200, result: { ...record().result, accounts, failures, grantedScopes: ['pages_show_list', 'pages_manage_posts', 'business_management'] } });
    const sealed = sealConnectResult(cipher, large);
    expect(sealed?.length).toBeLessThanOrEqual(RESULT_COOKIE_MAX_LENGTH);
    const opened = openConnectResult(cipher, sealed, byState(nonce));
    expect(opened?.result.grantedScopes).toBeUndefined();
    expect(opened?.result.accounts).toEqual(accounts.map((account) => ({ ...account, username: null })));
    expect(opened?.result.failures).toEqual(failures.map((failure) => ({ ...failure, message: '' })));
    expect(opened?.result.outcome).toBe('connected');
    expect(opened?.returnTo).toBe(large.returnTo);

    const many = Array.from({ length: 60 }, () => ({ id: randomUUID(), platform: 'facebook', accountType: null, username: null }));
    expect(sealConnectResult(cipher, record({ result: { ...record().result, accounts: many } }))).toBeUndefined();
    // Small enough as it is: kept whole.
    expect(openConnectResult(cipher, sealConnectResult(cipher, record()), byState(nonce))?.result.accounts[0]?.username).toBe('postwire.studio');
  });
});
