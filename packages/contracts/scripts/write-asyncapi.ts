// Writes the catalogue's AsyncAPI document next to the package (served by the gateway).
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildAsyncApiDocument } from '../src/index.ts';

const target = fileURLToPath(new URL('../asyncapi.json', import.meta.url));
await writeFile(target, `${JSON.stringify(buildAsyncApiDocument(), null, 2)}\n`);
console.log(`wrote ${target}`);
