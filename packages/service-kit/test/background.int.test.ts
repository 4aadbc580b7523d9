import { randomUUID } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { accountEvents, accountRequests } from '@postwire/contracts';
import { type DatabasePool, createDatabasePool } from '@postwire/db';
import type { ConsumedEvent } from '@postwire/kafka';
import { type InboxHandlers, createInboxHandler } from '@postwire/outbox';
import { type TestDatabase, createTestDatabase } from '@postwire/testing';
import { createTimedWorker, pruneOnce, workerMetrics } from '../src/index.ts';

type In = typeof accountRequests;
type Out = typeof accountEvents;

const logger = pino({ level: 'silent' });

describe('the background side of the kit: timed workers, the inbox handler, pruning', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  let pool: DatabasePool;
  let otherPool: DatabasePool;

  beforeAll(async () => {
    database = await createTestDatabase('kit_background');
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    pool = await createDatabasePool(database.urlFor('accounts', 'worker'), { applicationName: 'kit-test-1' });
    otherPool = await createDatabasePool(database.urlFor('accounts', 'worker'), { applicationName: 'kit-test-2' });
  });

  afterAll(async () => {
    await pool?.end();
    await otherPool?.end();
    await admin?.end();
    await database?.drop();
  });

  it('a timed worker on two instances runs one pass at a time: the other instance skips, and both are counted', async () => {
    const registry = new Registry();
    const metrics = workerMetrics(registry);
    let running = 0;
    let most = 0;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered: () => void = () => undefined;
    const inPass = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const pass = async () => {
      running += 1;
      most = Math.max(most, running);
      entered();
      await held;
      running -= 1;
      return { items: 3 };
    };
    const name = `test-${randomUUID()}`;
    // Two instances: separate pools (sessions), the same worker name.
    const first = createTimedWorker({ name, intervalMs: 0, pool, logger, metrics, pass });
    const second = createTimedWorker({ name, intervalMs: 0, pool: otherPool, logger, metrics, pass });
    const firstPass = first.runOnce();
    await inPass;
    expect(await second.runOnce()).toBe('skipped');
    release();
    expect(await firstPass).toEqual({ items: 3 });
    expect(most).toBe(1);
    // Released at the end of the pass: the other instance gets the next one.
    expect(await second.runOnce()).toEqual({ items: 3 });
    const passes = await registry.getSingleMetricAsString('postwire_worker_passes_total');
    expect(passes).toContain(`postwire_worker_passes_total{worker="${name}",outcome="completed"} 2`);
    expect(passes).toContain(`postwire_worker_passes_total{worker="${name}",outcome="skipped"} 1`);
    expect(await registry.getSingleMetricAsString('postwire_worker_items_total')).toContain(`{worker="${name}"} 6`);

    // Stopped: no new pass starts.
    await first.stop();
    expect(await first.runOnce()).toBe('stopped');
  });

  it('a failing pass is counted as an error and releases the pass lock', async () => {
    const registry = new Registry();
    const name = `test-${randomUUID()}`;
    const failing = createTimedWorker({ name, intervalMs: 0, pool, logger, metrics: workerMetrics(registry), pass: async () => Promise.reject(new Error('boom')) });
    await expect(failing.runOnce()).rejects.toThrow('boom');
    expect(await registry.getSingleMetricAsString('postwire_worker_errors_total')).toContain(`{worker="${name}"} 1`);
    const next = createTimedWorker({ name, intervalMs: 0, pool: otherPool, logger, pass: async () => ({ items: 0 }) });
    expect(await next.runOnce()).toEqual({ items: 0 });
  });

  function disconnectRequest(): ConsumedEvent<In> {
    const id = randomUUID();
    return {
      type: 'account.disconnect-requested',
      data: { socialAccountId: randomUUID(), mode: 'disconnect', revokeOnPlatform: false },
      metadata: {
        id,
        source: '/postwire/gateway',
        time: new Date().toISOString(),
        organisationId: randomUUID(),
        correlationId: `corr-${id}`,
        actorId: randomUUID(),
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
      position: { topic: accountRequests.name, partition: 0, offset: '7', timestamp: String(Date.now()) },
    };
  }

  it('inbox handler: a redelivered event is applied once, and what it emits carries the envelope of the event it handled', async () => {
    const applied: string[] = [];
    const handlers: InboxHandlers<In, Out> = {
      'account.authorized': async () => {
        throw new Error('not sent in this test');
      },
      'account.disconnect-requested': async (event, { apply }) => {
        await apply(async (_connection, emit) => {
          applied.push(event.metadata.id);
          await emit([
            {
              type: 'account.disconnected',
              data: { socialAccountId: event.data.socialAccountId, platform: 'facebook', reason: 'user-request', deleted: false, disconnectedAt: new Date().toISOString() },
            },
          ]);
        });
      },
    };
    const handler = createInboxHandler<In, Out>({
      pool,
      schema: 'accounts',
      consumer: `kit-test-${randomUUID()}`,
      emits: { topic: accountEvents, source: '/postwire/kit-test' },
      handlers,
      logger,
    });
    const event = disconnectRequest();
    expect(await handler.handle(event)).toBe('applied');
    expect(await handler.handle(event)).toBe('duplicate');
    // Two members racing past the look into the inbox: the insert decides, the step runs once.
    const [raceA, raceB] = await Promise.all([handler.handle(disconnectRequest()), handler.handle(event)]);
    expect([raceA, raceB]).toEqual(['applied', 'duplicate']);
    expect(applied.filter((id) => id === event.metadata.id)).toHaveLength(1);

    const rows = await admin.query<{ headers: Record<string, string> }>(`SELECT headers FROM accounts.outbox WHERE message_key = $1`, [event.data.socialAccountId]);
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]?.headers).toMatchObject({
      ce_type: 'account.disconnected',
      ce_source: '/postwire/kit-test',
      ce_organisationid: event.metadata.organisationId,
      ce_correlationid: event.metadata.correlationId,
      ce_causationid: event.metadata.id,
      ce_actorid: event.metadata.actorId,
      traceparent: event.metadata.traceparent,
    });
    const inbox = await admin.query(`SELECT event_type, topic, kafka_offset FROM accounts.inbox WHERE event_id = $1`, [event.metadata.id]);
    expect(inbox.rows).toEqual([{ event_type: 'account.disconnect-requested', topic: accountRequests.name, kafka_offset: '7' }]);
  });

  it('inbox handler: the handler map must name every event type of the topic', () => {
    // @ts-expect-error -- 'account.disconnect-requested' has no handler, so this does not compile.
    const missing: InboxHandlers<In, Out> = { 'account.authorized': async () => undefined };
    expect(Object.keys(missing)).toEqual(['account.authorized']);
    expectTypeOf<keyof InboxHandlers<In, Out>>().toEqualTypeOf<'account.authorized' | 'account.disconnect-requested'>();
  });

  it('pruning deletes the rows past their retention and keeps the rest', async () => {
    const consumer = `prune-test-${randomUUID()}`;
    const [old, recent] = [randomUUID(), randomUUID()];
    await admin.query(
      `INSERT INTO accounts.inbox (consumer, event_id, event_type, topic, kafka_partition, kafka_offset, processed_at)
       VALUES ($1, $2, 't', 'x', 0, 0, now() - interval '10 days'), ($1, $3, 't', 'x', 0, 1, now() - interval '1 hour')`,
      [consumer, old, recent],
    );
    const deleted = await pruneOnce(pool, { name: 'inbox', table: ['accounts', 'inbox'], column: 'processed_at', retentionMs: 8 * 24 * 3_600_000 }, 1);
    expect(deleted).toBeGreaterThanOrEqual(1);
    const left = await admin.query<{ event_id: string }>(`SELECT event_id FROM accounts.inbox WHERE consumer = $1`, [consumer]);
    expect(left.rows.map((row) => row.event_id)).toEqual([recent]);
  });
});
