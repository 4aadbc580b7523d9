import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startReceiver, uniqueName } from '@postwire/testing';
import { type Member, buildGateway, createMembers, testEnvironment } from './helpers.ts';

describe('webhook worker wake-up across instances', () => {
  let members: Awaited<ReturnType<typeof createMembers>>;
  let gateway: FastifyInstance;
  let admin: pg.Client;
  let alice: Member;
  const receivers: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    members = await createMembers();
    alice = await members.member();
    admin = new pg.Client({ connectionString: members.url.replace('gateway_app@', 'postgres@') });
    await admin.connect();
    ({ gateway } = await buildGateway(
      testEnvironment(members.url, {
        GATEWAY_WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        GATEWAY_WEBHOOK_CONSUMER_GROUP: uniqueName('gateway-webhooks'),
        // Far beyond the test's wait: only the notification can bring the delivery in time.
        GATEWAY_WEBHOOK_POLL_MS: '60000',
      }),
    ));
  }, 120_000);

  afterAll(async () => {
    await gateway?.close();
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await admin?.end();
    await members?.close();
  });

  it('sends a delivery another instance queued as soon as that instance notifies, not at its next poll', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const endpoint = (
      await gateway.inject({ method: 'POST', url: '/v1/webhooks/endpoints', headers: { authorization: alice.authorization }, payload: { url: receiver.url } })
    ).json<{ id: string }>();
    await eventually(async () => {
      const { rows } = await admin.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'gateway-webhook-listener' AND query ILIKE 'LISTEN%'`);
      return rows.length > 0 ? true : undefined;
    }, 'the worker to listen');

    // As another instance's fan-out leaves it: queued, unclaimed, then notified at commit.
    const eventId = randomUUID();
    await admin.query('BEGIN');
    await admin.query(
      `INSERT INTO gateway.webhook_deliveries (organisation_id, endpoint_id, event_id, event_type, event_time, payload)
       VALUES ($1, $2, $3, 'post.published', NOW(), $4)`,
      [alice.organisationId, endpoint.id, eventId, JSON.stringify({ type: 'post.published', timestamp: new Date().toISOString(), data: {} })],
    );
    await admin.query(`SELECT pg_notify('gateway_webhook_deliveries', '')`);
    await admin.query('COMMIT');

    await eventually(() => (receiver.received.length > 0 ? true : undefined), 'the delivery', { timeoutMs: 15_000 });
    expect(receiver.received.map((request) => request.headers['webhook-id'])).toEqual([eventId]);
  });
});
