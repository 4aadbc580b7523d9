import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';
import { type IncomingEvent, accountEvents, postEvents } from '@postwire/contracts';
import { type EventConsumer, describeError } from '@postwire/kafka';
import { createInstanceObservers } from '../plugins/instance-observers.ts';
import { publicPayload } from '../domain/live-events.ts';
import { type EventHub, type EventHubOptions, createEventHub } from './event-hub.ts';

declare module 'fastify' {
  interface FastifyInstance {
    liveEvents: {
      readonly hub: EventHub;
      /** Settles once this instance's consumers have joined (they start at the latest offsets). */
      readonly joined: Promise<void>;
    };
  }
}

export type LiveEventsOptions = EventHubOptions & {
  /** Names this instance's consumer groups (config GATEWAY_INSTANCE_ID). */
  readonly instanceId: string;
};

/**
 * Every gateway instance reads every post and account event (groups of its own, from the latest offsets)
 * into its event hub, which serves the instance's open `GET /v1/events` streams. The groups are named by
 * the instance and deleted on a clean close, as the answers consumers are.
 */
export const liveEventsPlugin = fp(
  async (fastify: FastifyInstance, options: LiveEventsOptions) => {
    const hub = createEventHub(options);
    const observers = createInstanceObservers(fastify, 'live event');
    new Gauge({
      name: 'postwire_live_event_streams',
      help: 'Open GET /v1/events streams on this instance.',
      registers: [fastify.metrics],
      collect() {
        this.set(hub.connections());
      },
    });

    const toHub = (event: IncomingEvent<typeof postEvents> | IncomingEvent<typeof accountEvents>) =>
      hub.publish(event.metadata.organisationId, { id: event.metadata.id, type: event.type, time: event.metadata.time, data: publicPayload(event.data) });
    const observed = [
      observers.observe(postEvents, `gateway-live-posts-${options.instanceId}`, toHub),
      observers.observe(accountEvents, `gateway-live-accounts-${options.instanceId}`, toHub),
    ];
    const consumers: EventConsumer[] = observed.map(({ consumer }) => consumer);
    const joined = Promise.all(observed.map((observer) => observer.joined)).then(() => undefined);
    let hasJoined = false;
    void joined.then(() => (hasJoined = true));
    // Not ready before the consumers joined: a stream opened earlier would miss events.
    fastify.readiness.register('live-events', async () => {
      if (!hasJoined) throw new Error('live event consumers have not joined their groups yet');
    });
    fastify.decorate('liveEvents', { hub, joined });
    // Started, not awaited: joining a group can take long on a busy cluster, and /readyz says when it has.
    fastify.addHook('onReady', async () => {
      for (const consumer of consumers) {
        consumer.start().catch((error: unknown) => fastify.log.error({ error: describeError(error) }, '%s consumer did not start', 'live event'));
      }
    });
    fastify.addHook('onClose', () => observers.close());
  },
  { name: '@postwire/gateway-live-events', dependencies: ['@postwire/kafka', '@postwire/metrics', '@postwire/health'] },
);
