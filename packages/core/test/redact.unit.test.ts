import { describe, expect, it } from 'vitest';
import { redactUrl } from '../src/index.ts';

describe('redactUrl, decoded (Graph error messages and logs)', () => {
  it('redacts credentials from paths used in messages and logs', () => {
    const shown = redactUrl('http://x/v25.0/oauth/access_token?client_id=1&client_secret=s3cr3t&code=AQabc&fields=id&access_token=EAAU1&appsecret_proof=ff&fb_exchange_token=EAAU2&input_token=EAAP3', { decode: true });
    expect(shown).toBe('/v25.0/oauth/access_token?client_id=1&client_secret=[redacted]&code=[redacted]&fields=id&access_token=[redacted]&appsecret_proof=[redacted]&fb_exchange_token=[redacted]&input_token=[redacted]');
  });

  it('leaves the URL it is given untouched (it is still to be sent)', () => {
    const url = new URL('http://x/v25.0/me?access_token=EAAU1');
    expect(redactUrl(url, { decode: true })).toBe('/v25.0/me?access_token=[redacted]');
    expect(url.searchParams.get('access_token')).toBe('EAAU1');
  });
});

describe('redactUrl, encoded (request lines in service logs)', () => {
  it('hides OAuth codes, state and tokens in query strings and keeps everything else', () => {
    expect(redactUrl('/v1/connect/facebook/callback?code=AQD123&state=s3cr3t&lang=en')).toBe(
      '/v1/connect/facebook/callback?code=%5Bredacted%5D&state=%5Bredacted%5D&lang=en',
    );
    expect(redactUrl('/x?access_token=EAAB&fields=id')).toBe('/x?access_token=%5Bredacted%5D&fields=id');
    expect(redactUrl('/plain/path')).toBe('/plain/path');
  });

  it('hides an event stream ticket and keeps the stream\'s other parameters', () => {
    expect(redactUrl('/v1/events?ticket=enc%3Av1%3Ak1%3Aabc%3Adef%3Aghi&types=post.*&lastEventId=5e8e7f0c-2b7a-4d8e-8c4f-0b8f2a7d9c11')).toBe(
      '/v1/events?ticket=%5Bredacted%5D&types=post.*&lastEventId=5e8e7f0c-2b7a-4d8e-8c4f-0b8f2a7d9c11',
    );
  });
});

describe('redactUrl, one list for both', () => {
  it('redacts every secret parameter of either former list, in both forms', () => {
    const url =
      'https://graph.example/v25.0/x?code_verifier=V&refresh_token=R&refreshToken=R2&accessToken=A&token=T&clientSecret=C' +
      '&password=P&secret=S&state=ST&hub.verify_token=H&hub.challenge=42&id=17841400000000001';
    expect(redactUrl(url, { decode: true })).toBe(
      '/v25.0/x?code_verifier=[redacted]&refresh_token=[redacted]&refreshToken=[redacted]&accessToken=[redacted]' +
        '&token=[redacted]&clientSecret=[redacted]&password=[redacted]&secret=[redacted]&state=[redacted]' +
        '&hub.verify_token=[redacted]&hub.challenge=42&id=17841400000000001',
    );
    expect(redactUrl(url)).toBe(
      '/v25.0/x?code_verifier=%5Bredacted%5D&refresh_token=%5Bredacted%5D&refreshToken=%5Bredacted%5D' +
        '&accessToken=%5Bredacted%5D&token=%5Bredacted%5D&clientSecret=%5Bredacted%5D&password=%5Bredacted%5D' +
        '&secret=%5Bredacted%5D&state=%5Bredacted%5D&hub.verify_token=%5Bredacted%5D&hub.challenge=42&id=17841400000000001',
    );
  });

  it('redacts a repeated secret parameter once and keeps a parameter that only contains a secret name', () => {
    expect(redactUrl('/cb?code=a&code=b&postcode=1234&access_token_hint=x', { decode: true })).toBe(
      '/cb?code=[redacted]&postcode=1234&access_token_hint=x',
    );
  });

  it('keeps the path as given, drops scheme, host and fragment, and keeps other values encoded unless asked', () => {
    expect(redactUrl('http://127.0.0.1:4010/a/../b?q=a%26b&access_token=x#frag')).toBe('/a/../b?q=a%26b&access_token=%5Bredacted%5D');
    expect(redactUrl('http://127.0.0.1:4010/a/../b?q=a%26b&access_token=x#frag', { decode: true })).toBe('/a/../b?q=a&b&access_token=[redacted]');
    expect(redactUrl('https://graph.facebook.com/v25.0/me')).toBe('/v25.0/me');
  });
});
