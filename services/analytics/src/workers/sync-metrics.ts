import { Counter, Gauge, type Registry } from 'prom-client';

export type SyncMetrics = {
  readonly due: Gauge;
  readonly syncs: Counter<'kind' | 'outcome'>;
  readonly metaCalls: Counter<'operation' | 'outcome'>;
  readonly usage: Gauge<'header'>;
  readonly usagePeak: Gauge<'header'>;
  readonly limitWait: Counter<'reason'>;
  readonly pauses: Counter<'scope'>;
  readonly refreshRequests: Counter<'outcome'>;
};

/** The sync's Prometheus metrics; `countDue` feeds the due gauge at scrape time. */
export function createSyncMetrics(registry: Registry, countDue: () => Promise<number>): SyncMetrics {
  return {
    due: new Gauge({
      name: 'postwire_analytics_syncs_due',
      help: 'Insight syncs whose time has come and that are not finished (waiting accounts included).',
      registers: [registry],
      async collect() {
        this.set(await countDue());
      },
    }),
    syncs: new Counter({
      name: 'postwire_analytics_syncs_total',
      help:
        'Insight sync attempts by kind (scheduled, on-demand) and outcome: done (snapshot stored), unavailable (Meta has no data to give: ' +
        'story expired or under 5 viewers, lag past the next sync), failed (retries exhausted), stopped (refused for good), retried, ' +
        'not-yet (data lag, read again later), rate-limited, account-blocked (token refused), lost (lease taken over).',
      labelNames: ['kind', 'outcome'] as const,
      registers: [registry],
    }),
    metaCalls: new Counter({
      name: 'postwire_analytics_meta_calls_total',
      help: 'Graph API calls made by the insight syncs, by operation and outcome (ok or the error class).',
      labelNames: ['operation', 'outcome'] as const,
      registers: [registry],
    }),
    usage: new Gauge({
      name: 'postwire_analytics_meta_usage_percent',
      help: 'The latest usage Meta reported, by header (app: X-App-Usage, business: X-Business-Use-Case-Usage), highest figure in it.',
      labelNames: ['header'] as const,
      registers: [registry],
    }),
    usagePeak: new Gauge({
      name: 'postwire_analytics_meta_usage_peak_percent',
      help: 'The highest usage Meta reported since the process started, by header.',
      labelNames: ['header'] as const,
      registers: [registry],
    }),
    limitWait: new Counter({
      name: 'postwire_analytics_limit_wait_seconds_total',
      help: 'Time calls waited before going out: slow-down (usage headers rising) or spacing (the per-instance call rate).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    pauses: new Counter({
      name: 'postwire_analytics_rate_limit_pauses_total',
      help: 'Pauses imposed by a rate-limit error or a spent budget, by scope (app or account).',
      labelNames: ['scope'] as const,
      registers: [registry],
    }),
    refreshRequests: new Counter({
      name: 'postwire_analytics_refresh_requests_total',
      help: 'On-demand refresh requests by outcome: scheduled, rate-limited (inside the cooldown), unknown-post.',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
}
