import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { TokenCipher } from '@postwire/crypto';
import { openSealedJson, sealJson } from './sealed-json.ts';
import { RETURN_TO_MAX_LENGTH } from './connect-return.ts';

export const PROVIDERS = ['facebook', 'instagram'] as const;
export type Provider = (typeof PROVIDERS)[number];

/**
 * What the gateway remembers between sending a browser to Meta's dialog and Meta sending it back:
 * who started the flow, for which organisation, the state nonce and the PKCE verifier. It lives in
 * a cookie sealed with AES-256-GCM, so the gateway stays stateless and nobody can read or forge it;
 * the state in the callback must equal the sealed nonce, which binds the flow to this browser session.
 */
const ConnectSession = z.object({
  nonce: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  provider: z.enum(PROVIDERS),
  organisationId: z.uuid(),
  userId: z.uuid(),
  codeVerifier: z.string().regex(/^[A-Za-z0-9_-]{64}$/).optional(),
  /** Set when the flow re-authorises an account that already exists. */
  accountId: z.uuid().optional(),
  /** Where the browser goes back to with the outcome, checked against the web origins at the start. */
  returnTo: z.string().max(RETURN_TO_MAX_LENGTH).optional(),
  expiresAt: z.number().int(),
});
export type ConnectSession = z.infer<typeof ConnectSession>;

const SEAL_CONTEXT = 'gateway:connect-session';
export const CONNECT_SESSION_TTL_MS = 10 * 60 * 1000;

export function newConnectSession(input: {
  readonly provider: Provider;
  readonly organisationId: string;
  readonly userId: string;
  readonly pkce: boolean;
  readonly now: number;
  readonly accountId?: string;
  readonly returnTo?: string;
}): ConnectSession {
  return {
    nonce: randomBytes(32).toString('base64url'),
    provider: input.provider,
    organisationId: input.organisationId,
    userId: input.userId,
    ...(input.pkce ? { codeVerifier: randomBytes(48).toString('base64url') } : {}),
    ...(input.accountId ? { accountId: input.accountId } : {}),
    ...(input.returnTo ? { returnTo: input.returnTo } : {}),
    expiresAt: input.now + CONNECT_SESSION_TTL_MS,
  };
}

/** RFC 7636 S256: the challenge sent to the dialog for a verifier kept in the sealed session. */
export function codeChallengeOf(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export function sealConnectSession(cipher: TokenCipher, session: ConnectSession): string {
  return sealJson(cipher, session, SEAL_CONTEXT);
}

export type OpenedSession =
  | { readonly ok: true; readonly session: ConnectSession }
  | { readonly ok: false; readonly reason: 'missing' | 'invalid' | 'expired' | 'state-mismatch' | 'provider-mismatch' };

/** Opens the cookie and checks it against the callback's provider and state. */
export function openConnectSession(
  cipher: TokenCipher,
  sealed: string | undefined,
  expected: { readonly provider: Provider; readonly state: string | undefined; readonly now: number },
): OpenedSession {
  if (!sealed) return { ok: false, reason: 'missing' };
  const session = openSealedJson(cipher, sealed, SEAL_CONTEXT, ConnectSession);
  if (!session) return { ok: false, reason: 'invalid' };
  if (session.expiresAt <= expected.now) return { ok: false, reason: 'expired' };
  if (session.provider !== expected.provider) return { ok: false, reason: 'provider-mismatch' };
  if (!expected.state || !sameText(expected.state, session.nonce)) return { ok: false, reason: 'state-mismatch' };
  return { ok: true, session };
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * State nonces this instance has seen come back, kept until they would have expired anyway: a
 * replayed callback is refused here, and in any case Meta redeems a code only once.
 */
export function createNonceLedger(capacity = 50_000) {
  const seen = new Map<string, number>();
  return {
    /** True the first time a nonce is presented; false for a replay and for a nonce already expired. */
    consume(nonce: string, expiresAt: number, now: number): boolean {
      // An expired nonce is refused outright, so forgetting it once it expires never lets it through.
      if (expiresAt <= now || seen.has(nonce)) return false;
      if (seen.size >= capacity) {
        for (const [key, expiry] of seen) if (expiry <= now) seen.delete(key);
        // Still full of live nonces: forget the oldest. Meta's single-use codes still stop a replay.
        for (const key of seen.keys()) {
          if (seen.size < capacity) break;
          seen.delete(key);
        }
      }
      seen.set(nonce, expiresAt);
      return true;
    },
  };
}

/**
 * A connect whose answer had not arrived when the callback answered: the browser keeps its id in a
 * second sealed cookie, so only that browser can come back and see how it ended.
 */
const ConnectAttempt = z.object({
  attemptId: z.uuid(),
  provider: z.enum(PROVIDERS),
  /** The outcome can be looked up until then. */
  expiresAt: z.number().int(),
  /** Without an answer by then, the page stops waiting and says what to do. */
  answerBy: z.number().int(),
  /** The flow's state nonce: its result, once known, is kept for a reload of the callback too. */
  nonce: z.string().regex(/^[A-Za-z0-9_-]{43}$/).optional(),
  /** The flow's returnTo: the outcome is sent there once known. */
  returnTo: z.string().max(RETURN_TO_MAX_LENGTH).optional(),
  /** The account a reconnect flow was for. */
  accountId: z.uuid().optional(),
  /** Who started the flow, for the page's "Start again" (absent for an attempt kept by an older gateway). */
  userId: z.uuid().optional(),
  organisationId: z.uuid().optional(),
});
export type ConnectAttempt = z.infer<typeof ConnectAttempt>;

const ATTEMPT_SEAL_CONTEXT = 'gateway:connect-attempt';
/** How long the outcome of a connect can still be looked up. */
export const CONNECT_ATTEMPT_TTL_MS = 10 * 60 * 1000;

export function sealConnectAttempt(cipher: TokenCipher, attempt: ConnectAttempt): string {
  return sealJson(cipher, attempt, ATTEMPT_SEAL_CONTEXT);
}

/** The attempt sealed in `sealed`, if it is this one, for this provider, and not expired. */
export function openConnectAttempt(
  cipher: TokenCipher,
  sealed: string | undefined,
  expected: { readonly attemptId: string; readonly provider: Provider; readonly now: number },
): ConnectAttempt | undefined {
  if (!sealed) return undefined;
  const attempt = openSealedJson(cipher, sealed, ATTEMPT_SEAL_CONTEXT, ConnectAttempt);
  return attempt && attempt.attemptId === expected.attemptId && attempt.provider === expected.provider && attempt.expiresAt > expected.now ? attempt : undefined;
}

/**
 * How a callback ended, kept in a third sealed cookie of the browser that completed it for a short
 * while (GATEWAY_CONNECT_RESULT_TTL_MS): a reload or repeat of that callback (same state) or of its
 * attempt's status URL answers the same again, without exchanging a code or connecting anything twice.
 * The cookie is the store, so every gateway instance can answer it, and no other browser has it.
 */
const ConnectedAccountRecord = z.object({ id: z.uuid(), platform: z.string(), accountType: z.string().nullable(), username: z.string().nullable() });
const FailureRecord = z.object({ accountId: z.uuid(), message: z.string(), missingScopes: z.array(z.string()) });
const ConnectResultRecord = z.object({
  /** The flow's state nonce: a repeat of its callback carries it (absent for an attempt kept by an older gateway). */
  nonce: z.string().regex(/^[A-Za-z0-9_-]{43}$/).optional(),
  provider: z.enum(PROVIDERS),
  /** Set when the callback answered "still connecting": the attempt its status URL names. */
  attemptId: z.uuid().optional(),
  returnTo: z.string().max(RETURN_TO_MAX_LENGTH).optional(),
  /** The account a reconnect flow was for, so that "Start again" reconnects it too. */
  accountId: z.uuid().optional(),
  /** Who started the flow, for the page's "Start again" (absent for a result kept by an older gateway). */
  userId: z.uuid().optional(),
  organisationId: z.uuid().optional(),
  status: z.number().int().min(200).max(599),
  result: z.object({
    outcome: z.enum(['connected', 'authorized', 'denied', 'failed']),
    message: z.string(),
    socialAccountId: z.uuid().optional(),
    grantedScopes: z.array(z.string()).optional(),
    accounts: z.array(ConnectedAccountRecord),
    failures: z.array(FailureRecord),
    /** A failure that ended the flow as a problem (its code, title and extensions), when there was one. */
    problem: z.object({ code: z.string(), title: z.string(), extensions: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional() }).optional(),
  }),
  expiresAt: z.number().int(),
});
export type ConnectResultRecord = z.infer<typeof ConnectResultRecord>;

const RESULT_SEAL_CONTEXT = 'gateway:connect-result';
/** Room left for the cookie's name and attributes within the 4,096 bytes a browser keeps for one cookie. */
export const RESULT_COOKIE_MAX_LENGTH = 3800;

/**
 * The sealed record, or a slimmer one when it would not fit in a cookie (the granted scopes, account
 * names and failure messages dropped; ids, outcome and missing scopes kept), or undefined when even
 * that is too long: then a repeat is refused as already completed, as before results were kept.
 */
export function sealConnectResult(cipher: TokenCipher, record: ConnectResultRecord): string | undefined {
  const sealed = sealJson(cipher, record, RESULT_SEAL_CONTEXT);
  if (sealed.length <= RESULT_COOKIE_MAX_LENGTH) return sealed;
  const { grantedScopes: _dropped, ...result } = record.result;
  const slim: ConnectResultRecord = {
    ...record,
    result: {
      ...result,
      accounts: result.accounts.map((account) => ({ ...account, username: null })),
      failures: result.failures.map((failure) => ({ ...failure, message: '' })),
    },
  };
  const slimSealed = sealJson(cipher, slim, RESULT_SEAL_CONTEXT);
  return slimSealed.length <= RESULT_COOKIE_MAX_LENGTH ? slimSealed : undefined;
}

/** The kept result, if it is this flow's (its state, or its attempt) for this provider and not expired. */
export function openConnectResult(
  cipher: TokenCipher,
  sealed: string | undefined,
  expected: { readonly provider: Provider; readonly now: number } & ({ readonly state: string | undefined } | { readonly attemptId: string }),
): ConnectResultRecord | undefined {
  if (!sealed) return undefined;
  const record = openSealedJson(cipher, sealed, RESULT_SEAL_CONTEXT, ConnectResultRecord);
  if (!record || record.expiresAt <= expected.now || record.provider !== expected.provider) return undefined;
  const matches =
    'attemptId' in expected ? record.attemptId === expected.attemptId
    : expected.state !== undefined && record.nonce !== undefined && sameText(expected.state, record.nonce);
  return matches ? record : undefined;
}
