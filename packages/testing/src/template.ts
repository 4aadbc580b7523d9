import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { DATA_SERVICES, migrateAll, migrationsDirectory, prepareDatabase } from '@postwire/db';

/**
 * One prepared and fully migrated database per distinct schema, named by a hash of everything that
 * shapes it. Each test file clones it (CREATE DATABASE ... TEMPLATE), which takes a fraction of a
 * second, so files never share mutable state and never pay for migrations themselves.
 */
export async function ensureTemplateDatabase(adminUrl: string): Promise<string> {
  const name = `postwire_template_${(await schemaFingerprint()).slice(0, 12)}`;
  const maintenance = databaseUrl(adminUrl, 'postgres');
  const client = new pg.Client({ connectionString: maintenance, application_name: 'postwire-test-template' });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', ['postwire:test-template']);
    const existing = await client.query<{ ready: boolean }>(
      `SELECT coalesce(shobj_description(oid, 'pg_database') LIKE 'ready:%', false) AS ready
         FROM pg_database WHERE datname = $1`,
      [name],
    );
    if (existing.rows[0]?.ready) return name;
    if (existing.rowCount) await client.query(`DROP DATABASE ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    const templateUrl = databaseUrl(adminUrl, name);
    await prepareDatabase(templateUrl);
    await migrateAll(templateUrl, 'up');
    await client.query(`COMMENT ON DATABASE ${pg.escapeIdentifier(name)} IS 'ready:${Date.now()}'`);
    await dropStaleTemplates(client, name);
    return name;
  } finally {
    await client.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    await client.end();
  }
}

/**
 * Templates of other schemas may belong to another checkout testing at this moment (its clones take
 * no lasting connection, so "in use" cannot be seen): only templates built more than a day ago, or
 * never finished, are dropped.
 */
const STALE_AFTER_MS = 24 * 60 * 60 * 1000;

async function dropStaleTemplates(client: pg.Client, current: string): Promise<void> {
  const stale = await client.query<{ name: string }>(
    `SELECT datname AS name FROM pg_database
      WHERE datname LIKE 'postwire\\_template\\_%' AND datname <> $1
        AND coalesce(substring(shobj_description(oid, 'pg_database') from '^ready:(\\d+)$')::bigint, 0) < $2`,
    [current, Date.now() - STALE_AFTER_MS],
  );
  for (const { name } of stale.rows) {
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)}`).catch(() => undefined);
  }
}

export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

async function schemaFingerprint(): Promise<string> {
  const hash = createHash('sha256');
  const bootstrapDir = fileURLToPath(new URL('../../db/src/', import.meta.url));
  const sources = [`${bootstrapDir}prepare.ts`];
  for (const service of DATA_SERVICES) {
    const directory = migrationsDirectory(service);
    const files = (await readdir(directory)).filter((file) => file.endsWith('.sql')).sort();
    sources.push(...files.map((file) => `${directory}/${file}`));
  }
  for (const source of sources) {
    hash.update(source.slice(source.lastIndexOf('/')));
    hash.update(await readFile(source));
  }
  return hash.digest('hex');
}
