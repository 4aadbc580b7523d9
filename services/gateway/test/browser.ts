/**
 * Submits one of the sandbox's consent pages the way a browser does with its defaults: every hidden
 * field, every pre-checked box and radio, and the button pressed. Answers where Meta sends the browser.
 */
export async function submitConsent(dialogUrl: string, decision: 'allow' | 'deny'): Promise<URL> {
  const page = await fetch(dialogUrl);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`the consent page answered ${page.status}: ${html.replace(/<style>[^]*<\/style>/, "").slice(0, 600)}`);
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error('no consent form on the page');
  const form = new URLSearchParams();
  for (const input of html.matchAll(/<input ([^>]+)>/g)) {
    const attributes = input[1] ?? '';
    const name = /name="([^"]+)"/.exec(attributes)?.[1];
    const value = /value="([^"]*)"/.exec(attributes)?.[1];
    const type = /type="([^"]+)"/.exec(attributes)?.[1];
    if (!name || value === undefined) continue;
    if (type === 'hidden' || ((type === 'checkbox' || type === 'radio') && /\bchecked\b/.test(attributes))) {
      form.append(name, decodeEntities(value));
    }
  }
  form.append('decision', decision);
  const answer = await fetch(new URL(action, dialogUrl), {
    method: 'POST',
    body: form,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    redirect: 'manual',
  });
  const location = answer.headers.get('location');
  if (answer.status !== 302 || !location) throw new Error(`consent answered ${answer.status}: ${(await answer.text()).replace(/<style>[^]*<\/style>/, "").slice(0, 500)}`);
  return new URL(location);
}

function decodeEntities(value: string): string {
  return value.replace(/&#(\d+);/g, (_match, code: string) => String.fromCharCode(Number(code))).replace(/&amp;/g, '&').replace(/&quot;/g, '"');
}
