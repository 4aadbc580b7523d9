import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type PublishingMetrics = {
  readonly dueUnclaimed: Gauge;
  readonly claimToPublish: Histogram<'platform'>;
  readonly scheduleToPublish: Histogram<'platform'>;
  readonly outcomes: Counter<'platform' | 'post_type' | 'outcome'>;
  readonly metaCalls: Counter<'method' | 'outcome'>;
  readonly quotaWaits: Counter<'platform'>;
  readonly claims: Counter;
  readonly steps: Histogram<'platform'>;
};

const LAG_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600];

/**
 * The publishing engine's metrics on the service's registry. The due-but-unclaimed gauge is read from the
 * database when scraped (`countDue`), so it is right whichever instance is scraped.
 */
export function createPublishingMetrics(registry: Registry, countDue: () => Promise<number>): PublishingMetrics {
  return {
    dueUnclaimed: new Gauge({
      name: 'postwire_publisher_due_unclaimed_posts',
      help: 'Posts whose time (or next look) has come that no publisher instance holds: a backlog the engines have not caught up with.',
      registers: [registry],
      async collect() {
        this.set(await countDue());
      },
    }),
    claimToPublish: new Histogram({
      name: 'postwire_publisher_claim_to_publish_seconds',
      help: 'From the first claim of a post to it being published (container processing, waits and retries included).',
      labelNames: ['platform'] as const,
      buckets: LAG_BUCKETS,
      registers: [registry],
    }),
    scheduleToPublish: new Histogram({
      name: 'postwire_publisher_schedule_to_publish_seconds',
      help: 'From the time a post was scheduled for to it being published.',
      labelNames: ['platform'] as const,
      buckets: LAG_BUCKETS,
      registers: [registry],
    }),
    outcomes: new Counter({
      name: 'postwire_publisher_outcomes_total',
      help: 'Publishing steps by outcome (published, failed, retrying, waiting, rate-limited, quota) per platform and post type.',
      labelNames: ['platform', 'post_type', 'outcome'] as const,
      registers: [registry],
    }),
    metaCalls: new Counter({
      name: 'postwire_publisher_meta_calls_total',
      help: 'Meta Graph API calls made by the publishing engine, by method and outcome (ok, client-error, server-error, network).',
      labelNames: ['method', 'outcome'] as const,
      registers: [registry],
    }),
    quotaWaits: new Counter({
      name: 'postwire_publisher_quota_waits_total',
      help: 'Times a post waited because its account had used its publishing quota (or its daily containers).',
      labelNames: ['platform'] as const,
      registers: [registry],
    }),
    claims: new Counter({ name: 'postwire_publisher_claims_total', help: 'Posts claimed by this instance (each claim runs one step).', registers: [registry] }),
    steps: new Histogram({
      name: 'postwire_publisher_step_seconds',
      help: 'How long one publishing step took (the Meta calls and the saves in it).',
      labelNames: ['platform'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}

/** A fetch that counts every Meta call by method and outcome. */
export function meteredFetch(metrics: PublishingMetrics, inner: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const method = init?.method ?? 'GET';
    try {
      const response = await inner(input, init);
      metrics.metaCalls.inc({ method, outcome: response.status < 400 ? 'ok' : response.status < 500 ? 'client-error' : 'server-error' });
      return response;
    } catch (error) {
      metrics.metaCalls.inc({ method, outcome: 'network' });
      throw error;
    }
  };
}
