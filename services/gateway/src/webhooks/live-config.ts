import { z } from 'zod';
import { fields } from '@postwire/config';
import { connectionUrlForRole, serviceRoles } from '@postwire/db';

/** The gateway's live-event settings (SSE and webhooks), a field set spread into the gateway's config schema. */
export const liveEventFields = {
  // The worker role's login (BYPASSRLS): webhook fan-out and delivery. Default: the app login's server
  // and database as gateway_worker.
  GATEWAY_WORKER_DATABASE_URL: fields.optionalPostgresUrl,
  GATEWAY_EVENTS_HEARTBEAT_MS: z.coerce.number().int().min(1_000).max(300_000).default(15_000),
  // A stream ends after this long (sooner when its bearer token expires): the client reconnects and is authorised again.
  GATEWAY_EVENTS_MAX_STREAM_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(3_600_000),
  // Each instance keeps an organisation's last N events for this long, for Last-Event-ID resumes.
  GATEWAY_EVENTS_REPLAY_SIZE: z.coerce.number().int().min(0).max(100_000).default(1_000),
  GATEWAY_EVENTS_REPLAY_MS: fields.durationMs(15 * 60_000),
  GATEWAY_EVENTS_MAX_ORGANISATIONS: z.coerce.number().int().min(1).default(10_000),
  // Only for local receivers (tests, benchmarks): lets webhooks reach private and loopback addresses.
  GATEWAY_WEBHOOK_ALLOW_PRIVATE_TARGETS: fields.boolean(false),
  GATEWAY_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(15_000),
  GATEWAY_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(50),
  GATEWAY_WEBHOOK_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  // An endpoint is disabled after this many failed attempts in a row, failing for at least this long
  // (by default: one delivery that used up its whole day of retries).
  GATEWAY_WEBHOOK_DISABLE_AFTER_FAILURES: z.coerce.number().int().min(1).default(8),
  GATEWAY_WEBHOOK_DISABLE_AFTER_MS: fields.durationMs(24 * 3_600_000),
  // The fan-out's consumer groups share this name across the deployment's instances (each event fanned
  // out once); an environment with a database of its own on a shared cluster needs a name of its own.
  GATEWAY_WEBHOOK_CONSUMER_GROUP: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/).default('gateway-webhooks'),
  // Finished deliveries (with their attempts) are kept this long for the delivery log; inbox rows a week
  // (far beyond any redelivery of an event by Kafka).
  GATEWAY_WEBHOOK_LOG_RETENTION_MS: fields.durationMs(30 * 24 * 3_600_000),
  // Shrinks the retry schedule (tests); 1 in production.
  GATEWAY_WEBHOOK_RETRY_SCALE: z.coerce.number().min(0).max(1).default(1),
};

type LiveEventEnv = z.output<z.ZodObject<typeof liveEventFields>> & {
  readonly DATABASE_URL: string;
  readonly GATEWAY_DATABASE_URL?: string | undefined;
};

export function toLiveEventSettings(env: LiveEventEnv) {
  const workerRole = serviceRoles('gateway').worker;
  return {
    workerDatabase:
      env.GATEWAY_WORKER_DATABASE_URL ??
      (env.GATEWAY_DATABASE_URL === undefined ? connectionUrlForRole(env.DATABASE_URL, workerRole) : connectionUrlForRole(env.GATEWAY_DATABASE_URL, workerRole)),
    events: {
      heartbeatMs: env.GATEWAY_EVENTS_HEARTBEAT_MS,
      maxStreamMs: env.GATEWAY_EVENTS_MAX_STREAM_MS,
      replaySize: env.GATEWAY_EVENTS_REPLAY_SIZE,
      replayMs: env.GATEWAY_EVENTS_REPLAY_MS,
      maxOrganisations: env.GATEWAY_EVENTS_MAX_ORGANISATIONS,
    },
    webhooks: {
      allowPrivateTargets: env.GATEWAY_WEBHOOK_ALLOW_PRIVATE_TARGETS,
      timeoutMs: env.GATEWAY_WEBHOOK_TIMEOUT_MS,
      concurrency: env.GATEWAY_WEBHOOK_CONCURRENCY,
      pollMs: env.GATEWAY_WEBHOOK_POLL_MS,
      // The lease outlasts the request, so no other worker takes a delivery still in flight.
      leaseMs: env.GATEWAY_WEBHOOK_TIMEOUT_MS + 30_000,
      disable: { afterFailures: env.GATEWAY_WEBHOOK_DISABLE_AFTER_FAILURES, afterMs: env.GATEWAY_WEBHOOK_DISABLE_AFTER_MS },
      retryScale: env.GATEWAY_WEBHOOK_RETRY_SCALE,
      consumerGroup: env.GATEWAY_WEBHOOK_CONSUMER_GROUP,
    },
    pruning: {
      intervalMs: 3_600_000,
      targets: [
        { name: 'webhook-deliveries', table: ['gateway', 'webhook_deliveries'] as const, column: 'completed_at', retentionMs: env.GATEWAY_WEBHOOK_LOG_RETENTION_MS },
        // Once a ticket has expired its row stops nothing; kept a while longer for instances whose clocks run behind.
        { name: 'event-stream-tickets', table: ['gateway', 'event_stream_tickets'] as const, column: 'expires_at', retentionMs: 10 * 60_000 },
        { name: 'gateway-inbox', table: ['gateway', 'inbox'] as const, column: 'processed_at', retentionMs: 7 * 24 * 3_600_000 },
      ],
    },
  };
}
