// Database operations for the whole system:
//   node infra/db/src/cli.ts prepare                     database, roles, schemas, auth.uid(), host tables
//   node infra/db/src/cli.ts migrate up|down [--service accounts] [--to N]
//   node infra/db/src/cli.ts setup                       prepare, then migrate every service up
//   node infra/db/src/cli.ts seed-demo                   the demo organisation and user (prints their ids)
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFAULT_DATABASE_URL, fields, loadConfig } from '@postwire/config';
import { type DataService, isDataService, migrateAll, prepareDatabase, seedDemoIdentity } from '@postwire/db';

const config = loadConfig(z.object({ DATABASE_URL: fields.postgresUrl(DEFAULT_DATABASE_URL) }), process.env);
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { service: { type: 'string', multiple: true }, to: { type: 'string' } },
});
const [command, direction] = positionals;

function chosenServices(): DataService[] | undefined {
  if (!values.service) return undefined;
  return values.service.map((name) => {
    if (!isDataService(name)) throw new Error(`unknown service "${name}" (accounts, publisher, analytics)`);
    return name;
  });
}

function target(): number | undefined {
  if (values.to === undefined) return undefined;
  const parsed = Number(values.to);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`--to takes a migration number, got "${values.to}"`);
  return parsed;
}

async function migrate(which: string | undefined) {
  if (which !== 'up' && which !== 'down') throw new Error('usage: migrate up|down [--service NAME] [--to N]');
  const services = chosenServices();
  const to = target();
  const runs = await migrateAll(config.DATABASE_URL, which, {
    ...(services ? { services } : {}),
    ...(to !== undefined ? { target: to } : {}),
  });
  for (const run of runs) {
    const applied = run.applied.length ? run.applied.join(', ') : 'nothing to do';
    console.log(`migrate ${run.service}: ${run.from} -> ${run.to} (${applied})`);
  }
}

async function prepare() {
  const report = await prepareDatabase(config.DATABASE_URL);
  console.log(
    `prepare ${report.database}: database ${report.createdDatabase ? 'created' : 'present'}, ` +
      `host tables ${report.createdHostTables.length ? `created (${report.createdHostTables.join(', ')})` : 'present'}`,
  );
}

try {
  switch (command) {
    case 'prepare':
      await prepare();
      break;
    case 'migrate':
      await migrate(direction);
      break;
    case 'setup':
      await prepare();
      await migrate('up');
      break;
    case 'seed-demo': {
      const demo = await seedDemoIdentity(config.DATABASE_URL);
      console.log(`DEMO_USER_ID=${demo.userId} DEMO_ORGANISATION_ID=${demo.organisationId} DEMO_EMAIL=${demo.email}`);
      break;
    }
    default:
      throw new Error('usage: cli.ts prepare | migrate up|down [--service NAME] [--to N] | setup | seed-demo');
  }
} catch (error) {
  console.error(`db: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
