import type pg from 'pg';

const SCHEMAS = ['public', 'auth', 'accounts', 'publisher', 'analytics'];

const QUERIES = {
    relations: `
      SELECT n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' rls=' || c.relrowsecurity
             || ' owner=' || pg_get_userbyid(c.relowner) || ' acl=' || coalesce(c.relacl::text, '')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'v', 'm', 'S', 'p')`,
    columns: `
      SELECT n.nspname || '.' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
             || ' notnull=' || a.attnotnull || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
             || ' acl=' || coalesce(a.attacl::text, '')
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped`,
    constraints: `
      SELECT n.nspname || '.' || c.relname || ' ' || con.conname || ' ' || pg_get_constraintdef(con.oid)
        FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = ANY($1)`,
    indexes: `SELECT indexdef FROM pg_indexes WHERE schemaname = ANY($1)`,
    policies: `
      SELECT schemaname || '.' || tablename || ' ' || policyname || ' ' || cmd || ' ' || roles::text
             || ' using=' || coalesce(qual, '') || ' check=' || coalesce(with_check, '')
        FROM pg_policies WHERE schemaname = ANY($1)`,
    triggers: `
      SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = ANY($1) AND NOT t.tgisinternal`,
    functions: `
      SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') '
             || md5(pg_get_functiondef(p.oid)) || ' acl=' || coalesce(p.proacl::text, '')
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = ANY($1)`,
    schemas: `
      SELECT nspname || ' owner=' || pg_get_userbyid(nspowner) || ' acl=' || coalesce(nspacl::text, '')
        FROM pg_namespace WHERE nspname = ANY($1)`,
    defaultPrivileges: `
      SELECT pg_get_userbyid(d.defaclrole) || ' ' || coalesce(n.nspname, '') || ' ' || d.defaclobjtype::text
             || ' ' || d.defaclacl::text
        FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace`,
} as const;

export type CatalogSnapshot = Record<keyof typeof QUERIES, string[]>;

/**
 * Everything a migration can change, read from the catalogue and sorted: relations, columns,
 * constraints, indexes, policies, triggers, functions and privileges. Two snapshots are equal
 * exactly when the schemas are the same (pg_dump would do too, but must match the server version).
 */

export async function catalogSnapshot(client: pg.Client): Promise<CatalogSnapshot> {
  const snapshot = {} as CatalogSnapshot;
  for (const [name, query] of Object.entries(QUERIES) as [keyof typeof QUERIES, string][]) {
    const result = await client.query<Record<string, string>>(query, query.includes('$1') ? [SCHEMAS] : []);
    snapshot[name] = result.rows.map((row) => String(Object.values(row)[0])).sort();
  }
  return snapshot;
}
