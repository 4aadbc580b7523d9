import { afterAll, beforeAll, beforeEach } from 'vitest';
import { loadConfig } from '@postwire/config';
import { buildSandbox, optionsFromConfig, sandboxConfigSchema, type BuiltSandbox } from '@postwire/meta-sandbox';
import { createGraphClient, graphEnvironment, type GraphClient, type GraphClientDependencies } from '../src/index.ts';

// The sandbox's boot seed (its README): what a developer's local stack talks to.
export const ALICE = '1000900000000101';
export const BAKERY_PAGE = '1001000000000201';
export const STUDIO_PAGE = '1001000000000202';
export const BOB_PAGE = '1001000000000203';
export const BAKERY_IG = '17841400000000301';
export const STUDIO_IG = '17841400000000302';
export const FB_REDIRECT = 'http://127.0.0.1:3000/v1/connect/facebook/callback';
export const IG_REDIRECT = 'http://127.0.0.1:3000/v1/connect/instagram/callback';
export const PUBLISHING_SCOPES = ['pages_show_list', 'pages_read_engagement', 'instagram_basic', 'instagram_content_publish', 'instagram_manage_insights'];
export const HOUR = 3_600_000;

/** The real sandbox server with its default boot seed, on an ephemeral port (it fetches its own media over HTTP). */
export async function startSandbox(): Promise<BuiltSandbox & { baseUrl: string }> {
  const sandbox = await buildSandbox({ ...optionsFromConfig(loadConfig(sandboxConfigSchema, {})), listen: true });
  if (sandbox.baseUrl === undefined) throw new Error('the sandbox did not listen');
  return { ...sandbox, baseUrl: sandbox.baseUrl };
}

/** What a suite's tests use, set afresh before each test by useSandbox. */
export type SandboxSuite = { baseUrl: string; graph: GraphClient; pageToken: string };

/**
 * One sandbox for the file, reset before each test (then given `settings`), with a fresh client and a Page token
 * of Alice's on the bakery Page with `scopes`: the setup of the suites that are about one Graph feature, not login.
 */
export function useSandbox(options: { scopes: string[]; settings?: Record<string, unknown> }): SandboxSuite {
  let sandbox: Awaited<ReturnType<typeof startSandbox>> | undefined;
  // Filled by the hooks below before any test reads it.
  const suite = {} as SandboxSuite;
  beforeAll(async () => {
    sandbox = await startSandbox();
    suite.baseUrl = sandbox.baseUrl;
  });
  afterAll(() => sandbox?.close());
  beforeEach(async () => {
    await control(suite.baseUrl, 'POST', '/reset', {});
    if (options.settings) await control(suite.baseUrl, 'PATCH', '/settings', options.settings);
    suite.graph = clientFor(suite.baseUrl);
    suite.pageToken = await mintToken(suite.baseUrl, { kind: 'facebook-page', subjectId: ALICE, pageId: BAKERY_PAGE, scopes: options.scopes });
  });
  return suite;
}

/** A client configured exactly as a service would be without Meta credentials: everything goes to the sandbox. */
export function clientFor(baseUrl: string, env: Record<string, string> = {}, dependencies: GraphClientDependencies = {}): GraphClient {
  const settings = loadConfig(graphEnvironment, { META_SANDBOX_URL: baseUrl, GRAPH_RETRY_BASE_DELAY_MS: '1', GRAPH_TIMEOUT_MS: '5000', ...env });
  return createGraphClient(settings, dependencies);
}

export async function control<T = Record<string, unknown>>(baseUrl: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}/_sandbox${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.text();
  if (response.status >= 400) throw new Error(`control ${method} ${path}: HTTP ${response.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

export const advance = (baseUrl: string, ms: number) => control(baseUrl, 'POST', '/clock', { advanceMs: ms });
export const addFault = (baseUrl: string, fault: Record<string, unknown>) => control<{ id: number }>(baseUrl, 'POST', '/faults', fault);

/** How many requests a fault has answered: proves how many attempts really reached the sandbox. */
export async function faultHits(baseUrl: string, id: number): Promise<number> {
  const answer = await control<{ faults: { id: number; hits: number }[] }>(baseUrl, 'GET', '/faults');
  return answer.faults.find((fault) => fault.id === id)?.hits ?? -1;
}

/** Submits the sandbox's consent form (what a person's click on Continue sends) and returns the redirect target. */
export async function submitConsent(baseUrl: string, path: string, fields: Record<string, string | readonly string[]>): Promise<URL> {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) for (const item of [value].flat()) form.append(name, item);
  const response = await fetch(`${baseUrl}${path}`, { method: 'POST', body: form, redirect: 'manual' });
  const location = response.headers.get('location');
  if (response.status !== 302 || location === null) throw new Error(`consent answered HTTP ${response.status}: ${await response.text()}`);
  return new URL(location);
}

/** Mints a token through the control API, for tests that are not about login. */
export async function mintToken(baseUrl: string, body: { kind: 'facebook-user' | 'facebook-page' | 'instagram-user'; subjectId: string; pageId?: string; scopes?: string[]; longLived?: boolean }): Promise<string> {
  const answer = await control<{ access_token: string }>(baseUrl, 'POST', '/tokens', body);
  return answer.access_token;
}
