import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { TokenCipher } from '@postwire/crypto';
import { openUnexpired, sealJson } from './sealed-json.ts';

/**
 * A stream ticket opens `GET /v1/events` for a browser, whose EventSource cannot send an Authorization
 * header: a bearer caller asks for one and puts it in the stream's URL. It is sealed with the token key ring
 * (AES-256-GCM) under an authenticated context of its own, so every gateway instance opens it without
 * shared state, nobody can read or forge it, and no other sealed value (a connect cookie) passes for one.
 * It names the user, their organisation and the type filter it was issued for, and expires a minute later.
 */
const SEAL_CONTEXT = 'gateway:events-stream-ticket';

export const STREAM_TICKET_TTL_MS = 60_000;

const StreamTicket = z.strictObject({
  /** Names the ticket once it is redeemed: it opens one stream. */
  id: z.uuid(),
  userId: z.uuid(),
  organisationId: z.uuid(),
  /** The `types` filter it was issued for, as `canonicalTypes` spells it; null: every type. */
  types: z.string().min(1).nullable(),
  expiresAt: z.number().int(),
});
export type StreamTicket = z.infer<typeof StreamTicket>;

export function issueStreamTicket(
  cipher: TokenCipher,
  input: { readonly userId: string; readonly organisationId: string; readonly types: string | null; readonly now: number },
): { readonly ticket: StreamTicket; readonly sealed: string } {
  const ticket: StreamTicket = {
    id: randomUUID(),
    userId: input.userId,
    organisationId: input.organisationId,
    types: input.types,
    expiresAt: input.now + STREAM_TICKET_TTL_MS,
  };
  return { ticket, sealed: sealJson(cipher, ticket, SEAL_CONTEXT) };
}

export type OpenedTicket = { readonly ok: true; readonly ticket: StreamTicket } | { readonly ok: false; readonly reason: 'invalid' | 'expired' };

/** The ticket sealed in `sealed`, unless it is not one of ours or has expired. */
export function openStreamTicket(cipher: TokenCipher, sealed: string, now: number): OpenedTicket {
  const opened = openUnexpired(cipher, sealed, SEAL_CONTEXT, StreamTicket, now);
  return opened.ok ? { ok: true, ticket: opened.value } : opened;
}
