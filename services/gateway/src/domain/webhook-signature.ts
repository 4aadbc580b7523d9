import { type KeyObject, createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';

/** Standard Webhooks secrets: `whsec_` and the base64 of the key's bytes. */
export const SECRET_PREFIX = 'whsec_';
/** The spec asks for 24 to 64 bytes of key. */
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;

/** A new secret of 32 random bytes, as we generate it when the caller gives none. */
export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/** The key bytes of a well-formed secret, or null: the prefix, strict base64, 24-64 bytes. */
export function secretKey(secret: string): Buffer | null {
  if (!secret.startsWith(SECRET_PREFIX)) return null;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return null;
  const key = Buffer.from(encoded, 'base64');
  return key.length >= MIN_SECRET_BYTES && key.length <= MAX_SECRET_BYTES ? key : null;
}

/** Signs messages for one secret; its key is prepared once (a key object per message costs more than the HMAC). */
export function webhookSigner(secret: string): (messageId: string, timestampSeconds: number, body: string) => string {
  const key = secretKey(secret);
  if (key === null) throw new Error('not a webhook secret (whsec_ and base64 of 24-64 bytes)');
  const keyObject: KeyObject = createSecretKey(key);
  return (messageId, timestampSeconds, body) => `v1,${createHmac('sha256', keyObject).update(`${messageId}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/**
 * The `webhook-signature` header value: `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`
 * (timestamp in whole seconds), keyed by the secret's bytes.
 */
export function signWebhook(secret: string, messageId: string, timestampSeconds: number, body: string): string {
  return webhookSigner(secret)(messageId, timestampSeconds, body);
}

/**
 * True when one of the space-separated signatures of `header` is ours for this message, and the
 * timestamp lies within `toleranceSeconds` of `nowSeconds` (a receiver's side; our tests and docs use it).
 */
export function verifyWebhook(
  secret: string,
  message: { readonly id: string; readonly timestampSeconds: number; readonly body: string; readonly signatureHeader: string },
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  if (Math.abs(nowSeconds - message.timestampSeconds) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, message.id, message.timestampSeconds, message.body));
  return message.signatureHeader.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
