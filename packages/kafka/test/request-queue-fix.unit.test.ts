import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyRequestQueueFix } from '../src/index.ts';

type Queue = {
  throttledUntil: number;
  pending: unknown[];
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests: () => void;
};
const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as {
  prototype: { scheduleCheckPendingRequests(this: Queue): void };
};

function queue(overrides: Partial<Queue> = {}): Queue {
  return { throttledUntil: -1, pending: [], throttleCheckTimeoutId: null, checkPendingRequests: vi.fn(), ...overrides };
}

describe('kafkajs request queue fix (tulios/kafkajs#1704, #1751)', () => {
  afterEach(() => vi.useRealTimers());

  it('arms no timer when nothing is pending and nothing is throttled (no 1 ms spin, no negative timeout)', () => {
    expect(applyRequestQueueFix()).toBe(true);
    const idle = queue();
    RequestQueue.prototype.scheduleCheckPendingRequests.call(idle);
    expect(idle.throttleCheckTimeoutId).toBeNull();
  });

  it('still re-checks pending requests and waits out a broker throttle', () => {
    vi.useFakeTimers();
    applyRequestQueueFix();
    const waiting = queue({ pending: [{}] });
    RequestQueue.prototype.scheduleCheckPendingRequests.call(waiting);
    vi.advanceTimersByTime(10);
    expect(waiting.checkPendingRequests).toHaveBeenCalledOnce();

    const throttled = queue({ throttledUntil: Date.now() + 500 });
    RequestQueue.prototype.scheduleCheckPendingRequests.call(throttled);
    vi.advanceTimersByTime(499);
    expect(throttled.checkPendingRequests).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(throttled.checkPendingRequests).toHaveBeenCalledOnce();
  });
});
