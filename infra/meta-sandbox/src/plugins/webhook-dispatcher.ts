import type { FastifyBaseLogger } from 'fastify';
import { signatures, webhookPayload, type WebhookObject, type WebhookPayload } from '../domain/webhooks.ts';
import type { Store } from '../state/store.ts';
import type { SandboxSettings } from '../state/settings.ts';
import type { Clock } from '../domain/clock.ts';
import { errors } from '../domain/errors.ts';

/**
 * Verifies callback URLs with Meta's handshake and delivers signed change notifications to them.
 * Deliveries are retried a few times (Meta retries for hours); every attempt is recorded for tests.
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
};

export type WebhookDispatcher = {
  verify(callbackUrl: string, verifyToken: string): Promise<void>;
  emit(object: WebhookObject, entryId: string, field: string, value: unknown, pageId?: string): void;
  deliveries(): readonly WebhookDelivery[];
  settled(): Promise<void>;
  clear(): void;
  close(): void;
};

const MAX_RECORDED = 1_000;

export function createWebhookDispatcher(deps: {
  store: Store;
  settings: () => SandboxSettings;
  clock: Clock;
  log: FastifyBaseLogger;
}): WebhookDispatcher {
  let recorded: WebhookDelivery[] = [];
  let sequence = 0;
  const inFlight = new Set<Promise<void>>();
  const timers = new Map<NodeJS.Timeout, () => void>();
  let closed = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.set(timer, resolve);
    });

  const deliver = async (delivery: WebhookDelivery, secret: string) => {
    const body = JSON.stringify(delivery.payload);
    const signed = signatures(body, secret);
    const { webhookAttempts, webhookTimeoutMs } = deps.settings();
    while (delivery.attempts < webhookAttempts && !closed) {
      delivery.attempts += 1;
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
          signal: AbortSignal.timeout(webhookTimeoutMs),
        });
        await response.body?.cancel();
        delivery.responseStatus = response.status;
        if (response.ok) {
          delivery.status = 'delivered';
          return;
        }
        delivery.lastError = `HTTP ${response.status}`;
      } catch (error) {
        delivery.lastError = error instanceof Error ? error.message : String(error);
      }
      if (delivery.attempts < webhookAttempts) await sleep(250 * 4 ** (delivery.attempts - 1));
    }
    delivery.status = 'failed';
    deps.log.warn({ callbackUrl: delivery.callbackUrl, error: delivery.lastError }, 'webhook delivery failed');
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
        sequence += 1;
        const delivery: WebhookDelivery = {
          id: sequence,
          appId: app.id,
          callbackUrl: subscription.callbackUrl,
          payload: webhookPayload(object, entryId, deps.clock.now(), field, value),
          createdAt: deps.clock.now(),
          attempts: 0,
          status: 'pending',
          lastError: undefined,
          responseStatus: undefined,
        };
        recorded.push(delivery);
        if (recorded.length > MAX_RECORDED) recorded = recorded.slice(-MAX_RECORDED);
        const running = deliver(delivery, app.secret).finally(() => inFlight.delete(running));
        inFlight.add(running);
      }
    },
    deliveries: () => recorded,
    async settled() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    clear() {
      recorded = [];
    },
    close() {
      closed = true;
      // Wake pending retries so they see `closed` and stop, instead of hanging.
      for (const [timer, wake] of timers) {
        clearTimeout(timer);
        wake();
      }
      timers.clear();
    },
  };
}
