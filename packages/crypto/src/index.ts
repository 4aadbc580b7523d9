export {
  TokenCipherError,
  columnContext,
  createTokenCipher,
  generateKey,
  isCiphertext,
  keyIdOf,
  type CipherContext,
  type KeyRing,
  type TokenCipher,
} from './token-cipher.ts';
export { decodeKey, keyRingEnvironment } from './key-ring-config.ts';
