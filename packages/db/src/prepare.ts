import pg from 'pg';
import { DATA_SERVICES, GATEWAY_ROLE, HOST_OWNER_ROLE, serviceRoles } from './roles.ts';

export type PrepareReport = {
  readonly database: string;
  readonly createdDatabase: boolean;
  readonly createdHostTables: readonly string[];
};

const quote = (identifier: string) => pg.escapeIdentifier(identifier);

/**
 * Makes the database ready for the services' migrations. Safe to run any number of times, also
 * concurrently: it creates what is missing and re-asserts role attributes and grants.
 */
export async function prepareDatabase(adminUrl: string): Promise<PrepareReport> {
  const database = databaseName(adminUrl);
  const createdDatabase = await ensureDatabase(adminUrl, database);
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'postwire-prepare' });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', ['postwire:prepare']);
    await ensureRoles(client);
    await client.query('BEGIN');
    await ensureAuthSchema(client);
    const createdHostTables = await ensureHostTables(client);
    await ensureServiceSchemas(client);
    await client.query('COMMIT');
    return { database, createdDatabase, createdHostTables };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    await client.end();
  }
}

export function databaseName(connectionUrl: string): string {
  const name = decodeURIComponent(new URL(connectionUrl).pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL must name a database (postgres://host:port/NAME)');
  return name;
}

async function ensureDatabase(adminUrl: string, database: string): Promise<boolean> {
  const maintenance = new URL(adminUrl);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString(), application_name: 'postwire-prepare' });
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (existing.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${quote(database)}`);
      return true;
    } catch (error) {
      if (pgCode(error) === '42P04') return false; // created concurrently
      throw error;
    }
  } finally {
    await client.end();
  }
}

async function ensureRole(client: pg.Client, role: string, attributes: string): Promise<void> {
  const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  if (!exists.rowCount) {
    try {
      await client.query(`CREATE ROLE ${quote(role)} ${attributes}`);
      return;
    } catch (error) {
      if (pgCode(error) !== '42710') throw error; // created concurrently
    }
  }
  await client.query(`ALTER ROLE ${quote(role)} ${attributes}`);
}

async function ensureRoles(client: pg.Client): Promise<void> {
  await ensureRole(client, HOST_OWNER_ROLE, 'NOLOGIN NOBYPASSRLS');
  for (const service of DATA_SERVICES) {
    const roles = serviceRoles(service);
    await ensureRole(client, roles.owner, 'NOLOGIN NOBYPASSRLS');
    await ensureRole(client, roles.app, 'LOGIN NOBYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE');
    await ensureRole(client, roles.worker, 'LOGIN BYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE');
  }
}

async function ensureAuthSchema(client: pg.Client): Promise<void> {
  await client.query(`
    CREATE SCHEMA IF NOT EXISTS auth;
    -- Supabase-compatible: the caller is the sub claim of request.jwt.claims, believed only when
    -- request.jwt.transaction names this transaction's start (setCallerClaims sets both LOCAL), so
    -- claims a session kept from an earlier transaction count for nobody.
    CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid
      LANGUAGE sql STABLE
      AS $$
        SELECT CASE
          WHEN current_setting('request.jwt.transaction', true) = extract(epoch FROM transaction_timestamp())::text
          THEN nullif(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub', '')::uuid
        END
      $$;
  `);
  const loginRoles = [...DATA_SERVICES.flatMap((service) => [serviceRoles(service).app, serviceRoles(service).worker])];
  const owners = DATA_SERVICES.map((service) => serviceRoles(service).owner);
  await client.query(`GRANT USAGE ON SCHEMA auth TO ${[...loginRoles, ...owners].map(quote).join(', ')}`);
  await client.query(`GRANT EXECUTE ON FUNCTION auth.uid() TO ${[...loginRoles, ...owners].map(quote).join(', ')}`);
}

const HOST_TABLES: Readonly<Record<string, string>> = {
  organisations: `
    CREATE TABLE public.organisations (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      name TEXT NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    )`,
  users: `
    CREATE TABLE public.users (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organisation_id UUID NOT NULL REFERENCES public.organisations(id) ON DELETE CASCADE,
      email TEXT NOT NULL UNIQUE,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    );
    CREATE INDEX idx_users_organisation ON public.users(organisation_id)`,
  social_media_videos: `
    CREATE TABLE public.social_media_videos (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organisation_id UUID NOT NULL REFERENCES public.organisations(id) ON DELETE CASCADE,
      prompt TEXT,
      video_url TEXT,
      thumbnail_url TEXT,
      mode TEXT,
      status TEXT NOT NULL DEFAULT 'pending',
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    );
    CREATE INDEX idx_social_videos_org ON public.social_media_videos(organisation_id)`,
};

/**
 * The host product owns these tables; a standalone run gets minimal versions when they are absent.
 * Tables that already exist are left as they are.
 */
async function ensureHostTables(client: pg.Client): Promise<string[]> {
  const created: string[] = [];
  for (const [table, ddl] of Object.entries(HOST_TABLES)) {
    const exists = await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [`public.${table}`]);
    if (exists.rows[0]?.present) continue;
    await client.query(ddl);
    await client.query(`ALTER TABLE public.${quote(table)} OWNER TO ${quote(HOST_OWNER_ROLE)}`);
    created.push(table);
  }
  const everyRole = DATA_SERVICES.flatMap((service) => Object.values(serviceRoles(service)));
  const owners = DATA_SERVICES.map((service) => serviceRoles(service).owner);
  // RLS policies look the caller up in users; foreign keys point at organisations and users.
  await client.query(`GRANT SELECT (id, organisation_id) ON public.users TO ${everyRole.map(quote).join(', ')}`);
  await client.query(`GRANT SELECT (id) ON public.organisations TO ${everyRole.map(quote).join(', ')}`);
  // The gateway checks a token's organisation against the user's own, and may read nothing else.
  await client.query(`GRANT SELECT (id, organisation_id) ON public.users TO ${quote(GATEWAY_ROLE)}`);
  await client.query(`GRANT REFERENCES ON public.organisations, public.users TO ${owners.map(quote).join(', ')}`);
  // The publisher owns the two columns the seed adds to social_media_videos, so its owner may alter it.
  const videosOwner = await client.query<{ owner: string }>(
    `SELECT tableowner AS owner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'social_media_videos'`,
  );
  if (videosOwner.rows[0]?.owner === HOST_OWNER_ROLE) {
    // Indexes on host tables live in schema public, so whoever acts as their owner needs CREATE there.
    await client.query(`GRANT CREATE ON SCHEMA public TO ${quote(HOST_OWNER_ROLE)}`);
    await client.query(`GRANT ${quote(HOST_OWNER_ROLE)} TO ${quote(serviceRoles('publisher').owner)}`);
  }
  const publisher = serviceRoles('publisher');
  await client.query(`GRANT SELECT ON public.social_media_videos TO ${quote(publisher.app)}, ${quote(publisher.worker)}`);
  return created;
}

async function ensureServiceSchemas(client: pg.Client): Promise<void> {
  for (const service of DATA_SERVICES) {
    const { owner, app, worker } = serviceRoles(service);
    const schema = quote(service);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${quote(owner)}`);
    await client.query(`ALTER SCHEMA ${schema} OWNER TO ${quote(owner)}`);
    await client.query(`REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC`);
    await client.query(`GRANT USAGE ON SCHEMA ${schema} TO ${quote(app)}, ${quote(worker)}`);
    // The worker gets DML on whatever migrations create; the user-scoped app role gets nothing by
    // default: each migration grants it exactly what user-scoped requests need (DESIGN.md rule 3), so
    // outbox, inbox, notice and version tables stay the worker's and the owner's.
    await client.query(`
      ALTER DEFAULT PRIVILEGES FOR ROLE ${quote(owner)} IN SCHEMA ${schema}
        REVOKE ALL ON TABLES FROM ${quote(app)};
      ALTER DEFAULT PRIVILEGES FOR ROLE ${quote(owner)} IN SCHEMA ${schema}
        REVOKE ALL ON SEQUENCES FROM ${quote(app)};
      ALTER DEFAULT PRIVILEGES FOR ROLE ${quote(owner)} IN SCHEMA ${schema}
        GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${quote(worker)};
      ALTER DEFAULT PRIVILEGES FOR ROLE ${quote(owner)} IN SCHEMA ${schema}
        GRANT USAGE, SELECT ON SEQUENCES TO ${quote(worker)};
      ALTER DEFAULT PRIVILEGES FOR ROLE ${quote(owner)} IN SCHEMA ${schema}
        GRANT EXECUTE ON FUNCTIONS TO ${quote(app)}, ${quote(worker)};
    `);
    // Role-wide (not per database), so databases cloned from a template inherit it too.
    for (const role of [owner, app, worker]) {
      await client.query(`ALTER ROLE ${quote(role)} SET search_path = ${schema}, public`);
    }
  }
}

function pgCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}
