import { fileURLToPath } from 'node:url';
import { type MigrationRun, type MigrationTarget, migrateService } from './migrations.ts';
import { DATA_SERVICES, type DataService } from './roles.ts';

export function migrationsDirectory(service: DataService): string {
  return fileURLToPath(new URL(`../../../services/${service}/migrations/`, import.meta.url));
}

/**
 * Up: every service in dependency order. Down: the reverse order, so nothing is dropped while
 * another service's objects still lean on it.
 */
export async function migrateAll(
  adminUrl: string,
  direction: 'up' | 'down',
  options: { readonly services?: readonly DataService[]; readonly target?: MigrationTarget } = {},
): Promise<MigrationRun[]> {
  const chosen = options.services ?? DATA_SERVICES;
  const ordered = direction === 'up' ? [...chosen] : [...chosen].reverse();
  const target = options.target ?? (direction === 'up' ? 'max' : 0);
  const runs: MigrationRun[] = [];
  for (const service of ordered) {
    runs.push(await migrateService({ adminUrl, service, directory: migrationsDirectory(service), target }));
  }
  return runs;
}
