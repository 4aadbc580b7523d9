// What one RLS-checked read costs the accounts service's pool: the read alone, the read in a transaction with
// the caller's claims (as the read API does it), and pieces in between, each with 50 callers over a pool of 10
// for a few seconds against a database of its own.
//
//   node bench/rls-read.ts
//   BENCH_SECONDS=5 BENCH_CALLERS=50 node bench/rls-read.ts
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { DEFAULT_DATABASE_URL } from '@postwire/config';
import { connectionUrlForRole, createDatabasePool, serviceRoles, withCallerClaims } from '@postwire/db';
import { createBenchDatabase, dropDatabase } from '@postwire/testing/processes';
import { createAccountReads } from '../src/db/read-queries.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CALLERS = Number(process.env.BENCH_CALLERS ?? 50);
const SERVER = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;

const name = `pw_bench_rls_${randomBytes(3).toString('hex')}`;
const adminUrl = await createBenchDatabase(SERVER, name);
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
const organisationId = randomUUID();
const userId = randomUUID();
await admin.query('INSERT INTO public.organisations (id, name) VALUES ($1, $2)', [organisationId, 'Bench']);
await admin.query('INSERT INTO public.users (id, organisation_id, email) VALUES ($1, $2, $3)', [userId, organisationId, 'bench@example.test']);
for (let index = 0; index < 5; index += 1) {
  await admin.query(
    `INSERT INTO accounts.social_media_accounts (id, organisation_id, platform, account_type, platform_account_id, username, access_token)
     VALUES ($1, $2, 'instagram', 'business', $3, $4, 'enc:v1:k1:AAAAAAAAAAAAAAAA:c2VjcmV0:AAAAAAAAAAAAAAAA')`,
    [randomUUID(), organisationId, `1784140000000${index}`, `bench.${index}`],
  );
}
const pool = await createDatabasePool(connectionUrlForRole(adminUrl, serviceRoles('accounts').app), { applicationName: 'bench' });
const ownerPool = await createDatabasePool(adminUrl, { applicationName: 'bench' });
const claims = { sub: userId, organisationId };

async function measure(label: string, work: () => Promise<number>): Promise<void> {
  const latencies: number[] = [];
  const until = Date.now() + SECONDS * 1000;
  let rows = -1;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (Date.now() < until) {
        const started = performance.now();
        rows = await work();
        latencies.push(performance.now() - started);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const p = (q: number) => (latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] ?? NaN).toFixed(1);
  console.log(`${label.padEnd(58)} ${String(Math.round(latencies.length / SECONDS)).padStart(6)}/s  p50 ${p(0.5)} ms  p99 ${p(0.99)} ms  (${rows} rows)`);
}

const read = (connection: Parameters<typeof createAccountReads>[0]) => createAccountReads(connection).list(organisationId, {}).then((list) => list.length);
// Warm-up: connections opened, statements planned.
await measure('warm-up', () => withCallerClaims(pool, claims, read));
await measure('read alone (no claims: RLS shows nothing)', () => read(pool));
await measure('read in a transaction, no claims', () => pool.transaction(read));
await measure('claims set, nothing read (BEGIN, set_config, COMMIT)', () => withCallerClaims(pool, claims, async () => 0));
await measure('read with claims (withCallerClaims, as the read API does)', () => withCallerClaims(pool, claims, read));
// The same rows without RLS deciding (the owner role bypasses it): what the policy itself costs.
await measure('read as the owner, no RLS, 5 rows', () => read(ownerPool));

await pool.end();
await ownerPool.end();
await admin.end();
await dropDatabase(SERVER, name);
