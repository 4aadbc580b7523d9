/** The page a browser lands on at the end of a connect flow. */
export function renderConnectResult(result: {
  readonly outcome: 'authorized' | 'denied' | 'failed';
  readonly provider: string;
  readonly message: string;
  readonly grantedScopes?: readonly string[];
}): string {
  const title = result.outcome === 'authorized' ? 'Access granted' : 'Nothing was connected';
  const platform = result.provider === 'facebook' ? 'Facebook' : 'Instagram';
  const scopes = result.grantedScopes?.length
    ? `<p>Permissions granted:</p><ul>${result.grantedScopes.map((scope) => `<li><code>${escapeHtml(scope)}</code></li>`).join('')}</ul>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Postwire</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1c1e21}</style>
</head><body><main data-outcome="${result.outcome}">
<h1>${title}</h1>
<p>${escapeHtml(platform)}: ${escapeHtml(result.message)}</p>
${scopes}
</main></body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
