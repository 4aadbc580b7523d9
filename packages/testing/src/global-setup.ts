import type { TestProject } from 'vitest/node';
import { startInfrastructure } from './infrastructure.ts';
import { ensureTemplateDatabase } from './template.ts';

import './provided-context.ts';

/** Starts (or finds) Kafka and Postgres once per vitest run and hands them to every test file. */
export default async function setup(project: TestProject) {
  const infrastructure = await startInfrastructure(process.env);
  const templateDatabase = await ensureTemplateDatabase(infrastructure.adminDatabaseUrl);
  project.provide('kafkaBrokers', infrastructure.kafkaBrokers);
  project.provide('adminDatabaseUrl', infrastructure.adminDatabaseUrl);
  project.provide('templateDatabase', templateDatabase);
  return async () => {
    await infrastructure.stop();
  };
}
