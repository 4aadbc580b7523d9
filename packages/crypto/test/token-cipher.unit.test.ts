import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@postwire/config';
import {
  TokenCipherError,
  columnContext,
  createTokenCipher,
  decodeKey,
  generateKey,
  isCiphertext,
  keyIdOf,
  keyRingEnvironment,
} from '../src/index.ts';

const token = 'EAAGm0PX4ZCpsBAMZBZAlongLivedUserAccessToken1234567890';
const accountA = columnContext('social_media_accounts', '0b7f6d7e-1111-4c1c-9a51-1c0a5a1f0a01', 'access_token');
const accountB = columnContext('social_media_accounts', '0b7f6d7e-2222-4c1c-9a51-1c0a5a1f0a02', 'access_token');

function ring(activeKeyId: string, ids: string[]) {
  return { activeKeyId, keys: new Map(ids.map((id) => [id, randomBytes(32)])) };
}

describe('token cipher', () => {
  const keys = ring('k1', ['k1']);
  const cipher = createTokenCipher(keys);

  it('round-trips a token and never shows it in the ciphertext', () => {
    const sealed = cipher.encrypt(token, accountA);
    expect(sealed).toMatch(/^enc:v1:k1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+:[A-Za-z0-9_-]{22}$/);
    expect(sealed).not.toContain(token);
    expect(isCiphertext(sealed)).toBe(true);
    expect(cipher.decrypt(sealed, accountA)).toBe(token);
  });

  it('uses a fresh 12-byte IV every time, so equal tokens give different ciphertexts', () => {
    const first = cipher.encrypt(token, accountA);
    const second = cipher.encrypt(token, accountA);
    expect(first).not.toBe(second);
    expect(Buffer.from(first.split(':')[3] ?? '', 'base64url')).toHaveLength(12);
  });

  it('a ciphertext moved to another row or column does not decrypt', () => {
    const sealed = cipher.encrypt(token, accountA);
    expect(() => cipher.decrypt(sealed, accountB)).toThrow(TokenCipherError);
    expect(() => cipher.decrypt(sealed, columnContext('social_media_accounts', 'x', 'refresh_token'))).toThrow(/failed authentication/);
  });

  it('any tampered part is refused', () => {
    const sealed = cipher.encrypt(token, accountA);
    const parts = sealed.split(':');
    for (const index of [3, 4, 5]) {
      const altered = [...parts];
      const part = altered[index] ?? '';
      altered[index] = (part[0] === 'A' ? 'B' : 'A') + part.slice(1);
      expect(() => cipher.decrypt(altered.join(':'), accountA)).toThrow(TokenCipherError);
    }
    expect(() => cipher.decrypt('plaintext-token', accountA)).toThrow(/not a Postwire ciphertext/);
  });

  it('rotates without downtime: old ciphertexts still decrypt, new ones use the active key', () => {
    const oldKeys = ring('2026-01', ['2026-01']);
    const before = createTokenCipher(oldKeys);
    const sealedBefore = before.encrypt(token, accountA);

    const rotatedKeys = { activeKeyId: '2026-07', keys: new Map([...oldKeys.keys, ['2026-07', randomBytes(32)]]) };
    const after = createTokenCipher(rotatedKeys);
    expect(after.decrypt(sealedBefore, accountA)).toBe(token);
    expect(after.needsReencryption(sealedBefore)).toBe(true);

    const moved = after.reencrypt(sealedBefore, accountA);
    expect(keyIdOf(moved)).toBe('2026-07');
    expect(after.needsReencryption(moved)).toBe(false);
    expect(after.decrypt(moved, accountA)).toBe(token);

    const retired = createTokenCipher({ activeKeyId: '2026-07', keys: new Map([['2026-07', rotatedKeys.keys.get('2026-07') ?? Buffer.alloc(0)]]) });
    expect(retired.decrypt(moved, accountA)).toBe(token);
    expect(() => retired.decrypt(sealedBefore, accountA)).toThrow(/no key "2026-01"/);
  });

  it('refuses keys that are not exactly 32 bytes and an active key missing from the ring', () => {
    expect(() => createTokenCipher({ activeKeyId: 'k', keys: new Map([['k', randomBytes(16)]]) })).toThrow(/32 bytes/);
    expect(() => createTokenCipher({ activeKeyId: 'absent', keys: new Map([['k', randomBytes(32)]]) })).toThrow(/not in the key ring/);
  });
});

describe('key ring configuration', () => {
  it('decodes hex and base64 keys to 32 bytes and nothing else', () => {
    expect(decodeKey('00'.repeat(32))).toHaveLength(32);
    expect(decodeKey(generateKey())).toHaveLength(32);
    expect(decodeKey(randomBytes(32).toString('base64url'))).toHaveLength(32);
    expect(decodeKey('a-passphrase-that-is-not-a-key-at-all')).toBeUndefined();
    expect(decodeKey(randomBytes(24).toString('base64'))).toBeUndefined();
  });

  it('reads a key ring from the environment', () => {
    const first = generateKey();
    const second = '11'.repeat(32);
    const parsed = loadConfig(keyRingEnvironment, {
      TOKEN_ENCRYPTION_KEYS: `2026-01:${first},2026-07:${second}`,
      TOKEN_ENCRYPTION_ACTIVE_KEY: '2026-07',
    });
    expect(parsed.activeKeyId).toBe('2026-07');
    expect([...parsed.keys.keys()]).toEqual(['2026-01', '2026-07']);
    expect(parsed.keys.get('2026-07')?.toString('hex')).toBe(second);
  });

  it('names the bad entry without echoing key material', () => {
    const secret = 'not-a-real-key-but-secret';
    let error: unknown;
    try {
      loadConfig(keyRingEnvironment, { TOKEN_ENCRYPTION_KEYS: `a:${generateKey()},b:${secret}`, TOKEN_ENCRYPTION_ACTIVE_KEY: 'c' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('entry 2');
    expect((error as ConfigError).message).toContain('"c" is not one of the key ids');
    expect((error as ConfigError).message).not.toContain(secret);
  });
});
