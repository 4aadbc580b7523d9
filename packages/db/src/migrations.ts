import { basename } from 'node:path';
import pg from 'pg';
import Postgrator from 'postgrator';
import { type DataService, serviceRoles } from './roles.ts';

export type MigrationTarget = 'max' | number;

export type MigrationRun = {
  readonly service: DataService;
  readonly from: number;
  readonly to: number;
  readonly applied: readonly string[];
};

export type MigrateOptions = {
  readonly adminUrl: string;
  readonly service: DataService;
  /** Folder of `NNN.do.name.sql` / `NNN.undo.name.sql` files. */
  readonly directory: string;
  readonly target?: MigrationTarget;
};

/**
 * Moves one service's schema to `target` (up or down). The whole run is one transaction under an
 * advisory lock: concurrent runners queue, and a failing file leaves the schema as it was. Files run
 * as the service's owner role, so everything they create belongs to that role. Rolling back to 0
 * also drops the version table, leaving the database exactly as before the first migration.
 */
export async function migrateService(options: MigrateOptions): Promise<MigrationRun> {
  const { service, adminUrl, directory } = options;
  const target = options.target ?? 'max';
  const roles = serviceRoles(service);
  const versionTable = `${service}.schemaversion`;
  const client = new pg.Client({ connectionString: adminUrl, application_name: `migrate-${service}` });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`postwire:migrate:${service}`]);
    await client.query(`SET LOCAL ROLE ${client.escapeIdentifier(roles.owner)}`);
    await client.query(`SET LOCAL search_path = ${client.escapeIdentifier(service)}, public`);
    const postgrator = new Postgrator({
      migrationPattern: `${directory}/*.sql`,
      driver: 'pg',
      // Not a dotted schemaTable: postgrator would then run CREATE SCHEMA, which needs database rights.
      schemaTable: 'schemaversion',
      currentSchema: service,
      validateChecksums: true,
      execQuery: (query) => client.query(query),
    });
    const from = await postgrator.getDatabaseVersion();
    const applied = await postgrator.migrate(target === 'max' ? 'max' : String(target).padStart(3, '0'));
    const to = await postgrator.getDatabaseVersion();
    if (!to) await client.query(`DROP TABLE IF EXISTS ${versionTable}`);
    await client.query('COMMIT');
    return { service, from: from ?? 0, to: to ?? 0, applied: applied.map((m) => basename(m.filename)) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
