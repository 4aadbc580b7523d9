import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabasePool, connectionUrlForRole, createDatabasePool, serviceRoles } from '@postwire/db';
import { type TestDatabase, createTestDatabase, eventually } from '@postwire/testing';
import { DELIVERIES_CHANNEL, createDeliveryQueries } from '../src/db/delivery-queries.ts';
import { MAX_LOGGED_BODY, createWebhookSender } from '../src/webhooks/sender.ts';

describe('webhook fan-out queries', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  let pool: DatabasePool;
  const organisationId = randomUUID();

  beforeAll(async () => {
    database = await createTestDatabase('gateway_deliveries');
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    await admin.query(`INSERT INTO organisations (id, name) VALUES ($1, 'fan-out')`, [organisationId]);
    pool = await createDatabasePool(connectionUrlForRole(database.adminUrl, serviceRoles('gateway').worker));
  });

  afterAll(async () => {
    await pool?.end();
    await admin?.end();
    await database?.drop();
  });

  async function endpoint(eventTypes: string[]): Promise<string> {
    const { rows } = await admin.query<{ id: string }>(
      `INSERT INTO gateway.webhook_endpoints (organisation_id, url, event_types, secret, created_by, created_at)
       VALUES ($1, 'https://hooks.example.com/in', $2, 'ciphertext', $3, NOW() - interval '1 hour') RETURNING id`,
      [organisationId, eventTypes, randomUUID()],
    );
    return rows[0]?.id ?? '';
  }

  /** A session listening on the deliveries channel, and the channels of what it was told so far. */
  async function listening(): Promise<{ listener: pg.Client; notified: string[] }> {
    const listener = new pg.Client({ connectionString: database.adminUrl });
    await listener.connect();
    const notified: string[] = [];
    listener.on('notification', (message) => notified.push(message.channel));
    await listener.query(`LISTEN ${DELIVERIES_CHANNEL}`);
    return { listener, notified };
  }

  const event = (offset: number) => ({
    eventId: randomUUID(),
    organisationId,
    eventType: 'post.published',
    eventTime: new Date().toISOString(),
    payload: { type: 'post.published', data: { offset } },
    topic: 'postwire.post-events.v1',
    partition: 0,
    offset: String(offset),
  });

  it('queues one delivery per matching endpoint, claims up to the limit as it inserts them, and leaves the rest due for any worker', async () => {
    const wanted = [await endpoint([]), await endpoint(['post.*']), await endpoint(['post.published'])];
    await endpoint(['account.connected']);
    const events = [event(1), event(2)];
    const leaseMs = 60_000;

    const { queued, claimed } = await pool.transaction((connection) =>
      createDeliveryQueries(connection).fanOut('gateway-webhooks', events, { limit: 4, leaseMs }),
    );

    expect(queued).toBe(6);
    expect(claimed).toHaveLength(4);
    expect(claimed.every((delivery) => delivery.attempts === 1 && wanted.includes(delivery.endpoint_id) && delivery.secret === 'ciphertext')).toBe(true);
    const { rows } = await admin.query<{ id: string; attempts: number; leased: boolean; due: boolean }>(
      `SELECT id, attempts, next_attempt_at > NOW() + interval '50 seconds' AS leased, next_attempt_at <= NOW() AS due
         FROM gateway.webhook_deliveries WHERE event_id = ANY($1)`,
      [events.map((entry) => entry.eventId)],
    );
    const claimedIds = new Set(claimed.map((delivery) => delivery.id));
    expect(rows.filter((row) => claimedIds.has(row.id)).every((row) => row.attempts === 1 && row.leased)).toBe(true);
    const rest = rows.filter((row) => !claimedIds.has(row.id));
    expect(rest.map((row) => [row.attempts, row.due])).toEqual([
      [0, true],
      [0, true],
    ]);

    // The two left over are what a worker's claim finds; the claimed ones stay out of its reach.
    const due = await createDeliveryQueries(pool).claimDue(10, leaseMs);
    expect(due.map((delivery) => delivery.id).sort()).toEqual(rest.map((row) => row.id).sort());
    expect(due.every((delivery) => delivery.attempts === 1)).toBe(true);

    // The same events again (a redelivery from Kafka): the inbox drops them.
    const again = await pool.transaction((connection) => createDeliveryQueries(connection).fanOut('gateway-webhooks', events, { limit: 4, leaseMs }));
    expect(again).toEqual({ queued: 0, claimed: [] });
  });

  it('claims nothing at insert when the worker has no room, and tells listening workers at commit', async () => {
    await endpoint([]);
    const { listener, notified } = await listening();

    const { queued, claimed } = await pool.transaction(async (connection) => {
      const result = await createDeliveryQueries(connection).fanOut('gateway-webhooks', [event(3)], { limit: 0, leaseMs: 60_000 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(notified).toEqual([]); // not before the deliveries can be seen
      return result;
    });
    await eventually(() => (notified.length > 0 ? true : undefined), 'a notification');
    await listener.end();

    expect(queued).toBeGreaterThan(0);
    expect(claimed).toEqual([]);
    expect(notified).toEqual([DELIVERIES_CHANNEL]);
  });

  it('tells no one when it claimed every delivery it queued', async () => {
    const { listener, notified } = await listening();

    const { queued, claimed } = await pool.transaction((connection) =>
      createDeliveryQueries(connection).fanOut('gateway-webhooks', [event(4)], { limit: 1_000, leaseMs: 60_000 }),
    );
    // Notifications arrive in commit order: a marker sent after the fan-out committed shows nothing came before it.
    await listener.query(`LISTEN ${DELIVERIES_CHANNEL}_marker`);
    await admin.query(`SELECT pg_notify($1, 'marker')`, [`${DELIVERIES_CHANNEL}_marker`]);
    await eventually(() => (notified.length > 0 ? true : undefined), 'a notification');
    await listener.end();

    expect(claimed).toHaveLength(queued);
    expect(notified).toEqual([`${DELIVERIES_CHANNEL}_marker`]);
  });
});

describe('webhook sender', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      if (request.url === '/silent') return; // never answers
      request.on('end', () => response.writeHead(410).end('x'.repeat(5_000)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("answers with the endpoint's status and the start of its body", async () => {
    const sender = createWebhookSender({ timeoutMs: 5_000, allowPrivateTargets: true });
    const answer = await sender.send(`${base}/gone`, { 'content-type': 'application/json' }, '{}');
    sender.close();
    expect(answer.status).toBe(410);
    expect(answer.body).toHaveLength(MAX_LOGGED_BODY);
  });

  it('gives up on an endpoint that does not answer within the timeout', async () => {
    const sender = createWebhookSender({ timeoutMs: 200, allowPrivateTargets: true });
    const started = performance.now();
    await expect(sender.send(`${base}/silent`, { 'content-type': 'application/json' }, '{}')).rejects.toThrow('no answer within 200 ms');
    sender.close();
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
