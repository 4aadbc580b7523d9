import { createHash } from 'node:crypto';
import { scopeInWords } from '../domain/scopes.ts';

export type ConnectPage = {
  readonly outcome: 'connected' | 'authorized' | 'denied' | 'failed';
  readonly provider: string;
  readonly message: string;
  readonly accounts?: readonly { readonly platform: string; readonly accountType: string | null; readonly username: string | null }[];
  readonly failures?: readonly { readonly message: string; readonly missingScopes: readonly string[] }[];
};

export type PageLinks = {
  /** Where "Start again" leads: the start of the same flow (provider, returnTo, account). */
  readonly startAgain?: string;
  /** A still-connecting page looks again by itself: `<seconds>;url=<status URL>`. */
  readonly refresh?: string;
};

const STYLE =
  'body{font-family:system-ui,sans-serif;line-height:1.5;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1c1e21;background:#fff}' +
  'h1{font-size:1.6rem;margin:0 0 1rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}' +
  'a{color:#0b57d0}a:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}' +
  'table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #8a8d91;vertical-align:top}' +
  'code{font-size:.95em;color:#1c1e21;background:#eef0f3;padding:0 .2rem;border-radius:3px}' +
  'nav{margin-top:2rem}';

/**
 * The result pages need no script and only the inline style above: their own Content-Security-Policy
 * allows exactly that style (by its hash) and nothing else, whatever the rest of the API sends.
 */
export const PAGE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TITLES = { connected: 'Accounts connected', authorized: 'Still connecting…', denied: 'Nothing was connected', failed: 'Nothing was connected' } as const;

/**
 * The page a browser lands on at the end of a connect flow when the flow has no returnTo: what happened,
 * said once; the accounts connected; the permissions not granted, in words beside their scope names;
 * each other reason once; and a way to start again. Readable without scripts or styles.
 */
export function renderConnectResult(result: ConnectPage, links: PageLinks = {}): string {
  const title = TITLES[result.outcome];
  const platform = result.provider === 'facebook' ? 'Facebook' : 'Instagram';
  const failures = result.failures ?? [];
  const missing = [...new Set(failures.flatMap((failure) => failure.missingScopes))];
  // A failure for missing permissions is said by the permissions table; every other reason once, however many accounts it hit.
  const reasons = [...new Set(failures.filter((failure) => failure.missingScopes.length === 0 && failure.message).map((failure) => failure.message))];
  const connected = result.accounts ?? [];
  const lead =
    failures.length === 0 ? result.message
    : connected.length > 0 ? `Connected ${count(connected.length)} from ${platform}; some of the accounts you chose were not connected.`
    : `No accounts were connected from ${platform}.`;

  const sections: string[] = [];
  if (connected.length > 0) {
    sections.push(
      `<section aria-labelledby="connected"><h2 id="connected">Connected</h2><ul>${connected
        .map((account) => {
          const kind = account.platform === 'instagram' ? 'Instagram account' : 'Facebook Page';
          const name = account.username === null ? 'name not known yet' : account.platform === 'instagram' ? `@${account.username}` : account.username;
          return `<li>${escapeHtml(kind)} ${escapeHtml(name)}${account.accountType ? ` (${escapeHtml(account.accountType)})` : ''}</li>`;
        })
        .join('')}</ul></section>`,
    );
  }
  if (missing.length > 0) {
    sections.push(
      `<section aria-labelledby="missing"><h2 id="missing">Permissions not granted</h2>` +
        `<p>Postwire needs every permission it asks for to publish. Start again and leave ${missing.length === 1 ? 'this one' : 'these'} allowed on ${escapeHtml(platform)}'s consent screen:</p>` +
        `<table><thead><tr><th scope="col">Permission</th><th scope="col">Scope</th></tr></thead><tbody>${missing
          .map((scope) => `<tr><td>${escapeHtml(scopeInWords(scope) ?? 'A permission Postwire asked for')}</td><td><code>${escapeHtml(scope)}</code></td></tr>`)
          .join('')}</tbody></table></section>`,
    );
  }
  if (reasons.length > 0) {
    sections.push(`<section aria-labelledby="reasons"><h2 id="reasons">What went wrong</h2><ul>${reasons.map((reason) => `<li>${escapeHtml(reason)}</li>`).join('')}</ul></section>`);
  }
  const next = links.startAgain
    ? `<nav aria-label="Next steps"><a href="${escapeHtml(links.startAgain)}">${result.outcome === 'connected' ? 'Connect more accounts' : 'Start again'}</a></nav>`
    : '';

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">${links.refresh ? `\n<meta http-equiv="refresh" content="${escapeHtml(links.refresh)}">` : ''}
<title>${title} · ${platform} · Postwire</title>
<style>${STYLE}</style>
</head><body><main data-outcome="${result.outcome}">
<h1>${title}</h1>
<p>${escapeHtml(lead)}</p>
${sections.join('\n')}
${next}
</main></body></html>`;
}

function count(accounts: number): string {
  return `${accounts} account${accounts === 1 ? '' : 's'}`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
