import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import pg from 'pg';
import accountsApp from '@postwire/accounts/app';
import { configSchema as accountsConfigSchema } from '@postwire/accounts/config';
import { signDevelopmentToken } from '@postwire/auth';
import { loadConfig } from '@postwire/config';
import gatewayApp from '@postwire/gateway/app';
import analyticsApp from '@postwire/analytics/app';
import { configSchema as analyticsConfigSchema } from '@postwire/analytics/config';
import publisherApp from '@postwire/publisher/app';
import { configSchema as publisherConfigSchema } from '@postwire/publisher/config';
import { everyRateLimitAt, configSchema as gatewayConfigSchema } from '@postwire/gateway/config';
import { GATEWAY_ROLE, connectionUrlForRole } from '@postwire/db';
import { loggerOptions, problemServerOptions } from '@postwire/service-kit';
import { freePort } from '@postwire/testing/processes';
import { type TestDatabase, addMember, createLogCapture, createTestDatabase, kafkaTestEnvironment, startMetaSandbox, submitConsent, uniqueName } from '@postwire/testing';

const JWT_SECRET = 'e2e-shared-secret-of-at-least-32-chars';

export type Member = { readonly userId: string; readonly organisationId: string; readonly authorization: string };

/**
 * The services as they run, in one process: the Meta sandbox, the accounts service (consumers,
 * relay, read API) and the gateway in front of it, sharing one database (each through its own
 * roles), the harness's Kafka, one key ring and one JWT secret. Every log line is kept.
 */
export type StackOptions = {
  /** Extra settings for the accounts service (e.g. its lifecycle timers). */
  readonly accountsEnvironment?: Record<string, string>;
  /** The accounts service's lifecycle clock. */
  readonly accountsClock?: () => Date;
  /** Also run the publisher (its consumers, relay, engine and read API), with the gateway's posts reads forwarded to it. */
  readonly publisher?: boolean;
  /** How many publisher instances run side by side (default: 1 with `publisher`, else 0). */
  readonly publishers?: number;
  /** Extra settings for every publisher instance. */
  readonly publisherEnvironment?: Record<string, string>;
  /** Also run the analytics service, with the gateway's insights reads forwarded to it. */
  readonly analytics?: boolean;
  /**
   * Topics of this stack's own (default: the run's prefix, shared with the other test files): a stack whose
   * consumers must see nothing another file produced.
   */
  readonly topicPrefix?: string;
  /** Extra settings for the gateway (e.g. its webhook settings). */
  readonly gatewayEnvironment?: Record<string, string>;
};

export async function startStack(options: StackOptions = {}) {
  const database: TestDatabase = await createTestDatabase('e2e');
  // The gateway's public URL is where it really listens, and the sandbox's app lets Meta's dialogs send a
  // browser back there: a real browser follows the whole flow.
  const gatewayPublicUrl = `http://127.0.0.1:${await freePort()}`;
  const sandbox = await startMetaSandbox({
    META_SANDBOX_REDIRECT_URIS: ['facebook', 'instagram'].map((provider) => `${gatewayPublicUrl}/v1/connect/${provider}/callback`).join(','),
  });
  const logs = createLogCapture();
  const keyRing = { TOKEN_ENCRYPTION_KEYS: `e2e-1:${randomBytes(32).toString('base64')}`, TOKEN_ENCRYPTION_ACTIVE_KEY: 'e2e-1' };
  const shared = {
    ...keyRing,
    JWT_SECRET,
    ...kafkaTestEnvironment(),
    ...(options.topicPrefix ? { KAFKA_TOPIC_PREFIX: options.topicPrefix } : {}),
    META_SANDBOX_URL: sandbox.baseUrl,
  };

  const accountsConfig = loadConfig(accountsConfigSchema, {
    ...shared,
    ACCOUNTS_DATABASE_URL: database.urlFor('accounts', 'app'),
    ACCOUNTS_WORKER_DATABASE_URL: database.urlFor('accounts', 'worker'),
    ...options.accountsEnvironment,
  });
  const accounts = await listen('accounts', logs.stream, accountsApp, accountsConfig, options.accountsClock ? { now: options.accountsClock } : {});
  const publisherConfig = () =>
    loadConfig(publisherConfigSchema, {
      ...shared,
      PUBLISHER_DATABASE_URL: database.urlFor('publisher', 'app'),
      PUBLISHER_WORKER_DATABASE_URL: database.urlFor('publisher', 'worker'),
      // The sandbox's media host is plain http on loopback; production refuses both.
      PUBLISHER_MEDIA_ALLOW_PRIVATE: 'true',
      PUBLISHER_MEDIA_ALLOW_HTTP: 'true',
      ...options.publisherEnvironment,
    });
  const publishers: Awaited<ReturnType<typeof listen>>[] = [];
  for (let index = 0; index < (options.publishers ?? (options.publisher ? 1 : 0)); index += 1) {
    publishers.push(await listen(`publisher-${index + 1}`, logs.stream, publisherApp, publisherConfig()));
  }
  const [publisher] = publishers;
  const analytics = options.analytics
    ? await listen(
        'analytics',
        logs.stream,
        analyticsApp,
        loadConfig(analyticsConfigSchema, {
          ...shared,
          ANALYTICS_DATABASE_URL: database.urlFor('analytics', 'app'),
          ANALYTICS_WORKER_DATABASE_URL: database.urlFor('analytics', 'worker'),
        }),
      )
    : undefined;
  const gateway = await listen(
    'gateway',
    logs.stream,
    gatewayApp,
    loadConfig(gatewayConfigSchema, {
      ...shared,
      GATEWAY_PUBLIC_URL: gatewayPublicUrl,
      GATEWAY_ACCOUNTS_URL: accounts.url,
      ...(publisher ? { GATEWAY_PUBLISHER_URL: publisher.url } : {}),
      ...(analytics ? { GATEWAY_ANALYTICS_URL: analytics.url } : {}),
      GATEWAY_DATABASE_URL: connectionUrlForRole(database.adminUrl, GATEWAY_ROLE),
      GATEWAY_METRICS_PORT: '0',
      GATEWAY_INSTANCE_ID: uniqueName('e2e-gateway'),
      // Each stack has its own database: its webhook fan-out group must be its own too.
      GATEWAY_WEBHOOK_CONSUMER_GROUP: uniqueName('e2e-webhooks'),
      // The fuzz pass alone sends well over a minute's budget from one organisation: the limits stay, wide open.
      ...everyRateLimitAt(1_000_000),
      ...options.gatewayEnvironment,
    }),
    {},
    Number(new URL(gatewayPublicUrl).port),
  );

  const admin = new pg.Client({ connectionString: database.adminUrl });
  await admin.connect();

  /** A user of a new organisation, known to the host tables (the RLS policies look users up there). */
  async function member(): Promise<Member> {
    const { userId, organisationId } = await addMember(admin);
    const token = await signDevelopmentToken({ secret: JWT_SECRET, userId, organisationId });
    return { userId, organisationId, authorization: `Bearer ${token}` };
  }

  /**
   * Connects the sandbox user's Facebook Pages (and their Instagram accounts) for `member` as a browser goes
   * through the flow: the start, Meta's consent dialog, the callback. Answers the callback's JSON answer.
   */
  async function connectFacebook(member: Member) {
    const start = await gateway.app.inject({ url: '/v1/connect/facebook/start', headers: { authorization: member.authorization } });
    if (start.statusCode !== 302) throw new Error(`the connect start answered ${start.statusCode}: ${start.body}`);
    const cookie = String(start.headers['set-cookie']).split(';')[0] ?? '';
    const redirect = await submitConsent(String(start.headers.location), 'allow');
    const callback = await gateway.app.inject({ url: `${redirect.pathname}${redirect.search}`, headers: { cookie, accept: 'application/json' } });
    if (callback.statusCode !== 200) throw new Error(`the connect callback answered ${callback.statusCode}: ${callback.body}`);
    return callback;
  }

  return {
    database,
    admin,
    sandbox,
    gateway: gateway.app,
    accounts: accounts.app,
    publisher: publisher?.app,
    publishers: publishers.map((instance) => instance.app),
    analytics: analytics?.app,
    /** Where the gateway listens, for a real HTTP client. */
    gatewayUrl: gateway.url,
    logLines: logs.lines,
    member,
    connectFacebook,
    /** Every token the sandbox has issued so far: user, Page and Instagram tokens. */
    issuedTokens: () => [...sandbox.app.sandbox.store.tokens.keys()],
    async stop() {
      await gateway.app.close();
      await accounts.app.close();
      for (const instance of publishers) await instance.app.close();
      await analytics?.app.close();
      await sandbox.close();
      await admin.end();
      await database.drop();
    },
  };
}

type AppPlugin<Config, Extra> = (instance: FastifyInstance, options: { config: Config } & Extra) => Promise<void>;

async function listen<Config, Extra extends object>(
  service: string,
  stream: Writable,
  plugin: AppPlugin<Config, Extra>,
  config: Config,
  extra: Extra = {} as Extra,
  port = 0,
) {
  const logger = loggerOptions({ service, level: 'debug' });
  const app = Fastify({ ...problemServerOptions, logger: { ...(typeof logger === 'object' ? logger : {}), stream } });
  // Run as a skip-override plugin so the service's decorators (e.g. its workers) are reachable from the test.
  await app.register(fp(async (instance: FastifyInstance) => plugin(instance, { config, ...extra })));
  const url = (await app.listen({ host: '127.0.0.1', port })).replace('localhost', '127.0.0.1');
  return { app, url };
}

export { eventually } from '@postwire/testing';
