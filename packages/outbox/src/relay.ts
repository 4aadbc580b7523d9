import { setTimeout as sleep } from 'node:timers/promises';
import type { EncodedEvent } from '@postwire/contracts';
import { type DatabasePool, sql } from '@postwire/db';
import type { EventProducer, ServiceLogger } from '@postwire/kafka';
import pg from 'pg';
import { z } from 'zod';
import type { OutboxBacklog, OutboxMetrics } from './metrics.ts';

export type OutboxRelayOptions = {
  /** Pool of the service's worker role (BYPASSRLS), for reading and marking rows. */
  readonly pool: DatabasePool;
  /**
   * Connection string for the relay's own session (same role): it holds the leader lock and LISTENs.
   * A session, not a pooled connection, because both live exactly as long as that session.
   */
  readonly sessionUrl: string;
  readonly schema: string;
  /**
   * The topics this service produces (full names). A row naming any other topic is never published:
   * it is logged and marked handled, so a stray or forged row cannot speak on another service's topic.
   */
  readonly topics: readonly string[];
  readonly producer: EventProducer;
  readonly logger: ServiceLogger;
  readonly metrics?: OutboxMetrics;
  /** Rows claimed and sent per cycle (one sendBatch, one UPDATE). */
  readonly batchSize?: number;
  /** Safety-net poll when no notification arrives (lost session, NOTIFY queue trouble). */
  readonly pollIntervalMs?: number;
  /** How often a follower tries to become the leader. */
  readonly leaderRetryMs?: number;
  /** Sent rows are kept this long (for inspection and replays), then deleted. */
  readonly sentRetentionMs?: number;
  readonly cleanupIntervalMs?: number;
  /** Time allowed on stop to publish what is still unsent. */
  readonly drainTimeoutMs?: number;
  /** Test seam: runs after Kafka acknowledged a batch and before the rows are marked sent. */
  readonly afterPublish?: (eventIds: readonly string[]) => Promise<void>;
};

export type OutboxRelay = {
  start(): Promise<void>;
  /** Stops after publishing what is unsent (up to drainTimeoutMs), then releases leadership. */
  stop(): Promise<void>;
  isLeader(): boolean;
  backlog(): Promise<OutboxBacklog>;
};

const OutboxRow = z.object({
  position: z.bigint(),
  event_id: z.string(),
  topic: z.string(),
  message_key: z.string(),
  event_type: z.string(),
  headers: z.record(z.string(), z.string()),
  payload: z.unknown(),
});

const Backlog = z.object({ unsent: z.number(), oldest_age_seconds: z.number() });
const Locked = z.object({ locked: z.boolean() });

/**
 * Publishes a schema's outbox to Kafka in position order and marks rows sent.
 *
 * Any number of instances may run; one of them, holding a session-level advisory lock for the
 * schema, is the leader and the only one publishing. One publisher reading in position order, with
 * each batch acknowledged before the next is read, keeps every key's events in commit order (see
 * appendToOutbox). If the leader dies after Kafka acknowledged a batch but before marking it, the
 * next leader publishes those rows again: consumers' inboxes drop the duplicates. If its session
 * drops, the lock is released with it and a follower takes over within leaderRetryMs.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { pool, schema, producer, metrics } = options;
  const logger = options.logger.child({ component: 'outbox-relay', schema });
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const leaderRetryMs = options.leaderRetryMs ?? 2_000;
  const sentRetentionMs = options.sentRetentionMs ?? 24 * 3_600_000;
  const cleanupIntervalMs = options.cleanupIntervalMs ?? 60_000;
  const outbox = sql.identifier([schema, 'outbox']);
  const channel = `${schema}_outbox`;

  let running = false;
  let loop: Promise<void> | undefined;
  let session: pg.Client | undefined;
  let leader = false;
  let dirty = true;
  let wake: (() => void) | undefined;
  let nextCleanup = 0;
  let unregister: (() => void) | undefined;
  let stopping = new AbortController();

  const pause = (ms: number) => sleep(ms, undefined, { signal: stopping.signal }).catch(() => undefined);

  function signal(): void {
    dirty = true;
    wake?.();
  }

  async function waitForWork(ms: number): Promise<void> {
    if (dirty || !running) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      wake = done;
    });
  }

  function dropSession(reason: string): void {
    if (leader) logger.warn({ reason }, 'lost outbox leadership');
    leader = false;
    const old = session;
    session = undefined;
    old?.end().catch(() => undefined);
  }

  async function ensureSession(): Promise<void> {
    if (!session) {
      const client = new pg.Client({ connectionString: options.sessionUrl, application_name: `outbox-relay:${schema}` });
      client.on('error', (error) => dropSession(error.message));
      client.on('end', () => {
        if (session === client) dropSession('session ended');
      });
      client.on('notification', (message) => {
        if (message.channel === channel) signal();
      });
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
      session = client;
    }
    if (!leader) {
      const result = await session.query('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [`postwire:outbox-relay:${schema}`]);
      leader = Locked.parse(result.rows[0]).locked;
      if (leader) {
        logger.info('became outbox leader');
        dirty = true;
      }
    }
  }

  // Positions Kafka acknowledged in the previous cycle, marked sent by the next cycle's statement.
  let acknowledged: bigint[] = [];

  /**
   * One cycle: mark the previous batch sent and read the next oldest unsent rows (one statement),
   * then send them as one batch. The CTE's UPDATE is not visible to its SELECT (same snapshot), hence
   * the explicit exclusion of the positions being marked.
   */
  async function publishBatch(): Promise<number> {
    dirty = false;
    const marking = acknowledged;
    const rows = await pool.any(sql.type(OutboxRow)`
      WITH marked AS (
        UPDATE ${outbox} SET sent_at = clock_timestamp()
         WHERE position = ANY(${sql.array(marking, 'int8')})
        RETURNING position
      )
      SELECT position, event_id, topic, message_key, event_type, headers, payload
        FROM ${outbox}
       WHERE sent_at IS NULL AND position <> ALL(${sql.array(marking, 'int8')})
       ORDER BY position
       LIMIT ${batchSize}
    `);
    acknowledged = [];
    if (marking.length > 0) metrics?.relayed.inc({ schema }, marking.length);
    if (rows.length === 0) return 0;
    const refused = rows.filter((row) => !options.topics.includes(row.topic));
    for (const row of refused) logger.error({ eventId: row.event_id, topic: row.topic, eventType: row.event_type }, 'outbox row names a topic this service does not produce; not published');
    const allowed = refused.length === 0 ? rows : rows.filter((row) => options.topics.includes(row.topic));
    const records: EncodedEvent[] = allowed.map((row) => ({
      id: row.event_id,
      type: row.event_type,
      topic: row.topic,
      message: { key: row.message_key, value: JSON.stringify(row.payload), headers: row.headers },
    }));
    try {
      await producer.sendEncoded(records);
    } catch (error) {
      metrics?.relayBatches.inc({ schema, outcome: 'failed' });
      throw error;
    }
    await options.afterPublish?.(rows.map((row) => row.event_id));
    acknowledged = rows.map((row) => row.position);
    metrics?.relayBatches.inc({ schema, outcome: 'published' });
    return rows.length;
  }

  async function cleanUp(): Promise<void> {
    if (Date.now() < nextCleanup) return;
    nextCleanup = Date.now() + cleanupIntervalMs;
    let deleted: number;
    do {
      // Bounded deletes keep each statement short and never hold the table for long.
      const result = await pool.query(sql.type(z.object({ position: z.bigint() }))`
        DELETE FROM ${outbox}
         WHERE position IN (
           SELECT position FROM ${outbox}
            WHERE sent_at < clock_timestamp() - make_interval(secs => ${sentRetentionMs / 1_000})
            ORDER BY sent_at
            LIMIT 5000
         )
        RETURNING position
      `);
      deleted = result.rowCount;
      if (deleted > 0) logger.debug({ deleted }, 'deleted sent outbox rows past retention');
    } while (deleted === 5_000 && running);
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (running) {
      try {
        await ensureSession();
        if (!leader) {
          await pause(leaderRetryMs);
          continue;
        }
        const published = await publishBatch();
        await cleanUp();
        failures = 0;
        // After a send, go round at once: that cycle marks the batch sent (and picks up newer rows).
        if (published === 0) await waitForWork(Math.max(1, Math.min(pollIntervalMs, nextCleanup - Date.now())));
      } catch (error) {
        failures += 1;
        const delay = Math.min(10_000, 100 * 2 ** Math.min(failures, 7));
        logger.error({ err: error, delay }, 'outbox relay cycle failed; retrying');
        await pause(delay);
      }
    }
  }

  async function drain(): Promise<void> {
    if (!leader) return;
    const deadline = Date.now() + (options.drainTimeoutMs ?? 10_000);
    try {
      while (Date.now() < deadline && ((await publishBatch()) > 0 || acknowledged.length > 0));
    } catch (error) {
      logger.warn({ err: error }, 'outbox not fully drained on stop; the next leader publishes the rest');
    }
  }

  async function backlog(): Promise<OutboxBacklog> {
    const row = await pool.one(sql.type(Backlog)`
      SELECT count(*)::int AS unsent,
             coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)::float8 AS oldest_age_seconds
        FROM ${outbox}
       WHERE sent_at IS NULL
    `);
    return { unsent: row.unsent, oldestAgeSeconds: row.oldest_age_seconds };
  }

  return {
    async start() {
      if (running) return;
      running = true;
      stopping = new AbortController();
      unregister = metrics?.registerBacklogSource(schema, backlog);
      loop = run();
    },
    async stop() {
      if (!running) return;
      running = false;
      stopping.abort();
      signal();
      await loop;
      await drain();
      unregister?.();
      dropSession('stopped');
    },
    isLeader: () => leader,
    backlog,
  };
}
