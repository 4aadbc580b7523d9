export {
  TokenCipherError,
  columnContext,
  eventFieldContext,
  createTokenCipher,
  generateKey,
  isCiphertext,
  keyIdOf,
  type CipherContext,
  type KeyRing,
  type TokenCipher,
} from './token-cipher.ts';
export { decodeKey, keyRingEnvironment, keyRingFields, toKeyRing } from './key-ring-config.ts';
