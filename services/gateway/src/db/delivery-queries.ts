import { type CommonQueryMethods, type DatabaseTransactionConnection, sql } from '@postwire/db';
import { z } from 'zod';

/** Notified (at commit) when a fan-out leaves deliveries unclaimed, so idle workers of every instance claim them. */
export const DELIVERIES_CHANNEL = 'gateway_webhook_deliveries';

/** An event to fan out: one delivery per enabled endpoint of its organisation that wants its type. */
export type FanOutEvent = {
  readonly eventId: string;
  readonly organisationId: string;
  readonly eventType: string;
  readonly eventTime: string;
  readonly payload: Readonly<Record<string, unknown>>;
};

export type EventPosition = {
  readonly eventId: string;
  readonly eventType: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
};

/** A delivery a worker has claimed, with what sending it needs. */
export const ClaimedDelivery = z.object({
  id: z.uuid(),
  organisation_id: z.uuid(),
  endpoint_id: z.uuid(),
  event_id: z.uuid(),
  event_type: z.string(),
  event_time: z.coerce.date(),
  payload: z.record(z.string(), z.unknown()),
  attempts: z.number().int(),
  manual: z.boolean(),
  url: z.string(),
  secret: z.string(),
});
export type ClaimedDelivery = z.infer<typeof ClaimedDelivery>;

export type AttemptOutcome = {
  readonly deliveryId: string;
  readonly organisationId: string;
  readonly endpointId: string;
  readonly attempt: number;
  readonly manual: boolean;
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly responseStatus: number | null;
  readonly responseBody: string | null;
  readonly error: string | null;
  readonly succeeded: boolean;
  /** After a failure: when to try again, or null when the delivery has had all its attempts. */
  readonly retryInMs: number | null;
};

const Ids = z.object({ id: z.uuid() });
const Streak = z.object({ consecutive_failures: z.number().int(), failing_since: z.coerce.date().nullable() });

/** The worker role's side of webhooks (BYPASSRLS): fan-out, claims and the outcome of each attempt. */
export function createDeliveryQueries(connection: CommonQueryMethods) {
  return {
    /**
     * Records the events in the inbox and queues a delivery for each matching endpoint, in the caller's
     * transaction. Events whose id the inbox already has are skipped; endpoints registered after an event
     * happened never get it. Up to `claim.limit` of the new deliveries are claimed at once (attempt 1, under
     * a lease), so the instance that fanned them out sends them without a further query; the rest wait
     * for any worker's claim, and every listening worker is told at commit (`DELIVERIES_CHANNEL`).
     * Returns how many were queued and the claimed ones.
     */
    async fanOut(
      consumer: string,
      events: readonly (FanOutEvent & EventPosition)[],
      claim: { readonly limit: number; readonly leaseMs: number },
    ): Promise<{ readonly queued: number; readonly claimed: readonly ClaimedDelivery[] }> {
      if (events.length === 0) return { queued: 0, claimed: [] };
      const fresh = await connection.anyFirst(sql.type(z.object({ event_id: z.uuid() }))`
        INSERT INTO gateway.inbox (consumer, event_id, event_type, topic, kafka_partition, kafka_offset)
        SELECT ${consumer}, event_id, event_type, topic, kafka_partition, kafka_offset
          FROM ${sql.unnest(
            events.map((event) => [event.eventId, event.eventType, event.topic, event.partition, event.offset]),
            ['uuid', 'text', 'text', 'int4', 'text'],
          )} AS incoming(event_id, event_type, topic, kafka_partition, kafka_offset)
        ON CONFLICT (consumer, event_id) DO NOTHING
        RETURNING event_id`);
      const freshIds = new Set(fresh);
      const toQueue = events.filter((event) => freshIds.has(event.eventId));
      if (toQueue.length === 0) return { queued: 0, claimed: [] };
      // Inserted already claimed (attempt 1, under the lease) up to the limit: one statement, no second
      // write of the same rows.
      const limit = Math.max(0, claim.limit);
      const lease = sql.fragment`NOW() + make_interval(secs => ${claim.leaseMs / 1000})`;
      const queued = await connection.any(sql.type(ClaimedDelivery)`
        WITH matched AS (
          SELECT e.organisation_id, e.id AS endpoint_id, incoming.event_id, incoming.event_type, incoming.event_time, incoming.payload,
                 row_number() OVER () <= ${limit} AS claimed
            FROM ${sql.unnest(
              toQueue.map((event) => [event.eventId, event.organisationId, event.eventType, event.eventTime, JSON.stringify(event.payload)]),
              ['uuid', 'uuid', 'text', 'timestamptz', 'jsonb'],
            )} AS incoming(event_id, organisation_id, event_type, event_time, payload)
            JOIN gateway.webhook_endpoints e
              ON e.organisation_id = incoming.organisation_id
             AND e.enabled
             AND e.created_at <= incoming.event_time
             AND (cardinality(e.event_types) = 0 OR EXISTS (
                   SELECT 1 FROM unnest(e.event_types) AS wanted(type)
                    WHERE wanted.type = incoming.event_type
                       OR (right(wanted.type, 1) = '*' AND starts_with(incoming.event_type, left(wanted.type, -1)))))
        ), inserted AS (
          INSERT INTO gateway.webhook_deliveries (organisation_id, endpoint_id, event_id, event_type, event_time, payload, attempts, next_attempt_at)
          SELECT organisation_id, endpoint_id, event_id, event_type, event_time, payload,
                 CASE WHEN claimed THEN 1 ELSE 0 END, CASE WHEN claimed THEN ${lease} ELSE NOW() END
            FROM matched
          ON CONFLICT (endpoint_id, event_id) DO NOTHING
          RETURNING id, organisation_id, endpoint_id, event_id, event_type, event_time, payload, attempts, manual
        )
        SELECT i.id, i.organisation_id, i.endpoint_id, i.event_id, i.event_type, i.event_time, i.payload, i.attempts, i.manual, e.url, e.secret
          FROM inserted i JOIN gateway.webhook_endpoints e ON e.id = i.endpoint_id`);
      const claimed = queued.filter((delivery) => delivery.attempts === 1);
      if (claimed.length < queued.length) await connection.query(sql.unsafe`SELECT pg_notify(${DELIVERIES_CHANNEL}, '')`);
      return { queued: queued.length, claimed };
    },

    /**
     * Takes up to `limit` due deliveries of enabled endpoints. Their due time moves `leaseMs` ahead, so
     * other instances (SKIP LOCKED now, the lease later) leave them alone, and a worker that dies with
     * one in hand lets it fall due again. The attempt number is taken here.
     */
    claimDue(limit: number, leaseMs: number): Promise<readonly ClaimedDelivery[]> {
      return connection.any(sql.type(ClaimedDelivery)`
        WITH due AS (
          SELECT d.id, d.manual
            FROM gateway.webhook_deliveries d
            JOIN gateway.webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled
           WHERE d.status = 'pending' AND d.next_attempt_at <= NOW()
           ORDER BY d.next_attempt_at
           LIMIT ${limit}
             FOR UPDATE OF d SKIP LOCKED
        )
        UPDATE gateway.webhook_deliveries d
           SET attempts = d.attempts + 1,
               manual = false,
               next_attempt_at = NOW() + make_interval(secs => ${leaseMs / 1000})
          FROM due, gateway.webhook_endpoints e
         WHERE d.id = due.id AND e.id = d.endpoint_id
        RETURNING d.id, d.organisation_id, d.endpoint_id, d.event_id, d.event_type, d.event_time, d.payload, d.attempts,
                  due.manual, e.url, e.secret`);
    },
  };
}

/**
 * Writes the outcome of successful attempts in three statements, however many: the log rows, the
 * deliveries' new state, and the failure streaks of their endpoints, ended.
 */
export async function recordSuccesses(connection: DatabaseTransactionConnection, outcomes: readonly AttemptOutcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  await connection.any(sql.type(Ids)`
    INSERT INTO gateway.webhook_delivery_attempts
      (delivery_id, organisation_id, attempt, trigger, started_at, duration_ms, response_status, response_body, succeeded)
    SELECT delivery_id, organisation_id, attempt, trigger, started_at, duration_ms, response_status, response_body, true
      FROM ${sql.unnest(
        outcomes.map((outcome) => [
          outcome.deliveryId,
          outcome.organisationId,
          outcome.attempt,
          outcome.manual ? 'manual' : 'scheduled',
          outcome.startedAt.toISOString(),
          outcome.durationMs,
          outcome.responseStatus ?? 0,
          outcome.responseBody ?? '',
        ]),
        ['uuid', 'uuid', 'int4', 'text', 'timestamptz', 'int4', 'int4', 'text'],
      )} AS done(delivery_id, organisation_id, attempt, trigger, started_at, duration_ms, response_status, response_body)
    ON CONFLICT (delivery_id, attempt) DO NOTHING
    RETURNING id`);
  await connection.any(sql.type(Ids)`
    UPDATE gateway.webhook_deliveries d SET status = 'succeeded', completed_at = NOW(), last_error = NULL
      FROM ${sql.unnest(outcomes.map((outcome) => [outcome.deliveryId, outcome.attempt]), ['uuid', 'int4'])} AS done(id, attempt)
     WHERE d.id = done.id AND d.attempts = done.attempt AND NOT d.manual
    RETURNING d.id`);
  await connection.any(sql.type(Ids)`
    UPDATE gateway.webhook_endpoints SET consecutive_failures = 0, failing_since = NULL
     WHERE id = ANY(${sql.array([...new Set(outcomes.map((outcome) => outcome.endpointId))], 'uuid')}) AND consecutive_failures > 0
    RETURNING id`);
}

/**
 * Writes one attempt's outcome: the log row, the delivery's new state and the endpoint's failure streak.
 * Returns the streak after this attempt (null after a success, or when the endpoint is gone), for the disable rule.
 */
export async function recordAttempt(
  connection: DatabaseTransactionConnection,
  outcome: AttemptOutcome,
): Promise<{ readonly consecutiveFailures: number; readonly failingSince: Date } | null> {
  await connection.any(sql.type(Ids)`
    INSERT INTO gateway.webhook_delivery_attempts
      (delivery_id, organisation_id, attempt, trigger, started_at, duration_ms, response_status, response_body, error, succeeded)
    VALUES (${outcome.deliveryId}, ${outcome.organisationId}, ${outcome.attempt}, ${outcome.manual ? 'manual' : 'scheduled'},
            ${sql.timestamp(outcome.startedAt)}, ${outcome.durationMs}, ${outcome.responseStatus}, ${outcome.responseBody},
            ${outcome.error}, ${outcome.succeeded})
    ON CONFLICT (delivery_id, attempt) DO NOTHING
    RETURNING id`);
  if (outcome.succeeded) {
    await connection.any(sql.type(Ids)`
      UPDATE gateway.webhook_deliveries SET status = 'succeeded', completed_at = NOW(), last_error = NULL
       WHERE id = ${outcome.deliveryId} AND attempts = ${outcome.attempt} AND NOT manual
      RETURNING id`);
    await connection.any(sql.type(Ids)`
      UPDATE gateway.webhook_endpoints SET consecutive_failures = 0, failing_since = NULL
       WHERE id = ${outcome.endpointId} AND consecutive_failures > 0
      RETURNING id`);
    return null;
  }
  // Only the claim that owns the current attempt moves the delivery on: a manual redelivery made meanwhile stands.
  await connection.any(sql.type(Ids)`
    UPDATE gateway.webhook_deliveries
       SET last_error = ${outcome.error},
           status = ${outcome.retryInMs === null ? 'failed' : 'pending'},
           completed_at = ${outcome.retryInMs === null ? sql.fragment`NOW()` : sql.fragment`NULL`},
           next_attempt_at = ${outcome.retryInMs === null ? sql.fragment`next_attempt_at` : sql.fragment`NOW() + make_interval(secs => ${outcome.retryInMs / 1000})`}
     WHERE id = ${outcome.deliveryId} AND attempts = ${outcome.attempt} AND NOT manual
    RETURNING id`);
  // Null when the endpoint was removed meanwhile (its deliveries went with it).
  const streak = await connection.maybeOne(sql.type(Streak)`
    UPDATE gateway.webhook_endpoints
       SET consecutive_failures = consecutive_failures + 1,
           failing_since = coalesce(failing_since, ${sql.timestamp(outcome.startedAt)})
     WHERE id = ${outcome.endpointId}
    RETURNING consecutive_failures, failing_since`);
  return streak === null ? null : { consecutiveFailures: streak.consecutive_failures, failingSince: streak.failing_since ?? outcome.startedAt };
}

/** Disables an endpoint that keeps failing; its pending deliveries wait until it is enabled again. */
export async function disableEndpoint(connection: CommonQueryMethods, endpointId: string, reason: string): Promise<void> {
  await connection.any(sql.type(Ids)`
    UPDATE gateway.webhook_endpoints SET enabled = false, disabled_reason = ${reason}, disabled_at = NOW()
     WHERE id = ${endpointId} AND enabled
    RETURNING id`);
}
