import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KeyRing, columnContext, createTokenCipher } from '@postwire/crypto';
import { type DatabasePool, createDatabasePool } from '@postwire/db';
import { type TestDatabase, createTestDatabase } from '@postwire/testing';
import { reencryptTokens } from '../src/db/reencrypt.ts';

const context = (id: string, column = 'access_token') => columnContext('social_media_accounts', id, column);

describe('re-encrypting stored tokens with the active key', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  let pool: DatabasePool;
  const organisationId = randomUUID();
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const before: KeyRing = { activeKeyId: 'old', keys: new Map([['old', oldKey]]) };
  const rotated: KeyRing = { activeKeyId: 'new', keys: new Map([['old', oldKey], ['new', newKey]]) };
  const ids: string[] = Array.from({ length: 7 }, () => randomUUID());
  const [erased, lost] = [randomUUID(), randomUUID()];

  beforeAll(async () => {
    database = await createTestDatabase('accounts_reencrypt');
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    await admin.query(`INSERT INTO organisations (id, name) VALUES ($1, 'rotation')`, [organisationId]);
    const cipher = createTokenCipher(before);
    const insert = (id: string, accessToken: string, refreshToken: string | null, index: number) =>
      admin.query(
        `INSERT INTO accounts.social_media_accounts (id, organisation_id, platform, account_type, platform_account_id, access_token, refresh_token)
         VALUES ($1, $2, 'instagram', 'business', $3, $4, $5)`,
        [id, organisationId, `1784140000100${index}`, accessToken, refreshToken],
      );
    for (const [index, id] of ids.entries()) {
      await insert(id, cipher.encrypt(`token-${index}`, context(id)), index === 0 ? cipher.encrypt('refresh-0', context(id, 'refresh_token')) : null, index);
    }
    await insert(erased, '', null, 90);
    // Made with a key the ring no longer has: reported, left as it is.
    await insert(lost, createTokenCipher({ activeKeyId: 'gone', keys: new Map([['gone', randomBytes(32)]]) }).encrypt('lost', context(lost)), null, 91);
    pool = await createDatabasePool(database.urlFor('accounts', 'worker'));
  });

  afterAll(async () => {
    await pool?.end();
    await admin?.end();
    await database?.drop();
  });

  it('moves every token to the new key in batches, keeps erased tokens erased, reports what it could not open', async () => {
    const report = await reencryptTokens(pool, createTokenCipher(rotated), { batchSize: 3 });
    expect(report).toMatchObject({ reencrypted: 7, failed: 1, failedIds: [lost] });
    expect(report.batches).toBeGreaterThanOrEqual(3);

    const newOnly = createTokenCipher({ activeKeyId: 'new', keys: new Map([['new', newKey]]) });
    const rows = (await admin.query<{ id: string; access_token: string; refresh_token: string | null }>(
      `SELECT id, access_token, refresh_token FROM accounts.social_media_accounts WHERE id = ANY($1)`,
      [ids],
    )).rows;
    for (const row of rows) {
      expect(row.access_token).toMatch(/^enc:v1:new:/);
      expect(newOnly.decrypt(row.access_token, context(row.id))).toBe(`token-${ids.indexOf(row.id)}`);
    }
    const first = rows.find((row) => row.id === ids[0]);
    expect(newOnly.decrypt(first?.refresh_token ?? '', context(ids[0] ?? '', 'refresh_token'))).toBe('refresh-0');
    const untouched = await admin.query(`SELECT id, access_token FROM accounts.social_media_accounts WHERE id = ANY($1) ORDER BY access_token`, [[erased, lost]]);
    expect(untouched.rows[0]).toEqual({ id: erased, access_token: '' });
    expect(untouched.rows[1].access_token).toMatch(/^enc:v1:gone:/);

    // A second run has nothing left to do.
    expect(await reencryptTokens(pool, createTokenCipher(rotated))).toMatchObject({ reencrypted: 0, failed: 1 });
  });

  it('the command (npm run reencrypt) reports its counts as JSON', async () => {
    const cli = fileURLToPath(new URL('../src/reencrypt-cli.ts', import.meta.url));
    const keys = `old:${oldKey.toString('base64')},new:${newKey.toString('base64')}`;
    const run = promisify(execFile);
    const outcome = await run(process.execPath, [cli], {
      env: { PATH: process.env.PATH ?? '', ACCOUNTS_WORKER_DATABASE_URL: database.urlFor('accounts', 'worker'), TOKEN_ENCRYPTION_KEYS: keys, TOKEN_ENCRYPTION_ACTIVE_KEY: 'new' },
    }).catch((error: { stdout: string; code: number }) => error);
    // The one token made with a retired key makes the run fail loudly (exit 1), with the count.
    expect(JSON.parse(outcome.stdout)).toMatchObject({ activeKeyId: 'new', reencrypted: 0, failed: 1 });
    expect('code' in outcome ? outcome.code : 0).toBe(1);
  });
});
