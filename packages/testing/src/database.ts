import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { type DataService, connectionUrlForRole, serviceRoles } from '@postwire/db';
import { databaseUrl } from './template.ts';
import './provided-context.ts';

export type TestDatabase = {
  readonly name: string;
  /** Superuser access to this database, for arranging and inspecting state. */
  readonly adminUrl: string;
  /** The service's user-scoped role (RLS applies) or its worker role (BYPASSRLS). */
  urlFor(service: DataService, kind: 'app' | 'worker'): string;
  drop(): Promise<void>;
};

/** A fresh database for one test file, cloned from the migrated template. */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const serverUrl = inject('adminDatabaseUrl');
  const template = inject('templateDatabase');
  const name = `pw_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase().slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  await withMaintenanceClient(serverUrl, async (client) => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)}`);
        return;
      } catch (error) {
        // 55006: the template is briefly in use by another clone; try again shortly.
        if (attempt >= 20 || (error as { code?: string }).code !== '55006') throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  });
  const adminUrl = databaseUrl(serverUrl, name);
  return {
    name,
    adminUrl,
    urlFor: (service, kind) => connectionUrlForRole(adminUrl, serviceRoles(service)[kind]),
    drop: () =>
      withMaintenanceClient(serverUrl, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      }),
  };
}

async function withMaintenanceClient(serverUrl: string, work: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}

/** A name no other test file or run uses, for topics, consumer groups and the like. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
