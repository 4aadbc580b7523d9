import { describe, expect, it } from 'vitest';
import { OUTCOME_PARAMETERS, RETURN_TO_MAX_LENGTH, checkReturnTo, returnToRefusal, returnToWithOutcome } from '../src/domain/connect-return.ts';
import { REQUESTED_SCOPES, SCOPE_WORDS, SUPPORTS_PKCE, scopeInWords } from '../src/domain/scopes.ts';

const ORIGINS = ['https://app.example.com', 'http://localhost:5173'];

describe('returnTo', () => {
  it.each([
    ['https://app.example.com/settings/accounts', 'https://app.example.com/settings/accounts'],
    ['https://app.example.com', 'https://app.example.com/'],
    ['https://APP.example.com:443/a?tab=1#top', 'https://app.example.com/a?tab=1#top'],
    ['http://localhost:5173/connected', 'http://localhost:5173/connected'],
  ])('accepts %s on a configured origin, normalised', (value, url) => {
    expect(checkReturnTo(value, ORIGINS)).toEqual({ ok: true, url });
  });

  it.each([
    ['/settings', 'not-absolute'],
    ['//evil.example/x', 'not-absolute'],
    ['app.example.com/settings', 'not-absolute'],
    ['javascript:alert(1)', 'not-http'],
    ['data:text/html,hi', 'not-http'],
    ['ftp://app.example.com/', 'not-http'],
    ['https://evil.example/', 'origin-not-allowed'],
    ['https://app.example.com.evil.example/', 'origin-not-allowed'],
    ['http://app.example.com/', 'origin-not-allowed'],
    ['https://app.example.com:8443/', 'origin-not-allowed'],
    ['http://localhost:5174/', 'origin-not-allowed'],
    ['https://app.example.com@evil.example/', 'credentials'],
    ['https://user:secret@app.example.com/', 'credentials'],
    ['https://:secret@app.example.com/', 'credentials'],
  ])('refuses %s (%s)', (value, reason) => {
    expect(checkReturnTo(value, ORIGINS)).toEqual({ ok: false, reason });
  });

  it('refuses everything when no web origin is configured', () => {
    expect(checkReturnTo('https://app.example.com/', [])).toEqual({ ok: false, reason: 'origin-not-allowed' });
  });

  it(`takes up to ${RETURN_TO_MAX_LENGTH} characters`, () => {
    const base = 'https://app.example.com/';
    const longest = base + 'a'.repeat(RETURN_TO_MAX_LENGTH - base.length);
    expect(checkReturnTo(longest, ORIGINS)).toEqual({ ok: true, url: longest });
    expect(checkReturnTo(`${longest}a`, ORIGINS)).toEqual({ ok: false, reason: 'too-long' });
  });

  it('says why each refusal happened', () => {
    expect(returnToRefusal('too-long')).toBe(`returnTo is longer than ${RETURN_TO_MAX_LENGTH} characters.`);
    expect(returnToRefusal('not-absolute')).toBe('returnTo must be an absolute URL (https://app.example/settings).');
    expect(returnToRefusal('not-http')).toBe('returnTo must be an http or https URL.');
    expect(returnToRefusal('credentials')).toBe('returnTo must not carry a user name or password.');
    expect(returnToRefusal('origin-not-allowed')).toBe("returnTo's origin is not one of the web apps this gateway returns to (GATEWAY_WEB_ORIGINS).");
  });
});

describe('the outcome on returnTo', () => {
  const ids = ['2c6f0e4a-9b1d-4f3e-a7c5-6d8e9f0a1b2c', '7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6'];

  it('names the parameters with a prefix of their own', () => {
    expect(OUTCOME_PARAMETERS).toEqual({ outcome: 'postwire_connect', provider: 'postwire_provider', accounts: 'postwire_accounts', code: 'postwire_code' });
  });

  it('says connected with the account ids, comma-separated', () => {
    expect(returnToWithOutcome('https://app.example.com/settings', { outcome: 'connected', provider: 'facebook', accountIds: ids })).toBe(
      `https://app.example.com/settings?postwire_connect=connected&postwire_provider=facebook&postwire_accounts=${ids.join('%2C')}`,
    );
  });

  it('says failed with the problem code and no accounts', () => {
    expect(returnToWithOutcome('https://app.example.com/', { outcome: 'failed', provider: 'instagram', accountIds: [], code: 'consent-declined' })).toBe(
      'https://app.example.com/?postwire_connect=failed&postwire_provider=instagram&postwire_code=consent-declined',
    );
  });

  it("keeps the app's own query and fragment, and replaces an outcome already there", () => {
    const url = new URL(
      returnToWithOutcome('https://app.example.com/s?tab=accounts&postwire_connect=failed&postwire_code=x&postwire_accounts=y&postwire_provider=z#list', {
        outcome: 'connected',
        provider: 'instagram',
        accountIds: [ids[0] ?? ''],
      }),
    );
    expect(url.hash).toBe('#list');
    expect([...url.searchParams]).toEqual([
      ['tab', 'accounts'],
      ['postwire_connect', 'connected'],
      ['postwire_provider', 'instagram'],
      ['postwire_accounts', ids[0]],
    ]);
  });

  it('keeps both the accounts and the code when some were connected and others not', () => {
    const url = new URL(returnToWithOutcome('https://app.example.com/', { outcome: 'connected', provider: 'facebook', accountIds: ids, code: 'permission-missing' }));
    expect(url.searchParams.get('postwire_accounts')?.split(',')).toEqual(ids);
    expect(url.searchParams.get('postwire_code')).toBe('permission-missing');
  });
});

describe('permissions in words', () => {
  it('has words for every scope the dialogs ask for, and for nothing else', () => {
    const requested = [...new Set(Object.values(REQUESTED_SCOPES).flat())].sort();
    expect(Object.keys(SCOPE_WORDS).sort()).toEqual(requested);
    for (const scope of requested) expect(scopeInWords(scope)).toMatch(/^[A-Z][^.]+$/);
  });

  it('uses PKCE with Facebook Login only: Instagram Login documents none', () => {
    expect(SUPPORTS_PKCE).toEqual({ facebook: true, instagram: false });
  });

  it('names publishing as a person would', () => {
    expect(scopeInWords('instagram_business_content_publish')).toBe('Publish posts to your Instagram account');
    expect(scopeInWords('pages_manage_posts')).toBe('Publish posts to your Facebook Pages');
  });

  it('has no words for a scope it does not ask for, nor for names inherited by every object', () => {
    expect(scopeInWords('user_birthday')).toBeUndefined();
    expect(scopeInWords('toString')).toBeUndefined();
    expect(scopeInWords('constructor')).toBeUndefined();
  });
});
