import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { z } from 'zod';
import { DEFAULT_DATABASE_URL, fields } from '@postwire/config';
import { GATEWAY_ROLE, connectionUrlForRole } from '@postwire/db';
import { authFields, checkAuthFields, toAuthSettings } from '@postwire/auth';
import { keyRingFields, toKeyRing } from '@postwire/crypto';
import { checkGraphFields, graphFields, toGraphSettings } from '@postwire/graph';
import { liveEventFields, toLiveEventSettings } from './webhooks/live-config.ts';
import { protectionFields, toProtectionSettings } from './plugins/protection-config.ts';

export { everyRateLimitAt } from './plugins/protection-config.ts';

/** An origin exactly as a browser sends it in `Origin`: scheme, host and a port only when not the default. */
function canonicalOrigin(value: string): string | undefined {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return url.origin === value ? value : undefined;
}

const webOrigins = z
  .string()
  .default('')
  .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
  .pipe(
    z.array(
      z.string().refine((origin) => canonicalOrigin(origin) !== undefined, {
        message: 'each origin must be scheme://host[:port] exactly as a browser sends it (no path, no trailing slash, default port omitted)',
      }),
    ),
  )
  .transform((origins): readonly string[] => [...new Set(origins)]);

/** An address or a CIDR range (`10.0.0.0/8`, `fd00::/8`), as Fastify's trustProxy takes them. */
function isAddressOrRange(value: string): boolean {
  const [address = '', bits, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

const trustedProxies = z
  .string()
  .default('')
  .transform((value) => value.split(',').map((entry) => entry.trim()).filter(Boolean))
  .pipe(z.array(z.string().refine(isAddressOrRange, { message: 'each entry must be an IP address or a CIDR range (10.0.0.0/8)' })));

export const configSchema = z
  .object({
    GATEWAY_HOST: fields.host(),
    GATEWAY_PORT: fields.port(3000),
    // Where API consumers reach the gateway: OpenAPI servers, OAuth redirect URIs, Location headers.
    GATEWAY_PUBLIC_URL: fields.url('http://127.0.0.1:3000'),
    // Where /metrics is served: an internal address of its own, never the public port.
    GATEWAY_METRICS_HOST: fields.host(),
    GATEWAY_METRICS_PORT: fields.port(9300),
    // The gateway reads only which organisation a user belongs to (role gateway_app), to check tokens.
    GATEWAY_DATABASE_URL: fields.optionalPostgresUrl,
    DATABASE_URL: fields.postgresUrl(DEFAULT_DATABASE_URL),
    GATEWAY_MEMBERSHIP_CACHE_MS: fields.durationMs(30_000),
    KAFKA_BROKERS: fields.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: fields.kafkaTopicPrefix,
    KAFKA_PRODUCER_LINGER_MS: fields.kafkaProducerLingerMs,
    LOG_LEVEL: fields.logLevel,
    KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(3),
    // The owning services' read APIs (internal addresses).
    GATEWAY_ACCOUNTS_URL: fields.url('http://127.0.0.1:3101'),
    GATEWAY_PUBLISHER_URL: fields.url('http://127.0.0.1:3102'),
    GATEWAY_ANALYTICS_URL: fields.url('http://127.0.0.1:3103'),
    GATEWAY_UPSTREAM_TIMEOUT_MS: fields.durationMs(5_000),
    // How long a connect callback waits for the accounts service to say what it connected.
    GATEWAY_CONNECT_WAIT_MS: fields.durationMs(8_000),
    // How long a reload of a completed connect callback shows that connect's result again (same browser only).
    GATEWAY_CONNECT_RESULT_TTL_MS: fields.durationMs(10 * 60_000),
    // How long a post write waits for the publisher's post.accepted / post.rejected before answering 202.
    GATEWAY_POST_WAIT_MS: fields.durationMs(2_000),
    // Names this instance's answers consumer group; unique per running instance (the host name by default).
    GATEWAY_INSTANCE_ID: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/).default(hostname()),
    // The web apps that call the API from a browser (CORS) and that a connect flow may return to
    // (returnTo): comma-separated origins, scheme://host[:port]; none by default.
    GATEWAY_WEB_ORIGINS: webOrigins,
    // The load balancers in front of the gateway (addresses or CIDR ranges): only from them is X-Forwarded-For
    // believed, so per-address budgets count the client, not the proxy. None by default.
    GATEWAY_TRUST_PROXY: trustedProxies,
    ...authFields,
    ...keyRingFields,
    ...graphFields,
    ...liveEventFields,
    ...protectionFields,
  })
  .superRefine((env, context) => {
    checkAuthFields(env, context);
    checkGraphFields(env, context);
  })
  .transform((env, context) => ({
    host: env.GATEWAY_HOST,
    port: env.GATEWAY_PORT,
    publicUrl: env.GATEWAY_PUBLIC_URL.replace(/\/$/, ''),
    logLevel: env.LOG_LEVEL,
    metrics: { host: env.GATEWAY_METRICS_HOST, port: env.GATEWAY_METRICS_PORT },
    database: env.GATEWAY_DATABASE_URL ?? connectionUrlForRole(env.DATABASE_URL, GATEWAY_ROLE),
    membershipCacheMs: env.GATEWAY_MEMBERSHIP_CACHE_MS,
    kafka: { brokers: env.KAFKA_BROKERS, topicPrefix: env.KAFKA_TOPIC_PREFIX, partitions: env.KAFKA_TOPIC_PARTITIONS, producerLingerMs: env.KAFKA_PRODUCER_LINGER_MS },
    upstreams: { accounts: env.GATEWAY_ACCOUNTS_URL, publisher: env.GATEWAY_PUBLISHER_URL, analytics: env.GATEWAY_ANALYTICS_URL, timeoutMs: env.GATEWAY_UPSTREAM_TIMEOUT_MS },
    connectWaitMs: env.GATEWAY_CONNECT_WAIT_MS,
    connectResultTtlMs: env.GATEWAY_CONNECT_RESULT_TTL_MS,
    postWaitMs: env.GATEWAY_POST_WAIT_MS,
    instanceId: env.GATEWAY_INSTANCE_ID,
    webOrigins: env.GATEWAY_WEB_ORIGINS,
    trustedProxies: env.GATEWAY_TRUST_PROXY,
    auth: toAuthSettings(env),
    keyRing: toKeyRing(env, context),
    graph: toGraphSettings(env),
    live: toLiveEventSettings(env),
    protection: toProtectionSettings(env),
  }));

export type GatewayConfig = z.output<typeof configSchema>;

/** The Fastify server options the configuration decides (the process entry and the tests build with the same). */
export function serverOptionsOf(config: GatewayConfig): { readonly trustProxy: string[] | false } {
  return { trustProxy: config.trustedProxies.length > 0 ? [...config.trustedProxies] : false };
}
