// `npm run mutation`: StrykerJS against this workspace's unit tests (base in the root stryker.shared.ts).
//
// Equivalent mutants (they survive or go uncovered and change nothing observable), token-cipher.ts:
// - `{ authTagLength: TAG_BYTES }` -> `{}` in createCipheriv: AES-GCM's default tag is 16 bytes.
// - the same in createDecipheriv: the ciphertext pattern already admits only a 22-character
//   (16-byte) tag, so the decipher never sees another length.
// - `'utf8'` -> `''` in the AAD's Buffer.from and in cipher.update: Node reads an empty encoding
//   name as the default, UTF-8 (a non-ASCII round trip is tested).
// - the `= ''` defaults in decrypt's destructuring -> any other string: every group of the pattern
//   takes part in a match (the body's may be empty, never absent), so a default is never used.
import { mutationConfig } from '../../stryker.shared.ts';

export default mutationConfig(['src/token-cipher.ts']);
