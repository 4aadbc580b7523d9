import { Counter, Gauge, type Registry } from 'prom-client';

export type OutboxBacklog = { readonly unsent: number; readonly oldestAgeSeconds: number };

export type OutboxMetrics = {
  readonly relayed: Counter<'schema'>;
  readonly relayBatches: Counter<'schema' | 'outcome'>;
  /** Relays register how to read their backlog; it is queried at scrape time. */
  registerBacklogSource(schema: string, source: () => Promise<OutboxBacklog>): () => void;
};

export function createOutboxMetrics(registry: Registry): OutboxMetrics {
  const sources = new Map<string, () => Promise<OutboxBacklog>>();
  // Both gauges read one snapshot per scrape instead of querying twice.
  let snapshot: { at: number; rows: Promise<[string, OutboxBacklog | undefined][]> } | undefined;
  const read = () => {
    if (!snapshot || Date.now() - snapshot.at > 1_000) {
      snapshot = {
        at: Date.now(),
        rows: Promise.all(
          [...sources].map(async ([schema, source]): Promise<[string, OutboxBacklog | undefined]> => [
            schema,
            await source().catch(() => undefined),
          ]),
        ),
      };
    }
    return snapshot.rows;
  };
  new Gauge({
    name: 'postwire_outbox_unsent_events',
    help: 'Outbox rows not yet acknowledged by Kafka.',
    labelNames: ['schema'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [schema, backlog] of await read()) if (backlog) this.set({ schema }, backlog.unsent);
    },
  });
  new Gauge({
    name: 'postwire_outbox_oldest_unsent_age_seconds',
    help: 'Age of the oldest unsent outbox row (relay lag); 0 when the outbox is drained.',
    labelNames: ['schema'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [schema, backlog] of await read()) if (backlog) this.set({ schema }, backlog.oldestAgeSeconds);
    },
  });
  return {
    relayed: new Counter({
      name: 'postwire_outbox_relayed_total',
      help: 'Outbox rows published to Kafka and marked sent.',
      labelNames: ['schema'] as const,
      registers: [registry],
    }),
    relayBatches: new Counter({
      name: 'postwire_outbox_relay_batches_total',
      help: 'Relay publish cycles, by outcome.',
      labelNames: ['schema', 'outcome'] as const,
      registers: [registry],
    }),
    registerBacklogSource(schema, source) {
      sources.set(schema, source);
      return () => void sources.delete(schema);
    },
  };
}
