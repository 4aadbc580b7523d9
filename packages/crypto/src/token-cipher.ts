import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Tokens at rest and in events: AES-256-GCM, a fresh 12-byte IV per encryption, a 16-byte tag.
 *
 *   enc:v1:<key id>:<iv>:<ciphertext>:<tag>        (base64url parts)
 *
 * The key id travels in the ciphertext so keys rotate without downtime: the active key encrypts,
 * every key in the ring still decrypts, and re-encryption moves old rows to the active key.
 * The additional authenticated data binds a ciphertext to where it belongs (for a column:
 * `<table>:<row id>:<column>`), so a token copied into another row or column does not decrypt.
 */
const FORMAT_VERSION = 'v1';
const PREFIX = `enc:${FORMAT_VERSION}:`;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const CIPHERTEXT = /^enc:v1:([A-Za-z0-9_-]{1,32}):([A-Za-z0-9_-]{16}):([A-Za-z0-9_-]*):([A-Za-z0-9_-]{22})$/;

export type KeyRing = { readonly activeKeyId: string; readonly keys: ReadonlyMap<string, Buffer> };

export class TokenCipherError extends Error {
  readonly reason: 'malformed' | 'unknown-key' | 'not-authentic';

  constructor(reason: TokenCipherError['reason'], message: string) {
    super(message);
    this.name = 'TokenCipherError';
    this.reason = reason;
  }
}

/** Where a ciphertext belongs; part of the authenticated data. */
export type CipherContext = string;

export function columnContext(table: string, rowId: string, column: string): CipherContext {
  return `${table}:${rowId}:${column}`;
}

export type TokenCipher = {
  encrypt(plaintext: string, context: CipherContext): string;
  decrypt(ciphertext: string, context: CipherContext): string;
  /** True when the ciphertext was made with another key than the active one. */
  needsReencryption(ciphertext: string): boolean;
  /** Decrypts with whatever key made it and encrypts again with the active key. */
  reencrypt(ciphertext: string, context: CipherContext): string;
  readonly activeKeyId: string;
};

export function isCiphertext(value: string): boolean {
  return CIPHERTEXT.test(value);
}

export function keyIdOf(ciphertext: string): string {
  const match = CIPHERTEXT.exec(ciphertext);
  if (!match?.[1]) throw new TokenCipherError('malformed', 'not a Postwire ciphertext');
  return match[1];
}

export function createTokenCipher(ring: KeyRing): TokenCipher {
  const activeKey = ring.keys.get(ring.activeKeyId);
  if (!activeKey) throw new TokenCipherError('unknown-key', `the active key "${ring.activeKeyId}" is not in the key ring`);
  for (const [id, key] of ring.keys) {
    if (!KEY_ID.test(id)) throw new TokenCipherError('malformed', `key id "${id}" must be 1-32 of A-Z a-z 0-9 _ -`);
    if (key.length !== KEY_BYTES) throw new TokenCipherError('malformed', `key "${id}" must be ${KEY_BYTES} bytes`);
  }

  const aad = (keyId: string, context: CipherContext) => Buffer.from(`${PREFIX}${keyId}:${context}`, 'utf8');

  const encrypt = (plaintext: string, context: CipherContext): string => {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', activeKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(ring.activeKeyId, context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return `${PREFIX}${ring.activeKeyId}:${iv.toString('base64url')}:${body.toString('base64url')}:${tag.toString('base64url')}`;
  };

  const decrypt = (ciphertext: string, context: CipherContext): string => {
    const match = CIPHERTEXT.exec(ciphertext);
    if (!match) throw new TokenCipherError('malformed', 'not a Postwire ciphertext');
    const [, keyId = '', iv = '', body = '', tag = ''] = match;
    const key = ring.keys.get(keyId);
    if (!key) throw new TokenCipherError('unknown-key', `no key "${keyId}" in the key ring`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(keyId, context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      // Wrong key material, a tampered part or another row's context: never say which.
      throw new TokenCipherError('not-authentic', 'ciphertext failed authentication');
    }
  };

  return {
    activeKeyId: ring.activeKeyId,
    encrypt,
    decrypt,
    needsReencryption: (ciphertext) => keyIdOf(ciphertext) !== ring.activeKeyId,
    reencrypt: (ciphertext, context) => encrypt(decrypt(ciphertext, context), context),
  };
}

export function generateKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

/** Where a token inside an event belongs: the receiving service decrypts with the same context. */
export function eventFieldContext(eventType: string, key: string, field: string): CipherContext {
  return `event:${eventType}:${key}:${field}`;
}
