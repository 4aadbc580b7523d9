import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type LagRow = {
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
};

export type KafkaMetrics = {
  readonly produced: Counter<'topic' | 'type'>;
  /** Messages per produce request the producer made, by topic (batches of concurrent callers' events). */
  readonly producedBatch: Histogram<'topic'>;
  readonly consumed: Counter<'topic' | 'type' | 'group' | 'outcome'>;
  readonly deadLettered: Counter<'topic' | 'type' | 'group' | 'reason'>;
  readonly handlerRetries: Counter<'topic' | 'type' | 'group'>;
  /** Consumers register how to read their lag; it is fetched from the broker at scrape time. */
  registerLagSource(source: () => Promise<readonly LagRow[]>): () => void;
};

/** Metrics live on the registry the service passes in (its /metrics endpoint), never a global one. */
export function createKafkaMetrics(registry: Registry): KafkaMetrics {
  const sources = new Set<() => Promise<readonly LagRow[]>>();
  const produced = new Counter({
    name: 'postwire_events_produced_total',
    help: 'Events acknowledged by all in-sync replicas, by topic and type.',
    labelNames: ['topic', 'type'] as const,
    registers: [registry],
  });
  const producedBatch = new Histogram({
    name: 'postwire_events_produced_batch_messages',
    help: 'Messages per produce request, by topic: concurrent callers\' events sent together.',
    labelNames: ['topic'] as const,
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers: [registry],
  });
  const consumed = new Counter({
    name: 'postwire_events_consumed_total',
    help: 'Events handled by a consumer group; outcome "duplicate" was already applied (inbox).',
    labelNames: ['topic', 'type', 'group', 'outcome'] as const,
    registers: [registry],
  });
  const deadLettered = new Counter({
    name: 'postwire_events_dead_lettered_total',
    help: 'Messages parked in a dead-letter topic, by reason.',
    labelNames: ['topic', 'type', 'group', 'reason'] as const,
    registers: [registry],
  });
  const handlerRetries = new Counter({
    name: 'postwire_event_handler_retries_total',
    help: 'Handler attempts that failed and were retried after a backoff.',
    labelNames: ['topic', 'type', 'group'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'postwire_consumer_lag_messages',
    help: 'Per partition: high watermark minus the group\'s committed offset.',
    labelNames: ['group', 'topic', 'partition'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const results = await Promise.allSettled([...sources].map((source) => source()));
      for (const result of results) {
        if (result.status !== 'fulfilled') continue;
        for (const row of result.value) {
          this.set({ group: row.groupId, topic: row.topic, partition: String(row.partition) }, row.lag);
        }
      }
    },
  });
  return {
    produced,
    producedBatch,
    consumed,
    deadLettered,
    handlerRetries,
    registerLagSource(source) {
      sources.add(source);
      return () => void sources.delete(source);
    },
  };
}
