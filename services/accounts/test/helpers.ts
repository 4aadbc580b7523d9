import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadConfig } from '@postwire/config';
import { loggerOptions } from '@postwire/service-kit';
import { type TestDatabase, createLogCapture, kafkaTestEnvironment, submitConsent, uniqueName } from '@postwire/testing';
import app from '../src/app.ts';
import { type AccountsConfig, configSchema } from '../src/config.ts';

/** The accounts service's environment in tests: its own database, the harness's Kafka, Meta through `sandboxUrl`. */
export function testEnvironment(database: TestDatabase, sandboxUrl: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ACCOUNTS_DATABASE_URL: database.urlFor('accounts', 'app'),
    ACCOUNTS_WORKER_DATABASE_URL: database.urlFor('accounts', 'worker'),
    ...kafkaTestEnvironment(),
    TOKEN_ENCRYPTION_KEYS: `test-1:${randomBytes(32).toString('base64')}`,
    TOKEN_ENCRYPTION_ACTIVE_KEY: 'test-1',
    JWT_SECRET: 'accounts-test-shared-secret-32-characters',
    META_SANDBOX_URL: sandboxUrl,
    GRAPH_RETRY_BASE_DELAY_MS: '10',
    GRAPH_RETRY_MAX_DELAY_MS: '50',
    ...overrides,
  };
}

/**
 * The accounts service as production builds it (consumers and relay running), its log lines kept. Its consumer
 * group is its own (other runs and suites on the same broker run accounts apps too), it starts at the end of
 * the topic, and this resolves once the group has its partitions, so nothing published afterwards is missed.
 */
export async function buildAccounts(
  environment: Record<string, string>,
): Promise<{ app: FastifyInstance; config: AccountsConfig; logLines: string[]; groupId: string }> {
  const config = loadConfig(configSchema, environment);
  const { stream, lines: logLines } = createLogCapture();
  const logger = loggerOptions({ service: 'accounts', level: 'debug' });
  const instance = Fastify({ logger: { ...(typeof logger === 'object' ? logger : {}), stream } });
  const groupId = uniqueName('accounts-test');
  let joined: () => void = () => undefined;
  const hasJoined = new Promise<void>((resolve) => {
    joined = resolve;
  });
  await instance.register(app, { config, consumer: { groupId, fromBeginning: false, onGroupJoin: () => joined() } });
  await instance.ready();
  await Promise.race([hasJoined, new Promise((_resolve, reject) => setTimeout(() => reject(new Error('the consumer never joined its group')), 60_000))]);
  return { app: instance, config, logLines, groupId };
}

export { eventually, observeTopic, type Observed } from '@postwire/testing';

/**
 * Goes through a sandbox consent page as a browser would with its defaults (hidden fields, pre-checked
 * boxes, Continue) and returns the authorisation code Meta redirects with.
 */
export async function consentCode(dialogUrl: string): Promise<string> {
  const code = (await submitConsent(dialogUrl, 'allow')).searchParams.get('code');
  if (!code) throw new Error('the consent did not redirect with a code');
  return code;
}
