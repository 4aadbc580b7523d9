import { z } from 'zod';
import type { KeyRing } from './token-cipher.ts';

/**
 * Decodes a key to exactly 32 bytes: 64 hex characters, or standard / URL-safe base64 of 32 bytes.
 * Anything else is refused rather than stretched or truncated.
 */
export function decodeKey(encoded: string): Buffer | undefined {
  const value = encoded.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return bytes.length === 32 ? bytes : undefined;
  }
  return undefined;
}

/**
 * `TOKEN_ENCRYPTION_KEYS=2026-01:<key>,2026-07:<key>` and `TOKEN_ENCRYPTION_ACTIVE_KEY=2026-07`.
 * To rotate: add the new key, make it active, run the re-encryption command, then retire the old one.
 */
export const keyRingFields = {
  TOKEN_ENCRYPTION_KEYS: z.string().min(1, 'is required (id:key pairs, comma-separated)'),
  TOKEN_ENCRYPTION_ACTIVE_KEY: z.string().min(1, 'is required (one of the key ids)'),
};

type KeyRingFields = z.output<z.ZodObject<typeof keyRingFields>>;

/** For a service schema that spreads `keyRingFields`: call from its transform. */
export function toKeyRing(env: KeyRingFields, context: z.RefinementCtx): KeyRing {
  const keys = new Map<string, Buffer>();
  for (const [index, entry] of env.TOKEN_ENCRYPTION_KEYS.split(',').entries()) {
    const separator = entry.indexOf(':');
    const id = entry.slice(0, separator).trim();
    const key = separator > 0 ? decodeKey(entry.slice(separator + 1)) : undefined;
    if (!id || !/^[A-Za-z0-9_-]{1,32}$/.test(id) || !key) {
      // The message names the entry's position, never its value: this is a secret.
      context.addIssue({
        code: 'custom',
        path: ['TOKEN_ENCRYPTION_KEYS'],
        message: `entry ${index + 1} must be <id>:<32-byte key as 64 hex or base64>`,
      });
      continue;
    }
    if (keys.has(id)) context.addIssue({ code: 'custom', path: ['TOKEN_ENCRYPTION_KEYS'], message: `key id "${id}" appears twice` });
    keys.set(id, key);
  }
  if (!keys.has(env.TOKEN_ENCRYPTION_ACTIVE_KEY)) {
    context.addIssue({
      code: 'custom',
      path: ['TOKEN_ENCRYPTION_ACTIVE_KEY'],
      message: `"${env.TOKEN_ENCRYPTION_ACTIVE_KEY}" is not one of the key ids in TOKEN_ENCRYPTION_KEYS`,
    });
  }
  return { activeKeyId: env.TOKEN_ENCRYPTION_ACTIVE_KEY, keys };
}

export const keyRingEnvironment = z.object(keyRingFields).transform(toKeyRing);
