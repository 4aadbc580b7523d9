import { randomUUID } from 'node:crypto';
import { createEventReader } from '@postwire/contracts';
import { type DatabasePool, createDatabasePool, sql } from '@postwire/db';
import {
  type EventConsumer,
  type KafkaClient,
  createEventConsumer,
  createEventProducer,
  createKafkaClient,
  provisionTopics,
} from '@postwire/kafka';
import { type TestDatabase, createTestDatabase, uniqueName } from '@postwire/testing';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createIdempotentHandler } from '../src/index.ts';
import { type TestTopic, createEffectsTable, deferred, logger, published, sequenceOf, testPostTopic, until } from './helpers.ts';

const brokers = inject('kafkaBrokers');
let db: TestDatabase;
let admin: DatabasePool;
let pool: DatabasePool;
let client: KafkaClient;
const running = new Set<EventConsumer>();

beforeAll(async () => {
  db = await createTestDatabase('ordering');
  admin = await createDatabasePool(db.adminUrl);
  pool = await createDatabasePool(db.urlFor('publisher', 'worker'), { maximumPoolSize: 8 });
  await createEffectsTable(admin);
  client = createKafkaClient({ brokers, clientId: 'ordering-int-test', logger });
});

afterAll(async () => {
  await Promise.all([...running].map((consumer) => consumer.stop().catch(() => undefined)));
  await pool.end();
  await admin.end();
  await db.drop();
});

const Effect = z.object({ account_id: z.string(), sequence: z.number(), member: z.string() });

describe('per-key order with an idempotent consumer', () => {
  it('holds across a rebalance that happens while a handler runs, and across a consumer restart; each event is applied once', async () => {
    const topic: TestTopic = testPostTopic();
    await provisionTopics(client, { topics: [topic.name], partitions: 4 });
    const accounts = Array.from({ length: 8 }, () => randomUUID());
    const perAccount = 100;
    const producer = createEventProducer(client, { source: '/postwire/publisher' });
    await producer.connect();
    for (let sequence = 1; sequence <= perAccount; sequence += 1) {
      await producer.publish(topic, accounts.map((account) => published(account, sequence)));
    }
    await producer.disconnect();
    const total = accounts.length * perAccount;

    const groupId = uniqueName('ordering');
    let invocations = 0;
    let appliedSoFar = 0;
    let stallNext = false;
    const stalled = deferred();
    const resume = deferred();
    const joins: { member: string; partitions: number }[] = [];

    const member = (name: string) => {
      const consumer = createEventConsumer(client, {
        groupId,
        reader: createEventReader(topic),
        logger,
        maxWaitTimeMs: 100,
        maxBatchSize: 10,
        heartbeatIntervalMs: 300,
        sessionTimeoutMs: 10_000,
        onGroupJoin: (assignment) =>
          joins.push({ member: name, partitions: Object.values(assignment).reduce((sum, list) => sum + list.length, 0) }),
        handler: createIdempotentHandler<TestTopic>(pool, { schema: 'publisher', consumer: groupId }, async (event, connection) => {
          invocations += 1;
          if (event.type !== 'post.published') return;
          if (stallNext) {
            // The handler is mid-flight (inside its transaction) when the group rebalances.
            stallNext = false;
            stalled.resolve();
            await resume.promise;
          }
          await connection.query(sql.unsafe`
            INSERT INTO publisher.test_effects (event_id, account_id, sequence, member)
            VALUES (${event.metadata.id}, ${event.data.socialAccountId}, ${sequenceOf(event.data.platformPostId)}, ${name})
          `);
          appliedSoFar += 1;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }),
      });
      running.add(consumer);
      return consumer;
    };

    const first = member('first');
    await first.start();
    await until(() => appliedSoFar >= 40, 30_000, 'first member to make progress');

    stallNext = true;
    await stalled.promise;
    const second = member('second');
    const joining = second.start();
    // The coordinator now waits for `first` to rejoin, which it can only do after this handler.
    const groupAdmin = client.kafka.admin();
    await groupAdmin.connect();
    try {
      await until(
        async () => (await groupAdmin.describeGroups([groupId])).groups[0]?.state === 'PreparingRebalance',
        30_000,
        'the group to start rebalancing',
      );
    } finally {
      await groupAdmin.disconnect();
    }
    resume.resolve();
    await joining;
    await until(() => joins.some((join) => join.member === 'second' && join.partitions > 0), 30_000, 'second member assigned');

    await until(() => appliedSoFar >= total / 3, 60_000, 'a third of the events');
    expect(appliedSoFar).toBeLessThan(total);
    await first.stop();
    running.delete(first);
    const restarted = member('restarted');
    await restarted.start();

    await until(
      async () => (await admin.oneFirst(sql.type(z.object({ count: z.number() }))`SELECT count(*)::int AS count FROM publisher.test_effects`)) >= total,
      60_000,
      'every event applied',
    );
    await until(async () => {
      const lag = await restarted.lag();
      return lag.length > 0 && lag.every((row) => row.lag === 0);
    }, 30_000, 'offsets committed');

    const applied = await admin.any(sql.type(Effect)`
      SELECT account_id, sequence, member FROM publisher.test_effects ORDER BY applied_order
    `);
    expect(applied).toHaveLength(total);
    for (const account of accounts) {
      const sequences = applied.filter((row) => row.account_id === account).map((row) => row.sequence);
      expect(sequences).toEqual(Array.from({ length: perAccount }, (_, index) => index + 1));
    }
    expect(new Set(applied.map((row) => row.member))).toEqual(new Set(['first', 'second', 'restarted']));
    expect(joins.filter((join) => join.member === 'first').length).toBeGreaterThanOrEqual(2);
    // Redeliveries happen (uncommitted work after the rebalance); the inbox kept them from applying twice.
    expect(invocations).toBeGreaterThanOrEqual(total);
  });
});
