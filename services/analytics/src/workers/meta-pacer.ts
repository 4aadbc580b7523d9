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
  // Slots reserved by the latest calls, instance-wide and per business object: concurrent lanes queue behind them.
  let lastGlobal = 0;
  const lastByObject = new Map<string, number>();

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

    /** Usage advice from the app's usage alone, and from one business object's alone. */
    advice(objectId: string) {
      const entries = business.get(objectId);
      const options = { slowDownAtPercent: settings.slowDownAtPercent, maxSlowDownMs: settings.maxSlowDownMs, stopWithoutEstimateMs: settings.rateLimitPauseMs };
      return {
        app: adviseUsage({ app, business: {} }, options),
        object: adviseUsage({ app: undefined, business: entries === undefined ? {} : { [objectId]: entries } }, options),
      };
    },

    /** Waits for this call's turn; answers 'stop' (without waiting) when the usage says a budget is spent. */
    async take(objectId: string): Promise<{ readonly kind: 'go' } | { readonly kind: 'stop'; readonly scope: 'app' | 'account'; readonly waitMs: number }> {
      const advice = this.advice(objectId);
      if (advice.app.action === 'stop') return { kind: 'stop', scope: 'app', waitMs: advice.app.delayMs };
      if (advice.object.action === 'stop') return { kind: 'stop', scope: 'account', waitMs: advice.object.delayMs };
      const now = Date.now();
      const slot = nextCallSlot({
        now,
        lastGlobal,
        lastObject: lastByObject.get(objectId) ?? 0,
        appDelayMs: advice.app.delayMs,
        objectDelayMs: advice.object.delayMs,
        settings: { maxCallsPerSecond: settings.maxCallsPerSecond },
      });
      lastGlobal = slot.global;
      lastByObject.set(objectId, slot.start);
      const wait = slot.start - now;
      if (wait > 0) {
        const slowed = advice.app.action === 'slow-down' || advice.object.action === 'slow-down';
        metrics.limitWait.inc({ reason: slowed ? 'slow-down' : 'spacing' }, wait / 1000);
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
      else {
        business.delete(objectId);
        lastByObject.delete(objectId);
      }
    },

    peaks: () => ({ ...peaks }),
  };
}
