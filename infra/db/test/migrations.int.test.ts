import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_SERVICES, migrateAll, migrateService, migrationsDirectory, prepareDatabase } from '@postwire/db';
import { createTestDatabase, type TestDatabase } from '@postwire/testing';
import { catalogSnapshot } from './catalog.ts';

describe('migrations', () => {
  let database: TestDatabase;
  let client: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase('migrations');
    client = new pg.Client({ connectionString: database.adminUrl });
    await client.connect();
  });

  afterAll(async () => {
    await client.end();
    await database.drop();
  });

  it('down restores exactly the state before up, and up after down restores the migrated state', async () => {
    const migrated = await catalogSnapshot(client);

    const down = await migrateAll(database.adminUrl, 'down');
    expect(down.map((run) => run.service)).toEqual([...DATA_SERVICES].reverse());
    expect(down.every((run) => run.to === 0)).toBe(true);
    const prepared = await catalogSnapshot(client);
    // Nothing of any service is left: no tables in their schemas, no columns added to host tables.
    expect(prepared.relations.filter((line) => /^(accounts|publisher|analytics|gateway)\./.test(line))).toEqual([]);
    expect(prepared.columns.some((line) => line.includes('social_media_videos.posted_to_social'))).toBe(false);

    await migrateAll(database.adminUrl, 'up');
    expect(await catalogSnapshot(client)).toEqual(migrated);

    await migrateAll(database.adminUrl, 'down');
    expect(await catalogSnapshot(client)).toEqual(prepared);

    await migrateAll(database.adminUrl, 'up');
    expect(await catalogSnapshot(client)).toEqual(migrated);
  });

  it('a second up is a no-op', async () => {
    const runs = await migrateAll(database.adminUrl, 'up');
    expect(runs.map((run) => run.service)).toEqual([...DATA_SERVICES]);
    expect(runs.every((run) => run.applied.length === 0 && run.from === run.to)).toBe(true);
  });

  it('running prepare again changes nothing', async () => {
    const before = await catalogSnapshot(client);
    const report = await prepareDatabase(database.adminUrl);
    expect(report).toMatchObject({ createdDatabase: false, createdHostTables: [] });
    expect(await catalogSnapshot(client)).toEqual(before);
  });

  it('objects created by a migration belong to the service owner role', async () => {
    const owners = await client.query<{ schema: string; owner: string }>(`
      SELECT n.nspname AS schema, pg_get_userbyid(c.relowner) AS owner
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname IN ('accounts', 'publisher', 'analytics', 'gateway') AND c.relkind = 'r'`);
    expect(owners.rows.length).toBeGreaterThan(0);
    for (const row of owners.rows) expect(row.owner).toBe(`${row.schema}_owner`);
  });

  it('concurrent runners queue behind one another instead of applying a migration twice', async () => {
    await migrateService({ adminUrl: database.adminUrl, service: 'analytics', directory: migrationsDirectory('analytics'), target: 0 });
    const runs = await Promise.all(
      [1, 2, 3].map(() =>
        migrateService({ adminUrl: database.adminUrl, service: 'analytics', directory: migrationsDirectory('analytics') }),
      ),
    );
    expect(runs.filter((run) => run.applied.length > 0)).toHaveLength(1);
  });

  it('a failing migration leaves the schema as it was', async () => {
    const accountsMigrations = migrationsDirectory('accounts');
    await migrateService({ adminUrl: database.adminUrl, service: 'accounts', directory: accountsMigrations, target: 0 });
    const before = await catalogSnapshot(client);
    await expect(
      migrateService({
        adminUrl: database.adminUrl,
        service: 'accounts',
        directory: new URL('./fixtures/broken-migrations', import.meta.url).pathname,
      }),
    ).rejects.toThrow(/table_that_does_not_exist/);
    // 001 ran before 002 failed, yet neither its table nor a version row survived.
    expect(await catalogSnapshot(client)).toEqual(before);
    await migrateService({ adminUrl: database.adminUrl, service: 'accounts', directory: accountsMigrations });
  });
});
