import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import pg from 'pg';
import { Counter, Histogram } from 'prom-client';
import type { TokenCipher } from '@postwire/crypto';
import { describeError } from '@postwire/kafka';
import {
  type AttemptOutcome,
  type ClaimedDelivery,
  DELIVERIES_CHANNEL,
  createDeliveryQueries,
  disableEndpoint,
  recordAttempt,
  recordSuccesses,
} from '../db/delivery-queries.ts';
import { type DisablePolicy, disableReason, isDeliveredStatus, retryDelayMs } from '../domain/webhook-retry.ts';
import { webhookSigner } from '../domain/webhook-signature.ts';
import { endpointSecretContext } from './secrets.ts';
import { createWebhookSender } from './sender.ts';

export type DeliveryWorkerOptions = {
  readonly cipher: TokenCipher;
  /** Deliveries in flight at once on this instance. */
  readonly concurrency: number;
  /** How often an idle worker looks for due deliveries (retries falling due; other instances' fan-out when not told). */
  readonly pollMs: number;
  /** The worker database, where the worker LISTENs for fan-outs that left deliveries unclaimed (any instance's). */
  readonly listenUrl?: string;
  /** How long a claimed delivery stays out of other workers' reach; above the request timeout. */
  readonly leaseMs: number;
  readonly timeoutMs: number;
  readonly allowPrivateTargets: boolean;
  readonly disable: DisablePolicy;
  /** Shrinks the retry schedule (tests); 1 in production. */
  readonly retryScale: number;
};

declare module 'fastify' {
  interface FastifyInstance {
    webhookDeliveries: {
      /** Looks for due deliveries now (after a redelivery, or an endpoint enabled again, on this instance). */
      wake(): void;
      /** How many deliveries the fan-out may claim for this worker right now. */
      room(): number;
      /** Takes deliveries claimed for this worker (the fan-out's, claimed as they were queued). */
      accept(claimed: readonly ClaimedDelivery[]): void;
    };
  }
}

/**
 * Sends due webhook deliveries. Several gateway instances share the queue: each claims with SKIP LOCKED
 * and a lease, so a delivery is in one worker's hands at a time. The worker keeps up to `concurrency`
 * requests in flight and claims more as each finishes, so one slow endpoint holds one slot, not a batch.
 */
export const deliveryWorkerPlugin = fp(
  async (fastify: FastifyInstance, options: DeliveryWorkerOptions) => {
    const logger = fastify.log.child({ component: 'webhook-delivery' });
    const sender = createWebhookSender({ timeoutMs: options.timeoutMs, allowPrivateTargets: options.allowPrivateTargets });
    const attempts = new Counter({
      name: 'postwire_webhook_attempts_total',
      help: 'Webhook delivery attempts, by outcome (succeeded, failed, blocked: the SSRF guard refused the target).',
      labelNames: ['outcome'] as const,
      registers: [fastify.metrics],
    });
    const latency = new Histogram({
      name: 'postwire_webhook_delivery_latency_seconds',
      help: 'From the event to its successful delivery.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30, 300, 3600],
      registers: [fastify.metrics],
    });
    const disabled = new Counter({ name: 'postwire_webhook_endpoints_disabled_total', help: 'Endpoints disabled for failing.', registers: [fastify.metrics] });

    let stopping = false;
    let filling = false;
    let fillAgain = false;
    let timer: NodeJS.Timeout | undefined;
    /** Claimed, not yet started: at most `concurrency` more than in flight, well within their lease. */
    const queue: ClaimedDelivery[] = [];
    const inFlight = new Set<Promise<void>>();
    const bufferRoom = () => (stopping ? 0 : Math.max(0, 2 * options.concurrency - inFlight.size - queue.length));
    /** Successes are written in groups: one transaction for all that finished while the last was written. */
    const successes: AttemptOutcome[] = [];
    let flushing: Promise<void> | undefined;

    function flushSuccesses(): void {
      if (flushing || successes.length === 0) return;
      const batch = successes.splice(0, 500);
      flushing = fastify.workerDb
        .transaction((connection) => recordSuccesses(connection, batch))
        .catch((error: unknown) => logger.error({ deliveries: batch.length, error: describeError(error) }, 'webhook successes not recorded'))
        .finally(() => {
          flushing = undefined;
          flushSuccesses();
        });
    }

    async function recordFailure(delivery: ClaimedDelivery, outcome: AttemptOutcome): Promise<void> {
      await fastify.workerDb.transaction(async (connection) => {
        const streak = await recordAttempt(connection, outcome);
        const reason = streak === null ? null : disableReason(streak, new Date(), options.disable);
        if (reason !== null) {
          await disableEndpoint(connection, delivery.endpoint_id, reason);
          disabled.inc();
          logger.warn({ endpointId: delivery.endpoint_id, reason }, 'webhook endpoint disabled');
        }
      });
    }

    // Decrypted once per endpoint and ciphertext (a rotated secret is a new ciphertext): AES-GCM and key
    // objects per delivery cost more than the request itself at fan-out rates.
    type Sign = ReturnType<typeof webhookSigner>;
    const signers = new Map<string, { readonly ciphertext: string; readonly sign: Sign }>();
    function signerOf(delivery: ClaimedDelivery): Sign {
      const known = signers.get(delivery.endpoint_id);
      if (known?.ciphertext === delivery.secret) return known.sign;
      const sign = webhookSigner(options.cipher.decrypt(delivery.secret, endpointSecretContext(delivery.endpoint_id)));
      if (signers.size >= 10_000) signers.clear();
      signers.set(delivery.endpoint_id, { ciphertext: delivery.secret, sign });
      return sign;
    }

    async function attempt(delivery: ClaimedDelivery): Promise<void> {
      const startedAt = new Date();
      const started = performance.now();
      const body = JSON.stringify(delivery.payload);
      let responseStatus: number | null = null;
      let responseBody: string | null = null;
      let error: string | null = null;
      try {
        const sign = signerOf(delivery);
        const timestamp = Math.floor(Date.now() / 1000);
        const answer = await sender.send(
          delivery.url,
          {
            'content-type': 'application/json',
            'user-agent': 'Postwire-Webhooks/1',
            'webhook-id': delivery.event_id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': sign(delivery.event_id, timestamp, body),
          },
          body,
        );
        responseStatus = answer.status;
        responseBody = answer.body;
        if (!isDeliveredStatus(answer.status)) error = `the endpoint answered ${answer.status}`;
      } catch (caught) {
        error = caught instanceof Error ? caught.message : String(caught);
      }
      const succeeded = error === null;
      attempts.inc({ outcome: succeeded ? 'succeeded' : error?.includes('webhooks may not reach') ? 'blocked' : 'failed' });
      if (succeeded) latency.observe((Date.now() - delivery.event_time.getTime()) / 1000);
      const outcome: AttemptOutcome = {
        deliveryId: delivery.id,
        organisationId: delivery.organisation_id,
        endpointId: delivery.endpoint_id,
        attempt: delivery.attempts,
        manual: delivery.manual,
        startedAt,
        durationMs: Math.round(performance.now() - started),
        responseStatus,
        responseBody,
        error,
        succeeded,
        retryInMs: succeeded ? null : retryDelayMs(delivery.attempts, options.retryScale),
      };
      if (succeeded) {
        successes.push(outcome);
        flushSuccesses();
      } else {
        await recordFailure(delivery, outcome);
      }
    }

    function pump(): void {
      while (!stopping && inFlight.size < options.concurrency) {
        const delivery = queue.shift();
        if (!delivery) break;
        const running = attempt(delivery)
          .catch((error: unknown) => logger.error({ deliveryId: delivery.id, error: describeError(error) }, 'webhook attempt not recorded'))
          .finally(() => {
            inFlight.delete(running);
            pump();
            // Claim ahead while half the buffer is left, in batches, rather than a few at a time.
            if (queue.length < options.concurrency / 2) fill();
          });
        inFlight.add(running);
      }
    }

    async function claimWhileRoom(): Promise<void> {
      const queries = createDeliveryQueries(fastify.workerDb);
      while (!stopping) {
        const room = bufferRoom();
        if (room <= 0) return;
        const claimed = await queries.claimDue(room, options.leaseMs);
        queue.push(...claimed);
        pump();
        if (claimed.length < room) return;
      }
    }

    /** One claimer at a time per instance; a wake during a claim runs another claim after it. */
    function fill(): void {
      if (stopping) return;
      if (filling) {
        fillAgain = true;
        return;
      }
      filling = true;
      claimWhileRoom()
        .catch((error: unknown) => logger.error({ error: describeError(error) }, 'claiming webhook deliveries failed'))
        .finally(() => {
          filling = false;
          if (fillAgain) {
            fillAgain = false;
            fill();
          }
        });
    }

    const poll = () => {
      if (stopping) return;
      fill();
      timer = setTimeout(poll, options.pollMs);
      timer.unref();
    };

    // A fan-out on any instance that leaves deliveries unclaimed notifies at commit: every idle worker claims
    // at once instead of at its next poll. The poll stays the fallback (and finds retries falling due).
    let listener: pg.Client | undefined;
    let relisten: NodeJS.Timeout | undefined;
    async function listen(): Promise<void> {
      if (stopping || options.listenUrl === undefined) return;
      const client = new pg.Client({ connectionString: options.listenUrl, application_name: 'gateway-webhook-listener' });
      client.on('notification', fill);
      client.on('error', (error) => logger.warn({ error: describeError(error) }, 'webhook wake-up connection failed'));
      client.on('end', () => {
        if (listener === client) listener = undefined;
        if (stopping) return;
        relisten = setTimeout(() => void listen(), options.pollMs);
        relisten.unref();
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${DELIVERIES_CHANNEL}`);
        listener = client;
        // Whatever was notified while this worker was not listening.
        fill();
      } catch (error) {
        logger.warn({ error: describeError(error) }, 'webhook wake-up not listening; polling meanwhile');
        await client.end().catch(() => undefined);
      }
    }

    fastify.decorate('webhookDeliveries', {
      wake: fill,
      room: bufferRoom,
      accept(claimed) {
        queue.push(...claimed);
        pump();
      },
    });
    fastify.addHook('onReady', async () => {
      poll();
      void listen();
    });
    fastify.addHook('onClose', async () => {
      stopping = true;
      clearTimeout(timer);
      clearTimeout(relisten);
      await listener?.end().catch(() => undefined);
      while (inFlight.size > 0 || filling || flushing) await Promise.allSettled([...inFlight, flushing, new Promise((resolve) => setTimeout(resolve, 10))]);
      flushSuccesses();
      await flushing;
      // Claimed but never started: due again once their lease ends, for whichever instance is running then.
      sender.close();
    });
  },
  { name: '@postwire/gateway-webhook-delivery', dependencies: ['@postwire/worker-database', '@postwire/metrics'] },
);
