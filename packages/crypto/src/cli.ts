// node packages/crypto/src/cli.ts generate-key   prints a new random 32-byte key (base64)
import { generateKey } from './token-cipher.ts';

const [command] = process.argv.slice(2);
if (command === 'generate-key') {
  console.log(generateKey());
} else {
  console.error('usage: cli.ts generate-key');
  process.exitCode = 2;
}
