// Postgres CPU per posts read (one page of ten posts with their media), by how it is asked: the five statements a
// read used to be (BEGIN, the caller's claims, the page, its media, COMMIT, then slonik's DISCARD ALL on release),
// and the one call of publisher.read_posts (migration 011). One connection as publisher_app; the backend's CPU is
// read from /proc (user + system), so the figure holds on a loaded machine. `node bench/posts-read.ts [reads]`.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { DEFAULT_DATABASE_URL } from '@postwire/config';
import { connectionUrlForRole, serviceRoles } from '@postwire/db';
import { createBenchDatabase, dropDatabase } from '@postwire/testing/processes';

const reads = Number(process.argv[2] ?? 2000);
const server = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const name = `pw_bench_posts_read_${randomBytes(3).toString('hex')}`;
const adminUrl = await createBenchDatabase(server, name);
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
const caller = { organisationId: randomUUID(), userId: randomUUID() };
await admin.query('INSERT INTO public.organisations (id, name) VALUES ($1, $2)', [caller.organisationId, 'Bench']);
await admin.query('INSERT INTO public.users (id, organisation_id, email) VALUES ($1, $2, $3)', [caller.userId, caller.organisationId, 'bench@example.test']);
await admin.query(
  `WITH inserted AS (
     INSERT INTO publisher.social_media_posts (organisation_id, social_account_id, created_by, content_type, content_url, caption,
       post_type, platform, status, scheduled_for)
     SELECT $1, gen_random_uuid(), $2, 'image', 'https://cdn.example.com/bench.jpg', 'Bench post ' || n, 'feed', 'instagram', 'queued',
       now() + interval '1 day'
     FROM generate_series(1, 10) AS n
     RETURNING id)
   INSERT INTO publisher.post_media (post_id, organisation_id, position, media_type, url)
   SELECT id, $1, 0, 'image', 'https://cdn.example.com/bench.jpg' FROM inserted`,
  [caller.organisationId, caller.userId],
);

const client = new pg.Client({ connectionString: connectionUrlForRole(adminUrl, serviceRoles('publisher').app) });
await client.connect();
const backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
const ticks = () => {
  const fields = readFileSync(`/proc/${backend}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (1/100 s)
};
const claims = JSON.stringify({ sub: caller.userId, organisationId: caller.organisationId });
const SORT = `COALESCE(CASE WHEN status = 'published' THEN published_at ELSE scheduled_for END, created_at)`;

const ways: Record<string, () => Promise<number>> = {
  'five statements + DISCARD ALL': async () => {
    await client.query('BEGIN');
    await client.query(`SELECT set_config('request.jwt.claims', $1, true), set_config('request.jwt.transaction', extract(epoch FROM transaction_timestamp())::text, true)`, [claims]);
    const page = await client.query<{ id: string }>(
      `SELECT *, (EXTRACT(EPOCH FROM ${SORT}) * 1000000)::bigint AS sort_key FROM publisher.social_media_posts
        WHERE organisation_id = $1 AND status <> 'deleted' ORDER BY ${SORT}, id LIMIT $2`,
      [caller.organisationId, 26],
    );
    await client.query('SELECT * FROM publisher.post_media WHERE post_id = ANY($1::uuid[]) ORDER BY post_id, position', [page.rows.map((row) => row.id)]);
    await client.query('COMMIT');
    await client.query('DISCARD ALL');
    return page.rowCount ?? 0;
  },
  'one read_posts call': async () => {
    const page = await client.query('SELECT post, sort_key, id FROM publisher.read_posts($1, $2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, $3)', [claims, caller.organisationId, 25]);
    return page.rowCount ?? 0;
  },
};

for (const [name, read] of Object.entries(ways)) {
  if ((await read()) !== 10) throw new Error(`${name}: expected the ten posts`);
  for (let i = 0; i < 200; i += 1) await read();
  const before = ticks();
  const started = performance.now();
  for (let i = 0; i < reads; i += 1) await read();
  const wall = performance.now() - started;
  console.log(`${name.padEnd(32)} postgres ${(((ticks() - before) * 10) / reads).toFixed(3)} ms CPU per read, ${(wall / reads).toFixed(3)} ms wall`);
}
await client.end();
await admin.end();
await dropDatabase(server, name);
