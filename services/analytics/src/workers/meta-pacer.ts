import { setTimeout as sleep } from 'node:timers/promises';
import { type UsageSnapshot, adviseUsage, highestUsagePercent } from '@postwire/graph';
import { nextCallSlot } from '../domain/pacing.ts';
import type { SyncMetrics } from './sync-metrics.ts';
import type { SyncSettings } from './sync-config.ts';

export type MetaPacer = ReturnType<typeof createMetaPacer>;

/**
 * One instance's pace towards Meta: it remembers the latest usage headers (the app's and each business object's),
 * spaces calls to the configured rate, and slows down as usage rises (packages/graph's advice). Waits are real
 * time: they are short by construction (at most the slow-down ceiling); pauses that last minutes (a spent budget)
 * are kept in the database on the service clock instead, and the syncs simply are not claimed meanwhile.
 */
export function createMetaPacer(settings: SyncSettings, metrics: SyncMetrics) {
  let app: UsageSnapshot['app'];
  const business = new Map<string, UsageSnapshot['business'][string]>();
  // The start time reserved by the latest call: concurrent lanes queue behind each other, one slot per 1/rate s.
  let lastSlot = 0;

  const peaks = { app: 0, business: 0 };
  function observe(header: 'app' | 'business', percent: number) {
    metrics.usage.set({ header }, percent);
    if (percent > peaks[header]) {
      peaks[header] = percent;
      metrics.usagePeak.set({ header }, percent);
    }
  }

  return {
    /** Fed by the Graph client with every answer's usage headers. */
    record(snapshot: UsageSnapshot) {
      if (snapshot.app) {
        app = snapshot.app;
        observe('app', highestUsagePercent({ app: snapshot.app, business: {} }));
      }
      for (const [id, entries] of Object.entries(snapshot.business)) {
        business.set(id, entries);
        observe('business', highestUsagePercent({ app: undefined, business: { [id]: entries } }));
      }
    },

    /** Usage advice for calls about one business object (the app's share counts for every object). */
    advice(objectId: string) {
      const entries = business.get(objectId);
      return adviseUsage(
        { app, business: entries === undefined ? {} : { [objectId]: entries } },
        { slowDownAtPercent: settings.slowDownAtPercent, maxSlowDownMs: settings.maxSlowDownMs, stopWithoutEstimateMs: settings.rateLimitPauseMs },
      );
    },

    /** Waits for this call's turn; answers 'stop' (without waiting) when the usage says the budget is spent. */
    async take(objectId: string): Promise<{ readonly kind: 'go' } | { readonly kind: 'stop'; readonly waitMs: number }> {
      const advice = this.advice(objectId);
      if (advice.action === 'stop') return { kind: 'stop', waitMs: advice.delayMs };
      const now = Date.now();
      lastSlot = nextCallSlot({ now, lastSlot, advice, settings: { maxCallsPerSecond: settings.maxCallsPerSecond } });
      const wait = lastSlot - now;
      if (wait > 0) {
        metrics.limitWait.inc({ reason: advice.action === 'slow-down' ? 'slow-down' : 'spacing' }, wait / 1000);
        await sleep(wait);
      }
      return { kind: 'go' };
    },

    /**
     * Forgets what the headers said about an object (or the app): called when a pause is imposed, which already
     * enforces the wait; afterwards the first call learns the usage afresh instead of stopping on stale figures.
     */
    forget(objectId: string | 'app') {
      if (objectId === 'app') app = undefined;
      else business.delete(objectId);
    },

    peaks: () => ({ ...peaks }),
  };
}
