import type { z } from 'zod';
import { type TokenCipher, TokenCipherError } from '@postwire/crypto';

/**
 * A value the gateway hands to a browser or client and takes back (connect cookies, stream tickets): JSON
 * sealed with the token key ring under a context naming what it is, so one kind can never be opened as another.
 */
export function sealJson(cipher: TokenCipher, value: unknown, context: string): string {
  return cipher.encrypt(JSON.stringify(value), context);
}

/**
 * The value sealed in `sealed` under `context`, when it is one of ours and has the schema's shape; undefined
 * for anything else (tampered, other keys, another context, not JSON, another shape). Only the cipher's and
 * JSON's refusals are taken as "not ours": any other error is a fault and is thrown.
 */
export function openSealedJson<Schema extends z.ZodType>(cipher: TokenCipher, sealed: string, context: string, schema: Schema): z.output<Schema> | undefined {
  let text: string;
  try {
    text = cipher.decrypt(sealed, context);
  } catch (error) {
    if (error instanceof TokenCipherError) return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** A sealed value that carries its own expiry (a ticket), opened: the value, or why it was refused. */
export type OpenedUnexpired<Value> = { readonly ok: true; readonly value: Value } | { readonly ok: false; readonly reason: 'invalid' | 'expired' };

/** The value sealed in `sealed` under `context` (see openSealedJson), unless its `expiresAt` is not after `now`. */
export function openUnexpired<Schema extends z.ZodType<{ readonly expiresAt: number }>>(
  cipher: TokenCipher,
  sealed: string,
  context: string,
  schema: Schema,
  now: number,
): OpenedUnexpired<z.output<Schema>> {
  const value = openSealedJson(cipher, sealed, context, schema);
  if (value === undefined) return { ok: false, reason: 'invalid' };
  return value.expiresAt <= now ? { ok: false, reason: 'expired' } : { ok: true, value };
}
