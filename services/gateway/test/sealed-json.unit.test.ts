import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type TokenCipher, createTokenCipher } from '@postwire/crypto';
import { openSealedJson, sealJson } from '../src/domain/sealed-json.ts';

const newCipher = () => createTokenCipher({ activeKeyId: 'k1', keys: new Map([['k1', randomBytes(32)]]) });
const Shape = z.object({ id: z.string(), count: z.int() });

describe('sealed JSON values', () => {
  it('opens what it sealed, under the same context, with the shape asked for', () => {
    const cipher = newCipher();
    const sealed = sealJson(cipher, { id: 'a', count: 2 }, 'test:one');
    expect(sealed).not.toContain('"id"');
    expect(openSealedJson(cipher, sealed, 'test:one', Shape)).toEqual({ id: 'a', count: 2 });
  });

  it('opens nothing sealed under another context, with other keys, tampered with, not JSON, or of another shape', () => {
    const cipher = newCipher();
    const sealed = sealJson(cipher, { id: 'a', count: 2 }, 'test:one');
    expect(openSealedJson(cipher, sealed, 'test:two', Shape)).toBeUndefined();
    expect(openSealedJson(newCipher(), sealed, 'test:one', Shape)).toBeUndefined();
    const flipped = `${sealed.slice(0, -2)}${sealed.at(-2) === 'A' ? 'B' : 'A'}${sealed.at(-1)}`;
    expect(openSealedJson(cipher, flipped, 'test:one', Shape)).toBeUndefined();
    expect(openSealedJson(cipher, 'garbage', 'test:one', Shape)).toBeUndefined();
    expect(openSealedJson(cipher, cipher.encrypt('{not json', 'test:one'), 'test:one', Shape)).toBeUndefined();
    expect(openSealedJson(cipher, sealJson(cipher, { id: 'a', count: 'two' }, 'test:one'), 'test:one', Shape)).toBeUndefined();
  });

  it("throws what is not the cipher's or JSON's refusal: a fault, not a stranger's value", () => {
    const broken: TokenCipher = { ...newCipher(), decrypt: () => { throw new RangeError('key ring broken'); } };
    expect(() => openSealedJson(broken, 'anything', 'test:one', Shape)).toThrow('key ring broken');
  });
});
