import { loadConfig } from '@postwire/config';
import { type BuiltSandbox, buildSandbox, optionsFromConfig, sandboxConfigSchema } from '@postwire/meta-sandbox';

/**
 * The Meta sandbox exactly as a developer runs it (dev seed: its app, test users, Pages and Instagram
 * accounts, the gateway's default redirect URIs), listening on an ephemeral loopback port.
 */
export async function startMetaSandbox(environment: Record<string, string> = {}): Promise<BuiltSandbox & { baseUrl: string }> {
  const sandbox = await buildSandbox({ ...optionsFromConfig(loadConfig(sandboxConfigSchema, environment)), listen: true });
  if (!sandbox.baseUrl) throw new Error('the sandbox did not listen');
  return { ...sandbox, baseUrl: sandbox.baseUrl };
}

/** Calls the sandbox's control API (clock, faults, token invalidation, inspection). */
export async function sandboxControl<T = Record<string, unknown>>(
  baseUrl: string,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${baseUrl}/_sandbox${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  if (!response.ok) throw new Error(`sandbox control ${method} ${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/**
 * Submits one of the sandbox's consent pages the way a browser does with its defaults: every hidden
 * field, every pre-checked box and radio, and the button pressed. Answers where Meta sends the browser.
 */
export async function submitConsent(
  dialogUrl: string,
  decision: 'allow' | 'deny',
  options: { readonly uncheckScopes?: readonly string[] } = {},
): Promise<URL> {
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
    const untickedScope = name === 'granted_scopes' && (options.uncheckScopes ?? []).includes(decodeEntities(value));
    if (type === 'hidden' || ((type === 'checkbox' || type === 'radio') && /\bchecked\b/.test(attributes) && !untickedScope)) {
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
