import Fastify from 'fastify';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, inject, it } from 'vitest';
import { defineEvent, defineTopic } from '@postwire/contracts';
import { testTopic, uniqueName } from '@postwire/testing';
import { z } from 'zod';
import { kafkaPlugin, serviceKit } from '../src/index.ts';

describe('kafka plugin', () => {
  it('provisions the topics a service produces, reports the broker in /readyz and produces acknowledged events', async () => {
    const topicName = `${uniqueName('kit')}.v1`;
    const topic = defineTopic({
      name: topicName,
      id: 'kitTestV1',
      title: 'Kit test',
      description: 'A topic for this test only.',
      kind: 'fact',
      producer: 'kit',
      consumers: [],
      events: [defineEvent({ type: 'kit.pinged', summary: 'A ping.', data: z.object({ socialAccountId: z.uuid() }) })],
    });
    const app = Fastify();
    await app.register(serviceKit, { service: 'kit' });
    await app.register(kafkaPlugin, { service: 'kit', brokers: inject('kafkaBrokers'), produces: [topic], partitions: 2, topicPrefix: inject('kafkaTopicPrefix') });
    await app.ready();

    const admin = new Kafka({ brokers: inject('kafkaBrokers'), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    // Provisioned under this run's prefix, with its dead-letter topic; the contract's own name is not created.
    const metadata = await admin.fetchTopicMetadata({ topics: [testTopic(topicName), testTopic(`${topicName}.dlq`)] });
    expect(metadata.topics.map((entry) => entry.partitions.length)).toEqual([2, 2]);
    expect(await admin.listTopics()).not.toContain(topicName);
    await admin.disconnect();

    const ready = await app.inject('/readyz');
    expect(ready.json()).toEqual({ status: 'ready', checks: { kafka: 'ok' } });

    const socialAccountId = '3f0c2a4e-8c1d-4b7a-9e2f-1a2b3c4d5e6f';
    const [sent] = await app.kafka.producer.publish(topic, [
      { type: 'kit.pinged', data: { socialAccountId }, metadata: { organisationId: '00000000-0000-4000-8000-000000000001' } },
    ]);
    expect(sent?.message.key).toBe(socialAccountId);
    expect((await app.inject('/metrics')).body).toMatch(/postwire_events_produced_total\{[^}]*type="kit.pinged"[^}]*\} 1/);
    await app.close();
  });
});
