import { createRequire } from 'node:module';

/**
 * kafkajs 2.2.4's RequestQueue re-arms a timer after every response even when nothing is pending,
 * with a delay of `throttledUntil - Date.now()`, which is negative unless the broker throttles us.
 * Node clamps it to 1 ms, so every broker connection spins a 1 ms timer for as long as it lives
 * (tulios/kafkajs#1704) and Node 24 prints a TimeoutNegativeWarning for it (#1751). The fixes
 * (#1755, #1768) are unmerged and kafkajs is unmaintained, so this re-implements the one method:
 * with nothing pending and no throttle there is nothing to check later, because the next push or
 * response checks again. With requests pending, or while throttled, it behaves as before.
 */
type RequestQueueInstance = {
  throttledUntil: number;
  pending: readonly unknown[];
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
};

type RequestQueueClass = { prototype: { scheduleCheckPendingRequests: (this: RequestQueueInstance) => void } };

const CHECK_PENDING_REQUESTS_INTERVAL = 10;
const PATCHED = Symbol.for('postwire.kafkajs.requestQueueFix');

function scheduleCheckPendingRequests(this: RequestQueueInstance): void {
  if (this.throttleCheckTimeoutId) return;
  let scheduleAt = this.throttledUntil - Date.now();
  if (this.pending.length > 0) {
    scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL;
  } else if (scheduleAt <= 0) {
    return;
  }
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, scheduleAt);
}

/** Idempotent; returns whether the fix is in place (false if kafkajs's internals moved). */
export function applyRequestQueueFix(): boolean {
  const require = createRequire(import.meta.url);
  const loaded: unknown = require('kafkajs/src/network/requestQueue/index.js');
  if (typeof loaded !== 'function' || !('prototype' in loaded)) return false;
  const queue = loaded as RequestQueueClass & { [PATCHED]?: boolean };
  if (queue[PATCHED]) return true;
  if (typeof queue.prototype.scheduleCheckPendingRequests !== 'function') return false;
  queue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  queue[PATCHED] = true;
  return true;
}
