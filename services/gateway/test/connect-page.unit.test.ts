import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PAGE_CONTENT_SECURITY_POLICY, renderConnectResult } from '../src/routes/connect-page.ts';

const MISSING_MESSAGE = 'Postwire needs every permission it asked for to publish. Connect again and allow: instagram_business_content_publish.';
const START = 'http://127.0.0.1:3000/v1/connect/instagram/start?returnTo=https%3A%2F%2Fapp.example.com%2F';
const occurrences = (text: string, part: string) => text.split(part).length - 1;

describe('connect result page', () => {
  it('is a complete, accessible document: language, title, one h1, a main landmark and a labelled navigation', () => {
    const page = renderConnectResult({ outcome: 'denied', provider: 'facebook', message: 'No accounts were connected: access was declined on the consent screen.' }, { startAgain: START });
    expect(page).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(page).toContain('<meta charset="utf-8">');
    expect(page).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(page).toContain('<title>Nothing was connected · Facebook · Postwire</title>');
    expect(occurrences(page, '<h1>')).toBe(1);
    expect(page).toContain('<main data-outcome="denied">');
    expect(page).toContain(`<nav aria-label="Next steps"><a href="${START.replaceAll('&', '&#38;')}">Start again</a></nav>`);
    expect(page).not.toMatch(/<script|\son[a-z]+=/i);
  });

  it('says a missing permission once, in words beside its scope name, however many accounts it kept out', () => {
    const failure = () => ({ message: MISSING_MESSAGE, missingScopes: ['instagram_business_content_publish'] });
    const page = renderConnectResult(
      { outcome: 'failed', provider: 'instagram', message: `No accounts were connected: ${MISSING_MESSAGE}`, failures: [failure(), failure()] },
      { startAgain: START },
    );
    expect(occurrences(page, 'instagram_business_content_publish')).toBe(1);
    expect(occurrences(page, 'Postwire needs every permission')).toBe(1);
    expect(page).toContain('<tr><td>Publish posts to your Instagram account</td><td><code>instagram_business_content_publish</code></td></tr>');
    expect(page).toContain('<th scope="col">Permission</th><th scope="col">Scope</th>');
    expect(page).toContain('<h2 id="missing">Permissions not granted</h2>');
    expect(page).toContain('<p>No accounts were connected from Instagram.</p>');
    expect(page).not.toContain('What went wrong');
  });

  it('names a scope it has no words for by its name, and says every other reason once', () => {
    const page = renderConnectResult({
      outcome: 'failed',
      provider: 'facebook',
      message: 'No accounts were connected: Meta did not answer.',
      failures: [
        { message: 'Meta did not answer.', missingScopes: [] },
        { message: 'Meta did not answer.', missingScopes: [] },
        { message: 'x', missingScopes: ['user_birthday'] },
      ],
    });
    expect(page).toContain('<tr><td>A permission Postwire asked for</td><td><code>user_birthday</code></td></tr>');
    expect(occurrences(page, 'Meta did not answer.')).toBe(1);
    expect(page).toContain('<h2 id="reasons">What went wrong</h2>');
    expect(page).not.toContain('<nav');
  });

  it('lists what was connected, and says when some of the chosen accounts were not', () => {
    const page = renderConnectResult({
      outcome: 'connected',
      provider: 'facebook',
      message: 'Connected 2 accounts.',
      accounts: [
        { platform: 'facebook', accountType: 'page', username: 'Postwire Bakery' },
        { platform: 'instagram', accountType: 'business', username: 'postwire.bakery' },
      ],
      failures: [{ message: MISSING_MESSAGE, missingScopes: ['instagram_content_publish'] }],
    }, { startAgain: START });
    expect(page).toContain('<li>Facebook Page Postwire Bakery (page)</li><li>Instagram account @postwire.bakery (business)</li>');
    expect(page).toContain('<p>Connected 2 accounts from Facebook; some of the accounts you chose were not connected.</p>');
    expect(page).toContain('<td>Publish posts to your Instagram account</td><td><code>instagram_content_publish</code></td>');
    expect(page).toContain('>Connect more accounts</a>');
  });

  it('says a fully connected result in its own words, with nothing else', () => {
    const page = renderConnectResult({ outcome: 'connected', provider: 'instagram', message: 'Connected 1 account.', accounts: [{ platform: 'instagram', accountType: null, username: null }] });
    expect(page).toContain('<p>Connected 1 account.</p>');
    expect(page).toContain('<li>Instagram account name not known yet</li>');
    expect(page).not.toContain('Permissions not granted');
  });

  it('escapes everything it shows', () => {
    const page = renderConnectResult(
      { outcome: 'failed', provider: 'facebook', message: '<img src=x onerror=alert(1)>', accounts: [{ platform: 'facebook', accountType: '"x"', username: '<b>' }] },
      { startAgain: 'http://x/?a="b"', refresh: '3;url=/v1/"x"' },
    );
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<b>');
    expect(page).toContain('&#60;img src=x onerror=alert(1)&#62;');
    expect(page).toContain('<meta http-equiv="refresh" content="3;url=/v1/&#34;x&#34;">');
  });

  it('allows its own inline style by hash and nothing else', () => {
    const page = renderConnectResult({ outcome: 'authorized', provider: 'facebook', message: 'Still connecting.' });
    const style = /<style>([^<]*)<\/style>/.exec(page)?.[1] ?? '';
    expect(style).not.toBe('');
    expect(PAGE_CONTENT_SECURITY_POLICY).toBe(
      `default-src 'none'; style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    );
  });
});
