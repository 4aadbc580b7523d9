import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { TestProject } from 'vitest/node';
import { startInfrastructure } from './infrastructure.ts';
import { ensureTemplateDatabase } from './template.ts';

import './provided-context.ts';

/**
 * Starts (or finds) Kafka and Postgres once per vitest run and hands them to every test file. The run's
 * topics and consumer groups carry a prefix of its own, so it never reads or writes the `postwire.*` topics
 * of a stack running beside it (or of another run); they are deleted when the run ends.
 */
export default async function setup(project: TestProject) {
  const infrastructure = await startInfrastructure(process.env);
  const templateDatabase = await ensureTemplateDatabase(infrastructure.adminDatabaseUrl);
  const topicPrefix = `test-${randomBytes(4).toString('hex')}.`;
  project.provide('kafkaBrokers', infrastructure.kafkaBrokers);
  project.provide('kafkaTopicPrefix', topicPrefix);
  project.provide('adminDatabaseUrl', infrastructure.adminDatabaseUrl);
  project.provide('templateDatabase', templateDatabase);
  return async () => {
    await deletePrefixed(infrastructure.kafkaBrokers, topicPrefix);
    await infrastructure.stop();
  };
}

async function deletePrefixed(brokers: string[], prefix: string): Promise<void> {
  const admin = new Kafka({ brokers, clientId: 'test-teardown', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const groups = (await admin.listGroups()).groups.map((group) => group.groupId).filter((id) => id.startsWith(prefix));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}
