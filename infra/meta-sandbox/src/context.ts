import type { FastifyBaseLogger } from 'fastify';
import { createClock, type Clock } from './domain/clock.ts';
import { createFaultInjector, type FaultInjector } from './plugins/faults.ts';
import { createMediaFetcher, type MediaFetcher } from './plugins/media-fetcher.ts';
import { createWebhookDispatcher, type WebhookDispatcher } from './plugins/webhook-dispatcher.ts';
import { applySeed, type SeedInput } from './state/seed.ts';
import { DEFAULT_SETTINGS, type SandboxSettings } from './state/settings.ts';
import { createStore, resetStore, type Store } from './state/store.ts';

/** The one object every route works on: settings, clock, state and the outside-facing helpers. */
export type SandboxContext = {
  readonly settings: SandboxSettings;
  readonly clock: Clock;
  readonly store: Store;
  readonly media: MediaFetcher;
  readonly webhooks: WebhookDispatcher;
  readonly faults: FaultInjector;
  /** Empties everything and applies the boot seed again (unless `withSeed` is false). */
  reset(withSeed?: boolean): void;
};

export type SandboxOptions = {
  readonly settings?: Partial<SandboxSettings> | undefined;
  /** Applied at boot and on every reset; false or undefined boots empty. */
  readonly seed?: SeedInput | false | undefined;
  readonly clock?: Clock | undefined;
};

export function createContext(options: SandboxOptions, log: FastifyBaseLogger): SandboxContext {
  const settings: SandboxSettings = { ...DEFAULT_SETTINGS, ...options.settings };
  const clock = options.clock ?? createClock();
  const store = createStore();
  const media = createMediaFetcher();
  const webhooks = createWebhookDispatcher({ store, settings: () => settings, clock, log });
  const faults = createFaultInjector();
  const seed = options.seed || undefined;
  const bootSettings = { ...settings };
  if (seed) applySeed(store, seed);
  return {
    settings,
    clock,
    store,
    media,
    webhooks,
    faults,
    reset(withSeed = true) {
      resetStore(store);
      clock.reset();
      media.clear();
      faults.clear();
      webhooks.clear();
      Object.assign(settings, bootSettings);
      if (withSeed && seed) applySeed(store, seed);
    },
  };
}
