import { randomUUID } from 'node:crypto';
import { ContractViolationError, createEventReader } from '@postwire/contracts';
import { type DatabasePool, type DatabaseTransactionConnection, createDatabasePool, sql } from '@postwire/db';
import {
  type KafkaClient,
  createEventConsumer,
  createEventProducer,
  createKafkaClient,
  createKafkaMetrics,
  provisionTopics,
  type EventProducer,
} from '@postwire/kafka';
import { type TestDatabase, createTestDatabase, uniqueName } from '@postwire/testing';
import { Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  type OutboxRelay,
  type OutboxRelayOptions,
  appendToOutbox,
  createIdempotentHandler,
  createOutboxMetrics,
  createOutboxRelay,
} from '../src/index.ts';
import {
  type TestTopic,
  createEffectsTable,
  deferred,
  logger,
  published,
  sequenceOf,
  testPostTopic,
  until,
} from './helpers.ts';

const brokers = inject('kafkaBrokers');
const target = { schema: 'publisher', source: '/postwire/publisher' };
let db: TestDatabase;
let admin: DatabasePool;
let pool: DatabasePool;
let client: KafkaClient;
let producer: EventProducer;
const relays: OutboxRelay[] = [];
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  db = await createTestDatabase('outbox');
  admin = await createDatabasePool(db.adminUrl);
  pool = await createDatabasePool(db.urlFor('publisher', 'worker'), { maximumPoolSize: 6 });
  await createEffectsTable(admin);
  client = createKafkaClient({ brokers, clientId: 'outbox-int-test', logger });
  producer = createEventProducer(client, { source: target.source });
  await producer.connect();
});

beforeEach(async () => {
  await admin.query(sql.unsafe`TRUNCATE publisher.outbox, publisher.inbox, publisher.test_effects`);
});

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  await Promise.all(relays.splice(0).map((relay) => relay.stop().catch(() => undefined)));
});

afterAll(async () => {
  await producer.disconnect();
  await pool.end();
  await admin.end();
  await db.drop();
});

/** The topics "this service" produces in these tests: every one a test prepared. */
const producedTopics: string[] = [];

async function prepareTopic(partitions = 1): Promise<TestTopic> {
  const topic = testPostTopic();
  await provisionTopics(client, { topics: [topic.name], partitions });
  producedTopics.push(topic.name);
  return topic;
}

function startRelay(overrides: Partial<OutboxRelayOptions> = {}): OutboxRelay {
  const relay = createOutboxRelay({
    pool,
    sessionUrl: db.urlFor('publisher', 'worker'),
    schema: 'publisher',
    topics: producedTopics,
    producer,
    logger,
    pollIntervalMs: 60_000,
    leaderRetryMs: 200,
    ...overrides,
  });
  relays.push(relay);
  void relay.start();
  return relay;
}

const OutboxState = z.object({ event_id: z.string(), sent: z.boolean() });
async function outboxRows() {
  return admin.any(sql.type(OutboxState)`SELECT event_id, sent_at IS NOT NULL AS sent FROM publisher.outbox ORDER BY position`);
}

/** True when the outbox has rows and all of them are marked sent (an empty outbox is not "all sent"). */
async function allSent(): Promise<boolean> {
  const rows = await outboxRows();
  return rows.length > 0 && rows.every((row) => row.sent);
}

const Effect = z.object({ event_id: z.string(), account_id: z.string(), sequence: z.number(), member: z.string() });
async function effects() {
  return admin.any(sql.type(Effect)`SELECT event_id, account_id, sequence, member FROM publisher.test_effects ORDER BY applied_order`);
}

/** Reads every message of a topic with a throwaway group: at least `expected`, and up to the topic's end. */
async function readTopic(topic: string, expected: number): Promise<KafkaMessage[]> {
  const kafka = new Kafka({ brokers, clientId: 'outbox-test-reader', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  const topicAdmin = kafka.admin();
  const messages: KafkaMessage[] = [];
  const readUpTo = new Map<number, number>();
  await Promise.all([consumer.connect(), topicAdmin.connect()]);
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      readUpTo.set(partition, Number(message.offset) + 1);
      messages.push(message);
    },
  });
  try {
    await until(() => messages.length >= expected, 20_000, `${expected} messages on ${topic}`);
    // Anything written beyond `expected` is on the topic by now: read up to its end before answering.
    const ends = await topicAdmin.fetchTopicOffsets(topic);
    await until(() => ends.every(({ partition, high }) => (readUpTo.get(partition) ?? 0) >= Number(high)), 20_000, `the end of ${topic}`);
  } finally {
    await Promise.all([consumer.disconnect(), topicAdmin.disconnect()]);
  }
  return messages;
}

/** True once every relay session has asked for the leader lock and exactly one holds it. */
async function relaysSettled(relays: number): Promise<boolean> {
  const Session = z.object({ last_query: z.string(), holds_lock: z.boolean() });
  const sessions = await admin.any(sql.type(Session)`
    SELECT a.query AS last_query,
           EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted) AS holds_lock
      FROM pg_stat_activity a
     WHERE a.datname = ${db.name} AND a.application_name = 'outbox-relay:publisher' AND a.state = 'idle'
  `);
  return (
    sessions.length === relays &&
    sessions.every((session) => session.last_query.includes('pg_try_advisory_lock')) &&
    sessions.filter((session) => session.holds_lock).length === 1
  );
}

describe('appendToOutbox', () => {
  it('writes no event when the state change rolls back, and both when it commits', async () => {
    const topic = await prepareTopic();
    const accountId = randomUUID();
    const change = (connection: DatabaseTransactionConnection, sequence: number) =>
      connection.query(sql.unsafe`
        INSERT INTO publisher.test_effects (event_id, account_id, sequence, member)
        VALUES (${randomUUID()}, ${accountId}, ${sequence}, 'writer')
      `);

    await expect(
      pool.transaction(async (connection) => {
        await change(connection, 1);
        await appendToOutbox(connection, target, topic, [published(accountId, 1)]);
        throw new Error('the post turned out to be deleted');
      }),
    ).rejects.toThrow('deleted');
    expect(await outboxRows()).toEqual([]);
    expect(await effects()).toEqual([]);

    const [written] = await pool.transaction(async (connection) => {
      await change(connection, 2);
      return appendToOutbox(connection, target, topic, [published(accountId, 2)]);
    });
    expect(await outboxRows()).toEqual([{ event_id: written?.id, sent: false }]);
    expect(await effects()).toHaveLength(1);
  });

  it('refuses an event that breaks its contract, so the transaction writes nothing', async () => {
    const topic = await prepareTopic();
    const accountId = randomUUID();
    const invalid = published(accountId, 1);
    await expect(
      pool.transaction(async (connection) => {
        await connection.query(sql.unsafe`
          INSERT INTO publisher.test_effects (event_id, account_id, sequence, member) VALUES (${randomUUID()}, ${accountId}, 1, 'writer')
        `);
        await appendToOutbox(connection, target, topic, [{ ...invalid, data: { ...invalid.data, mediaCount: 11 } }]);
      }),
    ).rejects.toBeInstanceOf(ContractViolationError);
    expect(await outboxRows()).toEqual([]);
    expect(await effects()).toEqual([]);
  });
});

describe('outbox relay', () => {
  it('publishes committed events in order per key, marks them sent, and is woken by NOTIFY rather than polling', async () => {
    const topic = await prepareTopic(3);
    const relay = startRelay({ pollIntervalMs: 60_000 });
    await until(() => relay.isLeader(), 10_000, 'leadership');
    // One event on another topic: once it is marked sent, the relay has found nothing more and sleeps
    // on the 60 s poll, so what follows can only reach Kafka in time through NOTIFY.
    const warmUp = await prepareTopic();
    await pool.transaction((connection) => appendToOutbox(connection, target, warmUp, [published(randomUUID(), 0)]));
    await until(allSent, 10_000, 'the warm-up event to be marked sent');

    const accounts = [randomUUID(), randomUUID(), randomUUID()];
    const started = Date.now();
    for (let sequence = 1; sequence <= 5; sequence += 1) {
      await pool.transaction((connection) =>
        appendToOutbox(connection, target, topic, accounts.map((account) => published(account, sequence))),
      );
    }
    const messages = await readTopic(topic.name, 15);
    expect(Date.now() - started).toBeLessThan(10_000);

    expect(messages).toHaveLength(15);
    for (const account of accounts) {
      const sequences = messages
        .filter((message) => message.key?.toString() === account)
        .map((message) => sequenceOf(JSON.parse(String(message.value)).platformPostId));
      expect(sequences).toEqual([1, 2, 3, 4, 5]);
    }
    await until(allSent, 5_000, 'rows marked sent');
  });

  it('a relay killed between publishing and marking sends a duplicate, and the inbox applies the event once', async () => {
    const topic = await prepareTopic();
    const accountId = randomUUID();
    const groupId = uniqueName('analytics');
    const registry = new Registry();
    const kafkaMetrics = createKafkaMetrics(registry);
    const handled: string[] = [];
    const consumer = createEventConsumer(client, {
      groupId,
      reader: createEventReader(topic),
      logger,
      metrics: kafkaMetrics,
      maxWaitTimeMs: 100,
      handler: createIdempotentHandler<TestTopic>(pool, { schema: 'publisher', consumer: groupId }, async (event, connection) => {
        handled.push(event.metadata.id);
        if (event.type !== 'post.published') return;
        await connection.query(sql.unsafe`
          INSERT INTO publisher.test_effects (event_id, account_id, sequence, member)
          VALUES (${event.metadata.id}, ${event.data.socialAccountId}, ${sequenceOf(event.data.platformPostId)}, 'consumer')
        `);
      }),
    });
    stops.push(() => consumer.stop());
    await consumer.start();

    const publishedOnce = deferred();
    const killed = deferred();
    const doomed = startRelay({
      afterPublish: async () => {
        publishedOnce.resolve();
        // The process "dies" here: Kafka has the events, the rows are still unsent.
        await killed.promise;
        throw new Error('process killed');
      },
    });
    await until(() => doomed.isLeader(), 10_000, 'leadership');
    const written = await pool.transaction((connection) =>
      appendToOutbox(connection, target, topic, [1, 2, 3].map((sequence) => published(accountId, sequence))),
    );
    await publishedOnce.promise;
    await admin.query(sql.unsafe`
      SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = ${db.name} AND application_name = 'outbox-relay:publisher'
    `);
    await until(() => !doomed.isLeader(), 10_000, 'the killed relay to lose its lock');
    expect((await outboxRows()).map((row) => row.sent)).toEqual([false, false, false]);

    const successor = startRelay();
    await until(allSent, 20_000, 'successor to mark rows sent');
    killed.resolve();

    const onTopic = await readTopic(topic.name, 6);
    expect(onTopic.map((message) => message.headers?.ce_id?.toString())).toEqual(
      [...written, ...written].map((event) => event.id),
    );
    await until(() => handled.length === 3 && successor.isLeader(), 20_000, 'handler');
    await until(async () => {
      const lag = await consumer.lag();
      return lag.length > 0 && lag.every((row) => row.lag === 0);
    }, 20_000, 'all six consumed');
    const applied = await effects();
    expect(applied.map((effect) => effect.sequence)).toEqual([1, 2, 3]);
    expect(applied.map((effect) => effect.event_id)).toEqual(written.map((event) => event.id));
    const exposition = await registry.metrics();
    expect(exposition).toMatch(/postwire_events_consumed_total\{[^}]*outcome="duplicate"\} 3/);
  });

  it('lets one of several relay instances publish; another takes over when its session dies', async () => {
    const topic = await prepareTopic();
    const accountId = randomUUID();
    const first = startRelay();
    const second = startRelay();
    await until(() => first.isLeader() || second.isLeader(), 10_000, 'a leader');
    await until(() => relaysSettled(2), 10_000, 'both relays to have asked for the leader lock');
    expect([first.isLeader(), second.isLeader()].filter(Boolean)).toHaveLength(1);
    const [leader, follower] = first.isLeader() ? [first, second] : [second, first];

    await pool.transaction((connection) => appendToOutbox(connection, target, topic, [published(accountId, 1)]));
    await until(allSent, 10_000, 'first event sent');

    const LeaderPid = z.object({ pid: z.number() });
    const sessions = await admin.any(sql.type(LeaderPid)`
      SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND l.granted AND a.datname = ${db.name}
         AND a.application_name = 'outbox-relay:publisher'
    `);
    expect(sessions).toHaveLength(1);
    await admin.query(sql.unsafe`SELECT pg_terminate_backend(${sessions[0]?.pid ?? 0})`);
    await until(() => follower.isLeader(), 10_000, 'the follower to take over');
    expect(leader.isLeader()).toBe(false);

    await pool.transaction((connection) => appendToOutbox(connection, target, topic, [published(accountId, 2)]));
    const messages = await readTopic(topic.name, 2);
    expect(messages.map((message) => sequenceOf(JSON.parse(String(message.value)).platformPostId))).toEqual([1, 2]);
  });

  it('reports its backlog (unsent rows, age of the oldest) and deletes sent rows past retention', async () => {
    const topic = await prepareTopic();
    const registry = new Registry();
    const metrics = createOutboxMetrics(registry);
    // Someone else holds the leader lock, so this relay only watches the backlog grow.
    const blocker = await createDatabasePool(db.urlFor('publisher', 'worker'), { maximumPoolSize: 1 });
    const releaseLock = deferred();
    const locked = deferred();
    const holding = blocker.connect(async (connection) => {
      await connection.query(sql.unsafe`SELECT pg_advisory_lock(hashtext('postwire:outbox-relay:publisher'))`);
      locked.resolve();
      await releaseLock.promise;
      await connection.query(sql.unsafe`SELECT pg_advisory_unlock(hashtext('postwire:outbox-relay:publisher'))`);
    });
    stops.push(async () => {
      releaseLock.resolve();
      await holding;
      await blocker.end();
    });
    await locked.promise;
    const relay = startRelay({ metrics, sentRetentionMs: 0, cleanupIntervalMs: 50 });
    const accountId = randomUUID();
    await pool.transaction((connection) =>
      appendToOutbox(connection, target, topic, [1, 2, 3].map((sequence) => published(accountId, sequence))),
    );
    const oldestAge = (exposition: string) =>
      Number(/postwire_outbox_oldest_unsent_age_seconds\{schema="publisher"\} ([\d.]+)/.exec(exposition)?.[1]);
    // The age is read from the database at scrape time: it passes one second while the rows wait.
    await until(async () => oldestAge(await registry.metrics()) >= 1, 10_000, 'the oldest unsent event to be a second old');
    const waiting = await registry.metrics();
    expect(waiting).toContain('postwire_outbox_unsent_events{schema="publisher"} 3');
    expect(oldestAge(waiting)).toBeGreaterThanOrEqual(1);
    expect(relay.isLeader()).toBe(false);

    releaseLock.resolve();
    await until(() => relay.isLeader(), 10_000, 'leadership');
    await readTopic(topic.name, 3);
    await until(async () => (await outboxRows()).length === 0, 10_000, 'sent rows cleaned up');
    // A scrape reuses a backlog snapshot for up to a second: wait for one taken after the clean-up.
    await until(async () => (await registry.metrics()).includes('postwire_outbox_unsent_events{schema="publisher"} 0'), 10_000, 'a drained backlog');
    const drained = await registry.metrics();
    expect(drained).toContain('postwire_outbox_unsent_events{schema="publisher"} 0');
    expect(drained).toContain('postwire_outbox_oldest_unsent_age_seconds{schema="publisher"} 0');
    expect(drained).toContain('postwire_outbox_relayed_total{schema="publisher"} 3');
  });

  it('publishes only to the topics its service produces: a row naming another topic never reaches it', async () => {
    const own = await prepareTopic();
    // Another service's topic, which exists on the cluster but is not this relay's to speak on.
    const foreign = testPostTopic();
    await provisionTopics(client, { topics: [foreign.name], partitions: 1 });
    const accountId = randomUUID();
    await pool.transaction((connection) => appendToOutbox(connection, target, foreign, [published(accountId, 1)]));
    await pool.transaction((connection) => appendToOutbox(connection, target, own, [published(accountId, 2)]));
    startRelay();

    const messages = await readTopic(own.name, 1);
    expect(messages.map((message) => sequenceOf(JSON.parse(String(message.value)).platformPostId))).toEqual([2]);
    await until(async () => (await outboxRows()).every((row) => row.sent), 10_000, 'both rows handled');
    const kafkaAdmin = client.kafka.admin();
    await kafkaAdmin.connect();
    try {
      const offsets = await kafkaAdmin.fetchTopicOffsets(foreign.name);
      expect(offsets.map((offset) => offset.high)).toEqual(['0']);
    } finally {
      await kafkaAdmin.disconnect();
    }
  });
});
