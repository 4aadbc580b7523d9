import { describe, expect, it } from 'vitest';
import { forEachBounded } from '../src/timed-worker.ts';

/** A promise and the function that settles it, so a test decides when each item finishes. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

describe('forEachBounded', () => {
  it('keeps at most `limit` items in flight and works through all of them', async () => {
    let inFlight = 0;
    let most = 0;
    const done: number[] = [];
    await forEachBounded([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise<void>((resolve) => setImmediate(resolve));
      inFlight -= 1;
      done.push(item);
    });
    expect(most).toBe(3);
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('after a failure starts nothing more, waits for the items in hand, then fails with the first error', async () => {
    const slow = deferred();
    const started: string[] = [];
    let slowFinished = false;
    let settled = false;
    const run = forEachBounded(['slow', 'fails', 'later-1', 'later-2'], 2, async (item) => {
      started.push(item);
      if (item === 'slow') {
        await slow.promise;
        slowFinished = true;
      }
      if (item === 'fails') throw new Error('boom');
    }).finally(() => {
      settled = true;
    });
    const outcome = expect(run).rejects.toThrow('boom');
    await new Promise<void>((resolve) => setImmediate(resolve));
    // The failing lane stopped; the slow item is still in hand, so the call has not settled.
    expect(settled).toBe(false);
    slow.resolve();
    await outcome;
    expect(slowFinished).toBe(true);
    expect(started).toEqual(['slow', 'fails']);
  });

  it('does nothing for no items', async () => {
    let calls = 0;
    await forEachBounded([], 4, async () => {
      calls += 1;
    });
    expect(calls).toBe(0);
  });
});
