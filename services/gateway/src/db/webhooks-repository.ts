import { type CommonQueryMethods, sql } from '@postwire/db';
import { z } from 'zod';

/** One row schema per table, with named projections (STYLE.md). */
export const EndpointRow = z.object({
  id: z.uuid(),
  organisation_id: z.uuid(),
  url: z.string(),
  description: z.string().nullable(),
  event_types: z.array(z.string()),
  secret: z.string(),
  enabled: z.boolean(),
  disabled_reason: z.string().nullable(),
  disabled_at: z.coerce.date().nullable(),
  consecutive_failures: z.number().int(),
  failing_since: z.coerce.date().nullable(),
  created_by: z.uuid(),
  created_at: z.coerce.date(),
  updated_at: z.coerce.date(),
  version: z.string(),
});
export type EndpointRow = z.infer<typeof EndpointRow>;

/**
 * An endpoint's version: updated_at in microseconds since the epoch, as text. Every change to the row moves it
 * (the table's trigger), so it names one state of what a read shows: the endpoint's ETag, and what If-Match is
 * checked against in the statement that changes it.
 */
const ENDPOINT_VERSION = sql.fragment`(EXTRACT(EPOCH FROM updated_at) * 1000000)::bigint::text`;

const endpointColumns = sql.fragment`
  id, organisation_id, url, description, event_types, secret, enabled, disabled_reason, disabled_at,
  consecutive_failures, failing_since, created_by, created_at, updated_at, ${ENDPOINT_VERSION} AS version`;

/** Only at one of these versions (If-Match), or at any when undefined. */
const atVersion = (versions: readonly string[] | undefined) =>
  versions === undefined ? sql.fragment`TRUE` : sql.fragment`${ENDPOINT_VERSION} = ANY(${sql.array([...versions], 'text')})`;

export const DeliveryStatus = z.enum(['pending', 'succeeded', 'failed']);

export const DeliveryRow = z.object({
  id: z.uuid(),
  organisation_id: z.uuid(),
  endpoint_id: z.uuid(),
  event_id: z.uuid(),
  event_type: z.string(),
  event_time: z.coerce.date(),
  payload: z.record(z.string(), z.unknown()),
  status: DeliveryStatus,
  attempts: z.number().int(),
  next_attempt_at: z.coerce.date(),
  last_error: z.string().nullable(),
  manual: z.boolean(),
  created_at: z.coerce.date(),
  completed_at: z.coerce.date().nullable(),
});
export type DeliveryRow = z.infer<typeof DeliveryRow>;

const deliveryColumns = sql.fragment`
  id, organisation_id, endpoint_id, event_id, event_type, event_time, payload, status, attempts, next_attempt_at,
  last_error, manual, created_at, completed_at`;

export const AttemptRow = z.object({
  id: z.uuid(),
  delivery_id: z.uuid(),
  attempt: z.number().int(),
  trigger: z.enum(['scheduled', 'manual']),
  started_at: z.coerce.date(),
  duration_ms: z.number().int(),
  response_status: z.number().int().nullable(),
  response_body: z.string().nullable(),
  error: z.string().nullable(),
  succeeded: z.boolean(),
});
export type AttemptRow = z.infer<typeof AttemptRow>;

export type NewEndpoint = {
  readonly id: string;
  readonly organisationId: string;
  readonly url: string;
  readonly description: string | null;
  readonly eventTypes: readonly string[];
  /** Already encrypted. */
  readonly secret: string;
  readonly createdBy: string;
};

export type EndpointChanges = {
  readonly url?: string;
  readonly description?: string | null;
  readonly eventTypes?: readonly string[];
  readonly secret?: string;
  readonly enabled?: boolean;
};

/**
 * What a user-scoped request does with its organisation's endpoints and delivery log. Runs on the app
 * role inside withCallerClaims, so RLS keeps every statement to the caller's organisation.
 */
export function createWebhooksRepository(connection: CommonQueryMethods) {
  return {
    createEndpoint(endpoint: NewEndpoint): Promise<EndpointRow> {
      return connection.one(sql.type(EndpointRow)`
        INSERT INTO gateway.webhook_endpoints (id, organisation_id, url, description, event_types, secret, created_by)
        VALUES (${endpoint.id}, ${endpoint.organisationId}, ${endpoint.url}, ${endpoint.description},
                ${sql.array([...endpoint.eventTypes], 'text')}, ${endpoint.secret}, ${endpoint.createdBy})
        RETURNING ${endpointColumns}`);
    },

    async listEndpoints(): Promise<readonly EndpointRow[]> {
      return connection.any(sql.type(EndpointRow)`
        SELECT ${endpointColumns} FROM gateway.webhook_endpoints ORDER BY created_at, id LIMIT 500`);
    },

    findEndpoint(id: string): Promise<EndpointRow | null> {
      return connection.maybeOne(sql.type(EndpointRow)`SELECT ${endpointColumns} FROM gateway.webhook_endpoints WHERE id = ${id}`);
    },

    /** Null when there is no such endpoint, or (with `versions`) when it is at none of them. */
    updateEndpoint(id: string, changes: EndpointChanges, versions?: readonly string[]): Promise<EndpointRow | null> {
      const assignments = [
        ...(changes.url === undefined ? [] : [sql.fragment`url = ${changes.url}`]),
        ...(changes.description === undefined ? [] : [sql.fragment`description = ${changes.description}`]),
        ...(changes.eventTypes === undefined ? [] : [sql.fragment`event_types = ${sql.array([...changes.eventTypes], 'text')}`]),
        ...(changes.secret === undefined ? [] : [sql.fragment`secret = ${changes.secret}`]),
        // Enabling again starts a fresh failure streak; disabling by hand names who did it.
        ...(changes.enabled === true
          ? [sql.fragment`enabled = true, disabled_reason = NULL, disabled_at = NULL, consecutive_failures = 0, failing_since = NULL`]
          : []),
        ...(changes.enabled === false
          ? [sql.fragment`enabled = false, disabled_reason = coalesce(disabled_reason, 'disabled through the API'), disabled_at = coalesce(disabled_at, NOW())`]
          : []),
      ];
      if (assignments.length === 0) {
        return connection.maybeOne(sql.type(EndpointRow)`
          SELECT ${endpointColumns} FROM gateway.webhook_endpoints WHERE id = ${id} AND ${atVersion(versions)}`);
      }
      return connection.maybeOne(sql.type(EndpointRow)`
        UPDATE gateway.webhook_endpoints SET ${sql.join(assignments, sql.fragment`, `)}
         WHERE id = ${id} AND ${atVersion(versions)}
        RETURNING ${endpointColumns}`);
    },

    /** Null when there is no such endpoint, or (with `versions`) when it is at none of them. */
    deleteEndpoint(id: string, versions?: readonly string[]): Promise<EndpointRow | null> {
      return connection.maybeOne(sql.type(EndpointRow)`
        DELETE FROM gateway.webhook_endpoints WHERE id = ${id} AND ${atVersion(versions)} RETURNING ${endpointColumns}`);
    },

    /** Newest first; `before` is the last page's final (created_at, id). */
    listDeliveries(
      endpointId: string,
      options: { readonly limit: number; readonly status?: z.infer<typeof DeliveryStatus>; readonly before?: { readonly createdAt: Date; readonly id: string } },
    ): Promise<readonly DeliveryRow[]> {
      const conditions = [
        sql.fragment`endpoint_id = ${endpointId}`,
        ...(options.status === undefined ? [] : [sql.fragment`status = ${options.status}`]),
        ...(options.before === undefined
          ? []
          : [sql.fragment`(created_at, id) < (${sql.timestamp(options.before.createdAt)}, ${options.before.id})`]),
      ];
      return connection.any(sql.type(DeliveryRow)`
        SELECT ${deliveryColumns} FROM gateway.webhook_deliveries
         WHERE ${sql.join(conditions, sql.fragment` AND `)}
         ORDER BY created_at DESC, id DESC
         LIMIT ${options.limit}`);
    },

    findDelivery(endpointId: string, deliveryId: string): Promise<DeliveryRow | null> {
      return connection.maybeOne(sql.type(DeliveryRow)`
        SELECT ${deliveryColumns} FROM gateway.webhook_deliveries WHERE id = ${deliveryId} AND endpoint_id = ${endpointId}`);
    },

    attemptsOf(deliveryId: string): Promise<readonly AttemptRow[]> {
      return connection.any(sql.type(AttemptRow)`
        SELECT id, delivery_id, attempt, trigger, started_at, duration_ms, response_status, response_body, error, succeeded
          FROM gateway.webhook_delivery_attempts WHERE delivery_id = ${deliveryId} ORDER BY attempt`);
    },

    /** Makes a delivery due now, whatever became of it; its next attempt is logged as a manual one. */
    requestRedelivery(endpointId: string, deliveryId: string): Promise<DeliveryRow | null> {
      return connection.maybeOne(sql.type(DeliveryRow)`
        UPDATE gateway.webhook_deliveries SET status = 'pending', next_attempt_at = NOW(), manual = true
         WHERE id = ${deliveryId} AND endpoint_id = ${endpointId}
        RETURNING ${deliveryColumns}`);
    },
  };
}

export type WebhooksRepository = ReturnType<typeof createWebhooksRepository>;
