import { setTimeout as sleep } from 'node:timers/promises';
import type { EventReader, IncomingEvent, TopicContract } from '@postwire/contracts';
import { type BackoffOptions, backoffDelay } from '@postwire/core';
import type { Admin, Consumer, EachBatchPayload, KafkaMessage, Producer } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import type { ServiceLogger } from './logging.ts';
import type { KafkaClient } from './client.ts';
import { deadLetterRecord } from './dead-letter.ts';
import { type DeadLetterReason, decideAfterFailure, describeError } from './failure.ts';
import { headersFromKafka } from './headers.ts';
import { fetchConsumerLag } from './lag.ts';
import type { KafkaMetrics, LagRow } from './metrics.ts';

export type KafkaPosition = {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Producer's create time (epoch ms, as kafkajs reports it). */
  readonly timestamp: string;
};

/** A valid event in the current shape, with where it was read from (`topic`: the contract's name, without the prefix). */
export type ConsumedEvent<Topic extends TopicContract> = IncomingEvent<Topic> & { readonly position: KafkaPosition };

/** `duplicate`: already applied before (the inbox knew its id); counted, not applied again. */
export type HandleOutcome = 'processed' | 'duplicate';

export type EventHandler<Topic extends TopicContract> = {
  /**
   * Applies one event. Throw to retry (NonRetryableError: dead-letter at once). Resolving with
   * 'duplicate' reports an event that had been applied before; any other value counts as processed.
   */
  handle(event: ConsumedEvent<Topic>): Promise<unknown>;
  /**
   * Optional fast path: applies several events of one partition, in order, all or nothing. When it
   * throws, the consumer falls back to `handle` one event at a time.
   */
  handleBatch?(events: readonly ConsumedEvent<Topic>[]): Promise<unknown>;
};

export type EventConsumerOptions<Topic extends TopicContract> = {
  readonly groupId: string;
  readonly reader: EventReader<Topic>;
  readonly handler: EventHandler<Topic>;
  readonly logger: ServiceLogger;
  readonly metrics?: KafkaMetrics;
  /** Attempts per message before it is dead-lettered (first try included). */
  readonly maxAttempts?: number;
  readonly backoff?: BackoffOptions;
  /** Events per handleBatch call; offsets are committed after each. */
  readonly maxBatchSize?: number;
  readonly fromBeginning?: boolean;
  /**
   * A member that sends no heartbeat for this long is removed from the group. kafkajs heartbeats
   * between messages only, so one handler call must stay well below it.
   */
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly rebalanceTimeoutMs?: number;
  /** Longest a done message waits for its offset commit (0: commit after every chunk). */
  readonly commitIntervalMs?: number;
  /** Partitions handled in parallel; order holds per partition, hence per key. */
  readonly partitionsConsumedConcurrently?: number;
  readonly maxWaitTimeMs?: number;
  readonly onGroupJoin?: (assignment: Readonly<Record<string, readonly number[]>>) => void;
  /**
   * False for an observer that reads another service's topic beside its owner (e.g. the gateway
   * waiting for answers): what it cannot handle is logged and skipped, and dead-lettering stays
   * with the owner's own group. Default true.
   */
  readonly deadLetter?: boolean;
  /**
   * Called after an event that was read (valid, in the current shape) went to the dead-letter topic, with
   * the error that put it there: the owner answers its requester there (e.g. a failure event), since
   * nothing else will. A throw is retried with the handler's backoff, up to `maxAttempts`; the dead letter stands.
   */
  readonly onDeadLetter?: (event: ConsumedEvent<Topic>, failure: DeadLetterFailure) => Promise<void>;
};

export type DeadLetterFailure = { readonly reason: DeadLetterReason; readonly error: unknown; readonly attempts: number };

export type EventConsumer = {
  start(): Promise<void>;
  /** Stops fetching, lets the message in hand finish (and commit), leaves the group, disconnects. */
  stop(): Promise<void>;
  lag(): Promise<readonly LagRow[]>;
};

type Pending<Topic extends TopicContract> = { readonly event: ConsumedEvent<Topic>; readonly message: KafkaMessage };

export function createEventConsumer<Topic extends TopicContract>(
  client: KafkaClient,
  options: EventConsumerOptions<Topic>,
): EventConsumer {
  const { reader, handler, metrics } = options;
  const groupId = client.group(options.groupId);
  const logger = options.logger.child({ component: 'consumer', groupId });
  const maxAttempts = options.maxAttempts ?? 5;
  const backoff = options.backoff ?? { initialDelayMs: 200, maxDelayMs: 5_000 };
  const maxBatchSize = options.maxBatchSize ?? 200;
  const commitIntervalMs = options.commitIntervalMs ?? 1_000;
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const heartbeatInterval = options.heartbeatIntervalMs ?? 3_000;

  const consumer: Consumer = client.kafka.consumer({
    groupId,
    sessionTimeout,
    heartbeatInterval,
    rebalanceTimeout: options.rebalanceTimeoutMs ?? 60_000,
    maxWaitTimeInMs: options.maxWaitTimeMs ?? 500,
    allowAutoTopicCreation: false,
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
  const deadLetters: Producer = client.kafka.producer({
    allowAutoTopicCreation: false,
    idempotent: false,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  let admin: Admin | undefined;
  // The cluster's names: the contract names behind the client's prefix.
  const topicNames = reader.topicNames.map((name) => client.topic(name));
  let unregisterLag: (() => void) | undefined;

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    logger.info({ assignment: event.payload.memberAssignment }, 'joined consumer group');
    // Positions of partitions now owned by another member are theirs to commit.
    const assigned = event.payload.memberAssignment;
    for (const [key, entry] of uncommitted) {
      if (!assigned[entry.topic]?.includes(entry.partition)) uncommitted.delete(key);
    }
    options.onGroupJoin?.(event.payload.memberAssignment);
  });

  /**
   * Done-but-uncommitted positions, "topic|partition" -> next offset to read. A message is done when
   * its handler (and so its transaction) succeeded or it was dead-lettered; only done positions are
   * ever committed. Commits go out at most every commitIntervalMs, not per batch: an OffsetCommit is
   * a round trip through the group coordinator (about 10-20 ms on a Kafka 4 broker, whose coordinator
   * lingers to batch writes), and kafkajs fetches nothing while a batch's commit is awaited. A crash
   * redelivers at most that window, and the inbox drops what was already applied.
   */
  const uncommitted = new Map<string, { readonly topic: string; readonly partition: number; readonly offset: string }>();
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let stopping = false;

  type Committer = (entries: readonly { topic: string; partition: number; offset: string }[]) => Promise<void>;
  // Outside eachBatch kafkajs only commits through the consumer (a no-op once stopping); inside, the
  // batch payload commits even while the consumer is stopping.
  const commitThroughConsumer: Committer = (entries) => consumer.commitOffsets([...entries]);

  async function flushOffsets(commit: Committer): Promise<void> {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    const snapshot = [...uncommitted.entries()];
    if (snapshot.length === 0) return;
    await commit(snapshot.map(([, entry]) => entry));
    for (const [key, entry] of snapshot) if (uncommitted.get(key) === entry) uncommitted.delete(key);
  }

  function scheduleFlush(): void {
    if (flushTimer || commitIntervalMs === 0) return;
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      flushOffsets(commitThroughConsumer).catch((error: unknown) =>
        logger.debug({ error: describeError(error) }, 'offset commit deferred (rebalancing?)'),
      );
    }, commitIntervalMs);
  }

  function createProgress(payload: EachBatchPayload) {
    const { topic, partition } = payload.batch;
    const key = `${topic}|${partition}`;
    const commitInBatch: Committer = async (entries) => {
      const byTopic = new Map<string, { partition: number; offset: string }[]>();
      for (const entry of entries) byTopic.set(entry.topic, [...(byTopic.get(entry.topic) ?? []), entry]);
      await payload.commitOffsetsIfNecessary({
        topics: [...byTopic].map(([name, partitions]) => ({
          topic: name,
          partitions: partitions.map((entry) => ({ partition: entry.partition, offset: entry.offset })),
        })),
      });
    };
    return {
      async done(offset: string): Promise<void> {
        payload.resolveOffset(offset);
        uncommitted.set(key, { topic, partition, offset: (BigInt(offset) + 1n).toString() });
        scheduleFlush();
        // Throws when the group is rebalancing: the batch stops here and the rest is fetched again.
        await payload.heartbeat();
      },
      /** Commits now when required (stopping, no interval) or asked to (before a long backoff). */
      async commit(now = false): Promise<void> {
        if (now || stopping || commitIntervalMs === 0) await flushOffsets(commitInBatch);
      },
    };
  }
  type Progress = ReturnType<typeof createProgress>;

  async function deadLetter(
    payload: EachBatchPayload,
    message: KafkaMessage,
    failure: { reason: DeadLetterReason; error: string; attempts: number; type: string | undefined },
  ): Promise<void> {
    const { topic, partition } = payload.batch;
    if (options.deadLetter === false) {
      logger.warn({ topic, partition, offset: message.offset, reason: failure.reason, error: failure.error }, 'message skipped by an observer');
      return;
    }
    const record = deadLetterRecord(message, {
      topic,
      partition,
      groupId,
      reason: failure.reason,
      error: failure.error,
      attempts: failure.attempts,
      failedAt: new Date(),
    });
    await deadLetters.send({ topic: record.topic, messages: [record.message], acks: -1 });
    metrics?.deadLettered.inc({ topic, type: failure.type ?? 'unknown', group: groupId, reason: failure.reason });
    logger.warn(
      { topic, partition, offset: message.offset, reason: failure.reason, error: failure.error, attempts: failure.attempts },
      'message dead-lettered',
    );
  }

  function countOutcome(topic: string, type: string, outcome: unknown): void {
    const counted: HandleOutcome = outcome === 'duplicate' ? 'duplicate' : 'processed';
    metrics?.consumed.inc({ topic, type, group: groupId, outcome: counted });
  }

  /** Sleeps in heartbeat-sized steps, so a long backoff neither loses the group nor delays a stop. */
  async function pause(payload: EachBatchPayload, ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (!payload.isRunning() || payload.isStale()) return false;
      await sleep(Math.min(heartbeatInterval, until - Date.now()));
      await payload.heartbeat();
    }
    return payload.isRunning() && !payload.isStale();
  }

  /**
   * The owner's answer to a dead letter (its requester hears of the failure nowhere else) is retried like a
   * handler, with backoff and heartbeats; after `maxAttempts` it is logged as an error and the dead letter
   * stands. Returns false when the consumer stopped meanwhile: the message stays uncommitted.
   */
  async function answerDeadLetter(
    payload: EachBatchPayload,
    progress: Progress,
    item: Pending<Topic>,
    answer: NonNullable<EventConsumerOptions<Topic>['onDeadLetter']>,
    failure: DeadLetterFailure,
  ): Promise<boolean> {
    const { topic } = payload.batch;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await answer(item.event, failure);
        return true;
      } catch (hookError) {
        const context = { topic, offset: item.message.offset, attempt, eventId: item.event.metadata.id, error: describeError(hookError) };
        if (attempt >= maxAttempts) {
          logger.error(context, 'dead-letter handler failed; giving up, the requester is not answered');
          return true;
        }
        const delay = backoffDelay(attempt, backoff);
        logger.warn({ ...context, delay }, 'dead-letter handler failed; retrying');
        await progress.commit(true);
        if (!(await pause(payload, delay))) return false;
      }
    }
  }

  /** Returns false when the consumer stopped mid-retry: the message stays uncommitted. */
  async function processOne(payload: EachBatchPayload, progress: Progress, item: Pending<Topic>): Promise<boolean> {
    const { topic } = payload.batch;
    for (let attempt = 1; ; attempt += 1) {
      try {
        countOutcome(topic, item.event.type, await handler.handle(item.event));
        break;
      } catch (error) {
        const decision = decideAfterFailure(error, attempt, maxAttempts);
        if (decision.action === 'dead-letter') {
          await deadLetter(payload, item.message, {
            reason: decision.reason,
            error: describeError(error),
            attempts: attempt,
            type: item.event.type,
          });
          if (options.onDeadLetter && options.deadLetter !== false) {
            const answered = await answerDeadLetter(payload, progress, item, options.onDeadLetter, { reason: decision.reason, error, attempts: attempt });
            if (!answered) return false;
          }
          break;
        }
        metrics?.handlerRetries.inc({ topic, type: item.event.type, group: groupId });
        const delay = backoffDelay(attempt, backoff);
        const { metadata } = item.event;
        logger.warn(
          { topic, offset: item.message.offset, attempt, delay, error: describeError(error), eventId: metadata.id, correlationId: metadata.correlationId, traceId: metadata.traceparent?.split('-')[1] },
          'handler failed; retrying',
        );
        await progress.commit(true);
        if (!(await pause(payload, delay))) return false;
      }
    }
    await progress.done(item.message.offset);
    return true;
  }

  /** Returns false when the batch must stop (consumer stopping, partition revoked or sought). */
  async function processPending(payload: EachBatchPayload, progress: Progress, pending: readonly Pending<Topic>[]): Promise<boolean> {
    const last = pending.at(-1);
    if (!last) return true;
    if (handler.handleBatch) {
      try {
        const outcomes = await handler.handleBatch(pending.map((item) => item.event));
        const listed: readonly unknown[] = Array.isArray(outcomes) ? outcomes : [];
        pending.forEach((item, index) => countOutcome(payload.batch.topic, item.event.type, listed[index]));
        await progress.done(last.message.offset);
        await progress.commit();
        return true;
      } catch (error) {
        logger.warn({ error: describeError(error), size: pending.length }, 'batch failed; applying its events one by one');
      }
    }
    try {
      for (const item of pending) {
        if (!payload.isRunning() || payload.isStale()) return false;
        if (!(await processOne(payload, progress, item))) return false;
      }
      return true;
    } finally {
      await progress.commit();
    }
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const progress = createProgress(payload);
    let pending: Pending<Topic>[] = [];
    for (const message of batch.messages) {
      // On stop, what is already in hand finishes; nothing new starts.
      if (!payload.isRunning() || payload.isStale()) break;
      const decoded = reader.decode(client.contractTopic(batch.topic), {
        key: message.key?.toString() ?? null,
        value: message.value?.toString() ?? null,
        headers: headersFromKafka(message.headers),
      });
      if (!decoded.ok) {
        if (!(await processPending(payload, progress, pending))) return;
        pending = [];
        await deadLetter(payload, message, { reason: decoded.reason, error: decoded.detail, attempts: 0, type: decoded.type });
        await progress.done(message.offset);
        continue;
      }
      const position = { topic: client.contractTopic(batch.topic), partition: batch.partition, offset: message.offset, timestamp: message.timestamp };
      pending.push({ event: { ...decoded.event, position }, message });
      if (pending.length >= maxBatchSize) {
        if (!(await processPending(payload, progress, pending))) return;
        pending = [];
      }
    }
    try {
      if (!payload.isStale()) await processPending(payload, progress, pending);
    } finally {
      await progress.commit();
    }
  }

  return {
    async start() {
      stopping = false;
      admin = client.kafka.admin();
      await Promise.all([deadLetters.connect(), admin.connect(), consumer.connect()]);
      await consumer.subscribe({ topics: topicNames, fromBeginning: options.fromBeginning ?? true });
      const lagAdmin = admin;
      unregisterLag = metrics?.registerLagSource(() => fetchConsumerLag(lagAdmin, groupId, topicNames));
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
        eachBatch,
      });
    },
    async stop() {
      unregisterLag?.();
      stopping = true;
      await flushOffsets(commitThroughConsumer).catch((error: unknown) =>
        logger.warn({ error: describeError(error) }, 'could not commit offsets before stopping; they will be redelivered'),
      );
      // Waits for the batch in hand, which commits its own progress at its end (stopping is set).
      await consumer.stop();
      clearTimeout(flushTimer);
      await consumer.disconnect();
      await Promise.all([deadLetters.disconnect(), admin?.disconnect()]);
    },
    async lag() {
      if (!admin) throw new Error('consumer not started');
      return fetchConsumerLag(admin, groupId, topicNames);
    },
  };
}
