import { z } from 'zod';
import type { TokenCipher } from '@postwire/crypto';
import { RETURN_TO_MAX_LENGTH } from './connect-return.ts';
import { PROVIDERS, type Provider } from './connect-session.ts';
import { openUnexpired, sealJson } from './sealed-json.ts';

/**
 * A connect ticket starts a connect flow in a browser that has no bearer token: a web app asks for one
 * with its token (POST /v1/connect/{provider}/tickets) and navigates the browser to the start URL that
 * carries it, so the flow's cookie is set by a top-level navigation (first-party, whatever site the app is
 * on). A result page mints one for its "Start again" link. It is sealed with the token key ring under a
 * context of its own (no stream ticket or connect cookie passes for one), names the user, organisation,
 * provider and the flow's returnTo and accountId, and expires soon. It is not single use: within its
 * lifetime it can start a flow more than once, for the same user and flow only.
 */
const SEAL_CONTEXT = 'gateway:connect-ticket';

/** A ticket a web app asks for: the browser is sent to it at once. */
export const CONNECT_TICKET_TTL_MS = 2 * 60 * 1000;
/** A ticket in a result page's link: long enough for a person to read the page first. */
export const PAGE_CONNECT_TICKET_TTL_MS = 10 * 60 * 1000;

const ConnectTicket = z.strictObject({
  userId: z.uuid(),
  organisationId: z.uuid(),
  provider: z.enum(PROVIDERS),
  returnTo: z.string().max(RETURN_TO_MAX_LENGTH).optional(),
  accountId: z.uuid().optional(),
  expiresAt: z.number().int(),
});
export type ConnectTicket = z.infer<typeof ConnectTicket>;

export function issueConnectTicket(
  cipher: TokenCipher,
  input: Omit<ConnectTicket, 'expiresAt'> & { readonly now: number; readonly ttlMs: number },
): { readonly ticket: ConnectTicket; readonly sealed: string } {
  const { now, ttlMs, returnTo, accountId, ...who } = input;
  const ticket: ConnectTicket = { ...who, ...(returnTo === undefined ? {} : { returnTo }), ...(accountId === undefined ? {} : { accountId }), expiresAt: now + ttlMs };
  return { ticket, sealed: sealJson(cipher, ticket, SEAL_CONTEXT) };
}

export type OpenedConnectTicket = { readonly ok: true; readonly ticket: ConnectTicket } | { readonly ok: false; readonly reason: 'invalid' | 'expired' };

/** The ticket sealed in `sealed`, unless it is not one of ours, is for another provider or has expired. */
export function openConnectTicket(cipher: TokenCipher, sealed: string, expected: { readonly provider: Provider; readonly now: number }): OpenedConnectTicket {
  const opened = openUnexpired(cipher, sealed, SEAL_CONTEXT, ConnectTicket, expected.now);
  if (!opened.ok) return opened;
  return opened.value.provider === expected.provider ? { ok: true, ticket: opened.value } : { ok: false, reason: 'invalid' };
}
