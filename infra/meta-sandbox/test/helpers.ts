import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { buildSandbox, type BuiltSandbox } from '../src/build.ts';
import type { SandboxOptions } from '../src/context.ts';
import type { SandboxSettings } from '../src/state/settings.ts';
import { devSeed } from '../src/state/seed.ts';
import type { GraphErrorBody } from '../src/domain/errors.ts';

export const APP_ID = '1000000000000001';
export const APP_SECRET = 'sandbox-test-secret-0001';
export const FB_REDIRECT = 'http://127.0.0.1:3000/v1/connect/facebook/callback';
export const IG_REDIRECT = 'http://127.0.0.1:3000/v1/connect/instagram/callback';
export const ALICE = '1000900000000101';
export const BOB = '1000900000000102';
export const BAKERY_PAGE = '1001000000000201';
export const STUDIO_PAGE = '1001000000000202';
export const BOB_PAGE = '1001000000000203';
export const BAKERY_IG = '17841400000000301';
export const STUDIO_IG = '17841400000000302';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** A sandbox with the dev seed; `listen` when it must fetch its own media or deliver webhooks. */
export function startSandbox(options: SandboxOptions & { listen?: boolean } = {}): Promise<BuiltSandbox> {
  return buildSandbox({
    seed: devSeed({ id: APP_ID, secret: APP_SECRET, redirectUris: [FB_REDIRECT, IG_REDIRECT] }),
    ...options,
  });
}

/** A listening sandbox as a test file sees it; read `app` and `base` inside hooks and tests, once it has started. */
export type ListeningSandbox = { readonly app: FastifyInstance; readonly base: string };

/**
 * One listening sandbox for the whole test file, and a clean one for each test: registers the hooks that
 * start it, reset it (then apply `settings`, which may need its own address) before each test, and close it.
 * Register the file's own beforeEach (its tokens) after this call, so it runs after the reset.
 */
export function useListeningSandbox(settings?: Partial<SandboxSettings> | ((base: string) => Partial<SandboxSettings>)): ListeningSandbox {
  let built: BuiltSandbox | undefined;
  const started = (): BuiltSandbox => {
    if (!built) throw new Error('the sandbox starts in beforeAll: read it inside a hook or a test');
    return built;
  };
  const sandbox: ListeningSandbox = {
    get app() {
      return started().app;
    },
    get base() {
      return started().baseUrl ?? '';
    },
  };
  beforeAll(async () => {
    built = await startSandbox({ listen: true });
  });
  beforeEach(async () => {
    await control(sandbox.app, 'POST', '/reset', {});
    if (settings) await control(sandbox.app, 'PATCH', '/settings', typeof settings === 'function' ? settings(sandbox.base) : settings);
  });
  afterAll(() => built?.close());
  return sandbox;
}

export type Answer = { status: number; body: Record<string, unknown> & { error?: MetaError }; headers: Record<string, unknown> };
export type MetaError = GraphErrorBody['error'];

/** Calls a Graph path the way clients do: parameters in the query for GET/DELETE, as a form body for POST. */
export async function call(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH',
  path: string,
  params: Record<string, string | number | boolean | undefined> = {},
): Promise<Answer> {
  const defined = Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined).map(([key, value]) => [key, String(value)]));
  const query = new URLSearchParams(defined).toString();
  const response =
    method === 'POST'
      ? await app.inject({ method, url: path, payload: query, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      : await app.inject({ method, url: query ? `${path}${path.includes('?') ? '&' : '?'}${query}` : path });
  const text = response.body;
  let body: Answer['body'];
  try {
    body = text ? (JSON.parse(text) as Answer['body']) : {};
  } catch {
    body = { text };
  }
  return { status: response.statusCode, body, headers: response.headers };
}

/** Control API calls with a JSON body. */
export async function control(app: FastifyInstance, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown) {
  const response = await app.inject({ method, url: `/_sandbox${path}`, ...(body === undefined ? {} : { payload: body as object }) });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

export async function mintToken(
  app: FastifyInstance,
  body: { kind: 'facebook-user' | 'facebook-page' | 'instagram-user'; subjectId: string; pageId?: string; scopes?: string[]; longLived?: boolean },
): Promise<string> {
  const response = await control(app, 'POST', '/tokens', body);
  if (response.status !== 201) throw new Error(`minting a token failed: ${JSON.stringify(response.body)}`);
  return String(response.body.access_token);
}

export async function advance(app: FastifyInstance, ms: number): Promise<void> {
  const response = await control(app, 'POST', '/clock', { advanceMs: ms });
  if (response.status !== 200) throw new Error(`clock advance failed: ${JSON.stringify(response.body)}`);
}

export function expectMetaError(answer: Answer, code: number, subcode?: number): MetaError {
  const error = answer.body.error;
  if (!error) throw new Error(`expected Meta error ${code}/${subcode ?? '-'}, got HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
  if (error.code !== code || (subcode !== undefined && error.error_subcode !== subcode)) {
    throw new Error(`expected Meta error ${code}/${subcode ?? '-'}, got ${error.code}/${error.error_subcode ?? '-'}: ${error.message}`);
  }
  return error;
}

export function id(answer: Answer): string {
  if (typeof answer.body.id !== 'string') throw new Error(`no id in HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.id;
}
