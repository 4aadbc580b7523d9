import type { FastifyBaseLogger } from 'fastify';
import { signatures, webhookEntry, type WebhookObject, type WebhookPayload } from '../domain/webhooks.ts';
import type { Store } from '../state/store.ts';
import type { SandboxSettings } from '../state/settings.ts';
import { HOUR, MINUTE, SECOND, type Clock } from '../domain/clock.ts';
import { errors } from '../domain/errors.ts';

/**
 * Verifies callback URLs with Meta's handshake and delivers signed change notifications to them, as Meta does:
 * changes to one app and object that happen close together travel in one batch (up to 1000 entries), a failed
 * delivery is retried on a schedule that thins out over 36 hours (on the sandbox clock, so tests compress it by
 * advancing the clock), and a delivery can arrive twice (`repeat`). Every attempt is recorded for tests.
 */
export type WebhookDelivery = {
  readonly id: number;
  readonly appId: string;
  readonly callbackUrl: string;
  readonly payload: WebhookPayload;
  readonly createdAt: number;
  attempts: number;
  status: 'pending' | 'delivered' | 'failed';
  lastError: string | undefined;
  responseStatus: number | undefined;
  /** Sandbox time of the next retry while `pending` after a failed attempt. */
  nextAttemptAt: number | undefined;
  /** How many times a delivered body was sent again (Meta may deliver one change more than once). */
  repeats: number;
};

export type WebhookDispatcher = {
  verify(callbackUrl: string, verifyToken: string): Promise<void>;
  emit(object: WebhookObject, entryId: string, field: string, value: unknown, pageId?: string): void;
  deliveries(): readonly WebhookDelivery[];
  /** Sends a recorded delivery again, byte for byte (Meta's duplicate deliveries). */
  repeat(id: number): Promise<WebhookDelivery | undefined>;
  /** Waits until no batch is open and no attempt is running; retries due later on the sandbox clock do not count. */
  settled(): Promise<void>;
  clear(): void;
  close(): void;
};

const MAX_RECORDED = 1_000;
export const MAX_BATCH_ENTRIES = 1_000;
/** When attempts happen, from the first one (sandbox time): immediately, then thinning out to 36 h. */
export const RETRY_SCHEDULE_MS: readonly number[] = [
  0,
  15 * SECOND,
  MINUTE,
  5 * MINUTE,
  15 * MINUTE,
  HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  24 * HOUR,
  36 * HOUR,
];
/** How often due retries are looked for (real time), only while some delivery waits for one. */
const RETRY_TICK_MS = 25;

export function createWebhookDispatcher(deps: {
  store: Store;
  settings: () => SandboxSettings;
  clock: Clock;
  log: FastifyBaseLogger;
}): WebhookDispatcher {
  let recorded: WebhookDelivery[] = [];
  let sequence = 0;
  const inFlight = new Set<Promise<unknown>>();
  const attempting = new Set<number>();
  const secrets = new Map<number, string>();
  const batches = new Map<string, { delivery: WebhookDelivery; flush: () => void }>();
  let ticker: NodeJS.Timeout | undefined;
  let closed = false;

  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work)).catch(() => undefined);
    return work;
  };

  const send = async (delivery: WebhookDelivery): Promise<boolean> => {
    const body = JSON.stringify(delivery.payload);
    const signed = signatures(body, secrets.get(delivery.id) ?? '');
    try {
      const response = await fetch(delivery.callbackUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': signed.sha256,
          'x-hub-signature': signed.sha1,
          'user-agent': 'facebookplatform/1.0 (+http://developers.facebook.com)',
        },
        body,
        signal: AbortSignal.timeout(deps.settings().webhookTimeoutMs),
      });
      await response.body?.cancel();
      delivery.responseStatus = response.status;
      if (response.ok) return true;
      delivery.lastError = `HTTP ${response.status}`;
    } catch (error) {
      delivery.lastError = error instanceof Error ? error.message : String(error);
    }
    return false;
  };

  const attempt = async (delivery: WebhookDelivery): Promise<void> => {
    if (closed || attempting.has(delivery.id)) return;
    attempting.add(delivery.id);
    try {
      delivery.attempts += 1;
      delivery.nextAttemptAt = undefined;
      if (await send(delivery)) {
        delivery.status = 'delivered';
        return;
      }
      const limit = Math.min(deps.settings().webhookAttempts, RETRY_SCHEDULE_MS.length);
      const next = RETRY_SCHEDULE_MS[delivery.attempts];
      if (delivery.attempts >= limit || next === undefined) {
        delivery.status = 'failed';
        deps.log.warn({ callbackUrl: delivery.callbackUrl, error: delivery.lastError }, 'webhook delivery failed');
        return;
      }
      delivery.nextAttemptAt = delivery.createdAt + next;
      startTicker();
    } finally {
      attempting.delete(delivery.id);
    }
  };

  function startTicker(): void {
    if (ticker !== undefined || closed) return;
    ticker = setInterval(() => {
      const now = deps.clock.now();
      let waiting = false;
      for (const delivery of recorded) {
        if (delivery.status !== 'pending' || delivery.nextAttemptAt === undefined) continue;
        if (delivery.nextAttemptAt <= now) void track(attempt(delivery));
        else waiting = true;
      }
      if (!waiting && attempting.size === 0) stopTicker();
    }, RETRY_TICK_MS);
    ticker.unref();
  }

  function stopTicker(): void {
    if (ticker !== undefined) clearInterval(ticker);
    ticker = undefined;
  }

  const record = (delivery: WebhookDelivery) => {
    recorded.push(delivery);
    if (recorded.length > MAX_RECORDED) recorded = recorded.slice(-MAX_RECORDED);
  };

  return {
    async verify(callbackUrl, verifyToken) {
      const challenge = String(Math.floor(Math.random() * 1e9));
      const url = new URL(callbackUrl);
      url.searchParams.set('hub.mode', 'subscribe');
      url.searchParams.set('hub.challenge', challenge);
      url.searchParams.set('hub.verify_token', verifyToken);
      let text: string;
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(deps.settings().webhookTimeoutMs) });
        text = await response.text();
        if (!response.ok) throw errors.callbackVerification(`the callback answered HTTP ${response.status}`);
      } catch (error) {
        if (error instanceof Error && error.name === 'GraphError') throw error;
        throw errors.callbackVerification(`could not reach ${callbackUrl}: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (text.trim() !== challenge) throw errors.callbackVerification('the response did not match the challenge');
    },
    emit(object, entryId, field, value, pageId) {
      for (const app of deps.store.apps.values()) {
        const subscription = app.subscriptions.get(object);
        if (!subscription?.fields.includes(field)) continue;
        if (pageId !== undefined && !deps.store.pages.get(pageId)?.subscribedApps.get(app.id)?.includes(field)) continue;
        const entry = webhookEntry(entryId, deps.clock.now(), field, value);
        const key = `${app.id}:${object}:${subscription.callbackUrl}`;
        const open = batches.get(key);
        if (open && open.delivery.payload.entry.length < MAX_BATCH_ENTRIES) {
          open.delivery.payload.entry.push(entry);
          if (open.delivery.payload.entry.length >= MAX_BATCH_ENTRIES) open.flush();
          continue;
        }
        sequence += 1;
        const delivery: WebhookDelivery = {
          id: sequence,
          appId: app.id,
          callbackUrl: subscription.callbackUrl,
          payload: { object, entry: [entry] },
          createdAt: deps.clock.now(),
          attempts: 0,
          status: 'pending',
          lastError: undefined,
          responseStatus: undefined,
          nextAttemptAt: undefined,
          repeats: 0,
        };
        secrets.set(delivery.id, app.secret);
        record(delivery);
        // Changes within the batch window join this delivery; then it leaves as one POST.
        let release: () => void = () => undefined;
        const windowClosed = new Promise<void>((resolve) => (release = resolve));
        const timer = setTimeout(() => flush(), deps.settings().webhookBatchMs);
        const flush = () => {
          clearTimeout(timer);
          if (batches.get(key)?.delivery === delivery) batches.delete(key);
          release();
        };
        batches.set(key, { delivery, flush });
        track(windowClosed.then(() => attempt(delivery)));
      }
    },
    deliveries: () => recorded,
    async repeat(id) {
      const delivery = recorded.find((item) => item.id === id);
      if (!delivery) return undefined;
      if (await track(send(delivery))) delivery.repeats += 1;
      return delivery;
    },
    async settled() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    clear() {
      recorded = [];
    },
    close() {
      closed = true;
      stopTicker();
      for (const batch of batches.values()) batch.flush();
      batches.clear();
    },
  };
}
