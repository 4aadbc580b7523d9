/** The page a browser lands on at the end of a connect flow. */
export function renderConnectResult(result: {
  readonly outcome: 'connected' | 'authorized' | 'denied' | 'failed';
  readonly provider: string;
  readonly message: string;
  readonly accounts?: readonly { readonly platform: string; readonly accountType: string | null; readonly username: string | null }[];
  readonly failures?: readonly { readonly message: string; readonly missingScopes: readonly string[] }[];
}, refresh?: string): string {
  const title = { connected: 'Accounts connected', authorized: 'Still connecting…', denied: 'Nothing was connected', failed: 'Nothing was connected' }[result.outcome];
  const platform = result.provider === 'facebook' ? 'Facebook' : 'Instagram';
  const accounts = result.accounts?.length
    ? `<ul class="accounts">${result.accounts
        .map((account) => {
          const name = account.platform === 'instagram' ? `@${account.username ?? '?'}` : (account.username ?? '?');
          return `<li>${escapeHtml(account.platform === 'instagram' ? 'Instagram' : 'Facebook Page')} ${escapeHtml(name)}${account.accountType ? ` (${escapeHtml(account.accountType)})` : ''}</li>`;
        })
        .join('')}</ul>`
    : '';
  const failures = result.failures?.length
    ? `<ul class="failures">${result.failures
        .map((failure) => `<li>${escapeHtml(failure.message)}${failure.missingScopes.length ? ` Missing permissions: ${failure.missingScopes.map((scope) => `<code>${escapeHtml(scope)}</code>`).join(', ')}.` : ''}</li>`)
        .join('')}</ul>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">${refresh ? `\n<meta http-equiv="refresh" content="${escapeHtml(refresh)}">` : ''}
<title>${title} · Postwire</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1c1e21}</style>
</head><body><main data-outcome="${result.outcome}">
<h1>${title}</h1>
<p>${escapeHtml(platform)}: ${escapeHtml(result.message)}</p>
${accounts}${failures}
</main></body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
