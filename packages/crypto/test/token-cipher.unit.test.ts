import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@postwire/config';
import {
  TokenCipherError,
  columnContext,
  createTokenCipher,
  decodeKey,
  eventFieldContext,
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

/** The error `run` throws, checked to be a TokenCipherError. */
function refusal(run: () => unknown): TokenCipherError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TokenCipherError);
    return error as TokenCipherError;
  }
  throw new Error('expected a TokenCipherError, nothing was thrown');
}

const iv16 = 'AAAAAAAAAAAAAAAA';
const tag22 = 'BBBBBBBBBBBBBBBBBBBBBB';

describe('token cipher', () => {
  const oneKey = () => createTokenCipher(ring('k1', ['k1']));

  it('round-trips a token and never shows it in the ciphertext', () => {
    const cipher = oneKey();
    const sealed = cipher.encrypt(token, accountA);
    expect(sealed).toMatch(/^enc:v1:k1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+:[A-Za-z0-9_-]{22}$/);
    expect(sealed).not.toContain(token);
    expect(isCiphertext(sealed)).toBe(true);
    expect(cipher.decrypt(sealed, accountA)).toBe(token);
    expect(cipher.activeKeyId).toBe('k1');
  });

  it('round-trips an empty token and one outside ASCII', () => {
    const cipher = oneKey();
    const empty = cipher.encrypt('', accountA);
    expect(empty).toMatch(/^enc:v1:k1:[A-Za-z0-9_-]{16}::[A-Za-z0-9_-]{22}$/);
    expect(cipher.decrypt(empty, accountA)).toBe('');
    expect(cipher.decrypt(cipher.encrypt('jeton-été-✓', accountA), accountA)).toBe('jeton-été-✓');
  });

  it('uses a fresh 12-byte IV and a 16-byte tag every time, so equal tokens give different ciphertexts', () => {
    const cipher = oneKey();
    const first = cipher.encrypt(token, accountA);
    const second = cipher.encrypt(token, accountA);
    expect(first).not.toBe(second);
    expect(Buffer.from(first.split(':')[3] ?? '', 'base64url')).toHaveLength(12);
    expect(Buffer.from(first.split(':')[5] ?? '', 'base64url')).toHaveLength(16);
    expect(Buffer.from(first.split(':')[4] ?? '', 'base64url')).toHaveLength(Buffer.byteLength(token));
  });

  it('a ciphertext moved to another row or column does not decrypt', () => {
    const cipher = oneKey();
    const sealed = cipher.encrypt(token, accountA);
    const moved = refusal(() => cipher.decrypt(sealed, accountB));
    expect(moved.reason).toBe('not-authentic');
    expect(moved.message).toBe('ciphertext failed authentication');
    expect(moved.name).toBe('TokenCipherError');
    expect(refusal(() => cipher.decrypt(sealed, columnContext('social_media_accounts', 'x', 'refresh_token'))).reason).toBe('not-authentic');
    expect(refusal(() => cipher.decrypt(sealed, '')).reason).toBe('not-authentic');
  });

  it('a ciphertext does not decrypt under another key given the same key id', () => {
    const sealed = oneKey().encrypt(token, accountA);
    expect(refusal(() => oneKey().decrypt(sealed, accountA)).reason).toBe('not-authentic');
  });

  it('any tampered part is refused', () => {
    const cipher = oneKey();
    const sealed = cipher.encrypt(token, accountA);
    const parts = sealed.split(':');
    for (const index of [3, 4, 5]) {
      const altered = [...parts];
      const part = altered[index] ?? '';
      altered[index] = (part[0] === 'A' ? 'B' : 'A') + part.slice(1);
      expect(refusal(() => cipher.decrypt(altered.join(':'), accountA)).reason).toBe('not-authentic');
    }
    const malformed = refusal(() => cipher.decrypt('plaintext-token', accountA));
    expect(malformed.reason).toBe('malformed');
    expect(malformed.message).toBe('not a Postwire ciphertext');
  });

  it.each([
    ['the whole format', `enc:v1:k1:${iv16}:body:${tag22}`, true],
    ['an empty body', `enc:v1:k1:${iv16}::${tag22}`, true],
    ['a 32-character key id', `enc:v1:${'k'.repeat(32)}:${iv16}:body:${tag22}`, true],
    ['a key id of A-Z a-z 0-9 _ -', `enc:v1:Az09_-:${iv16}:b-o_dy:${tag22}`, true],
    ['another version', `enc:v2:k1:${iv16}:body:${tag22}`, false],
    ['another prefix', `xenc:v1:k1:${iv16}:body:${tag22}`, false],
    ['text before it', ` enc:v1:k1:${iv16}:body:${tag22}`, false],
    ['text after it', `enc:v1:k1:${iv16}:body:${tag22} `, false],
    ['an extra part', `enc:v1:k1:${iv16}:body:${tag22}:x`, false],
    ['no key id', `enc:v1::${iv16}:body:${tag22}`, false],
    ['a 33-character key id', `enc:v1:${'k'.repeat(33)}:${iv16}:body:${tag22}`, false],
    ['a 15-character IV', `enc:v1:k1:${iv16.slice(1)}:body:${tag22}`, false],
    ['a 17-character IV', `enc:v1:k1:${iv16}A:body:${tag22}`, false],
    ['a 21-character tag', `enc:v1:k1:${iv16}:body:${tag22.slice(1)}`, false],
    ['a 23-character tag', `enc:v1:k1:${iv16}:body:${tag22}B`, false],
    ['base64 (not base64url) in the body', `enc:v1:k1:${iv16}:bo+dy/=:${tag22}`, false],
    ['base64 in the IV', `enc:v1:k1:AAAAAAAAAAAAAAA+:body:${tag22}`, false],
    ['base64 in the tag', `enc:v1:k1:${iv16}:body:BBBBBBBBBBBBBBBBBBBBB/`, false],
    ['a dot in the key id', `enc:v1:k.1:${iv16}:body:${tag22}`, false],
    ['a plaintext token', token, false],
  ])('recognises a ciphertext only by its exact shape: %s', (_what, value, expected) => {
    expect(isCiphertext(value)).toBe(expected);
  });

  it('tells the key id of a ciphertext and refuses to guess one for anything else', () => {
    expect(keyIdOf(`enc:v1:2026-07:${iv16}:body:${tag22}`)).toBe('2026-07');
    for (const value of ['plaintext-token', `enc:v1:k1:${iv16}:body:${tag22} trailing`, `enc:v1::${iv16}:body:${tag22}`]) {
      const refused = refusal(() => keyIdOf(value));
      expect(refused.reason).toBe('malformed');
      expect(refused.message).toBe('not a Postwire ciphertext');
    }
    expect(() => oneKey().needsReencryption('plaintext-token')).toThrow(/not a Postwire ciphertext/);
  });

  it('rotates without downtime: old ciphertexts still decrypt, new ones use the active key', () => {
    const oldKeys = ring('2026-01', ['2026-01']);
    const before = createTokenCipher(oldKeys);
    const sealedBefore = before.encrypt(token, accountA);
    expect(keyIdOf(sealedBefore)).toBe('2026-01');

    const rotatedKeys = { activeKeyId: '2026-07', keys: new Map([...oldKeys.keys, ['2026-07', randomBytes(32)]]) };
    const after = createTokenCipher(rotatedKeys);
    expect(after.decrypt(sealedBefore, accountA)).toBe(token);
    expect(after.needsReencryption(sealedBefore)).toBe(true);

    const moved = after.reencrypt(sealedBefore, accountA);
    expect(keyIdOf(moved)).toBe('2026-07');
    expect(after.needsReencryption(moved)).toBe(false);
    expect(after.decrypt(moved, accountA)).toBe(token);
    expect(refusal(() => after.reencrypt(sealedBefore, accountB)).reason).toBe('not-authentic');

    const retired = createTokenCipher({ activeKeyId: '2026-07', keys: new Map([['2026-07', rotatedKeys.keys.get('2026-07') ?? Buffer.alloc(0)]]) });
    expect(retired.decrypt(moved, accountA)).toBe(token);
    const unknown = refusal(() => retired.decrypt(sealedBefore, accountA));
    expect(unknown.reason).toBe('unknown-key');
    expect(unknown.message).toBe('no key "2026-01" in the key ring');
  });

  it('refuses keys that are not exactly 32 bytes and an active key missing from the ring', () => {
    for (const size of [16, 31, 33]) {
      const short = refusal(() => createTokenCipher({ activeKeyId: 'k', keys: new Map([['k', randomBytes(size)]]) }));
      expect(short.reason).toBe('malformed');
      expect(short.message).toBe('key "k" must be 32 bytes');
    }
    const absent = refusal(() => createTokenCipher({ activeKeyId: 'absent', keys: new Map([['k', randomBytes(32)]]) }));
    expect(absent.reason).toBe('unknown-key');
    expect(absent.message).toBe('the active key "absent" is not in the key ring');
  });

  it.each([
    ['a colon, which would split the ciphertext format', 'k:1'],
    ['an empty id', ''],
    ['33 characters', 'k'.repeat(33)],
    ['a dot', 'k.1'],
    ['a space before it', ' k1'],
    ['a space after it', 'k1 '],
  ])('refuses a key id with %s, even one that is not the active key', (_what, id) => {
    const refused = refusal(() => createTokenCipher({ activeKeyId: 'k1', keys: new Map([['k1', randomBytes(32)], [id, randomBytes(32)]]) }));
    expect(refused.reason).toBe('malformed');
    expect(refused.message).toBe(`key id "${id}" must be 1-32 of A-Z a-z 0-9 _ -`);
  });

  it('names where a ciphertext belongs: a table row column, or an event field (the receiver decrypts with the same)', () => {
    expect(columnContext('social_media_accounts', 'row-1', 'access_token')).toBe('social_media_accounts:row-1:access_token');
    expect(eventFieldContext('account.connected', 'acc-1', 'accessToken')).toBe('event:account.connected:acc-1:accessToken');
    const cipher = oneKey();
    const inEvent = cipher.encrypt(token, eventFieldContext('account.connected', 'acc-1', 'accessToken'));
    expect(cipher.decrypt(inEvent, 'event:account.connected:acc-1:accessToken')).toBe(token);
    expect(refusal(() => cipher.decrypt(inEvent, eventFieldContext('account.token-refreshed', 'acc-1', 'accessToken'))).reason).toBe('not-authentic');
  });

  it('generates 32-byte keys, a different one each time', () => {
    const first = generateKey();
    expect(Buffer.from(first, 'base64')).toHaveLength(32);
    expect(generateKey()).not.toBe(first);
  });

  it('accepts key ids of 1 and 32 characters of A-Z a-z 0-9 _ -', () => {
    for (const id of ['k', 'Az09_-'.padEnd(32, 'x')]) {
      const cipher = createTokenCipher(ring(id, [id]));
      expect(cipher.decrypt(cipher.encrypt(token, accountA), accountA)).toBe(token);
    }
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
