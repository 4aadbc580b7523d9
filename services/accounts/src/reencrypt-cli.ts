import { z } from 'zod';
import { DEFAULT_DATABASE_URL, fields, loadConfig } from '@postwire/config';
import { createTokenCipher, keyRingFields, toKeyRing } from '@postwire/crypto';
import { createDatabasePool, serviceConnectionUrls } from '@postwire/db';
import { reencryptTokens } from './db/reencrypt.ts';

// `npm run reencrypt -w @postwire/accounts`: after making a new key active, re-encrypts every stored token
// with it (see README, "Key rotation"). Runs as the worker role; prints one JSON report.
const schema = z
  .object({
    ACCOUNTS_WORKER_DATABASE_URL: fields.optionalPostgresUrl,
    DATABASE_URL: fields.postgresUrl(DEFAULT_DATABASE_URL),
    REENCRYPT_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(200),
    ...keyRingFields,
  })
  .transform((env, context) => ({
    workerUrl: serviceConnectionUrls('accounts', env.DATABASE_URL, { worker: env.ACCOUNTS_WORKER_DATABASE_URL }).worker,
    batchSize: env.REENCRYPT_BATCH_SIZE,
    keyRing: toKeyRing(env, context),
  }));

const config = loadConfig(schema, process.env);
const pool = await createDatabasePool(config.workerUrl, { applicationName: 'accounts-reencrypt' });
try {
  const report = await reencryptTokens(pool, createTokenCipher(config.keyRing), { batchSize: config.batchSize });
  process.stdout.write(`${JSON.stringify({ activeKeyId: config.keyRing.activeKeyId, ...report })}\n`);
  if (report.failed > 0) process.exitCode = 1;
} finally {
  await pool.end();
}
