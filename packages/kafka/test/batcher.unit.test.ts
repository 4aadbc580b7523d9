import { describe, expect, it } from 'vitest';
import { type BatchLimits, createSendBatcher } from '../src/batcher.ts';

type Sent = { topic: string; messages: string[]; settle: (error?: Error) => void };

/** A batcher whose sends are recorded and settled by the test, one by one. */
function recording(limits: Partial<BatchLimits> = {}) {
  const sent: Sent[] = [];
  const batcher = createSendBatcher<string>({ lingerMs: 5, maxMessages: 100, maxBytes: 10_000, ...limits }, (topic, messages) =>
    new Promise<void>((resolve, reject) => sent.push({ topic, messages, settle: (error) => (error ? reject(error) : resolve()) })),
  );
  return { sent, batcher };
}

const settled = (promise: Promise<void>) => promise.then(() => 'sent', (error: Error) => error.message);
const lingerPassed = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));

describe('send batcher', () => {
  it('sends concurrent callers of a topic in one batch once the linger has passed, in the order they called', async () => {
    const { sent, batcher } = recording();
    const calls = [batcher.send('a', ['1'], 1), batcher.send('a', ['2', '3'], 2), batcher.send('a', ['4'], 1)];
    expect(sent).toHaveLength(0);
    await lingerPassed();
    expect(sent.map((batch) => batch.messages)).toEqual([['1', '2', '3', '4']]);
    sent[0]?.settle();
    expect(await Promise.all(calls.map(settled))).toEqual(['sent', 'sent', 'sent']);
  });

  it('keeps topics apart: one batch per topic', async () => {
    const { sent, batcher } = recording();
    void batcher.send('a', ['1'], 1);
    void batcher.send('b', ['2'], 1);
    void batcher.send('a', ['3'], 1);
    await lingerPassed();
    expect(sent.map(({ topic, messages }) => [topic, messages])).toEqual([
      ['a', ['1', '3']],
      ['b', ['2']],
    ]);
  });

  it('fails exactly the callers of the batch whose send failed', async () => {
    const { sent, batcher } = recording({ maxMessages: 2 });
    const calls = [batcher.send('a', ['1'], 1), batcher.send('a', ['2'], 1), batcher.send('a', ['3'], 1)].map(settled);
    // Full at two: the first two go at once, the third after them.
    expect(sent.map((batch) => batch.messages)).toEqual([['1', '2']]);
    sent[0]?.settle(new Error('broker refused'));
    await lingerPassed(0);
    expect(sent.map((batch) => batch.messages)).toEqual([['1', '2'], ['3']]);
    sent[1]?.settle();
    expect(await Promise.all(calls)).toEqual(['broker refused', 'broker refused', 'sent']);
  });

  it('keeps one send per topic in flight; what queues meanwhile goes as soon as it settles, without another linger', async () => {
    const { sent, batcher } = recording({ lingerMs: 1_000, maxMessages: 1 });
    void batcher.send('a', ['1'], 1);
    void batcher.send('a', ['2'], 1);
    void batcher.send('a', ['3'], 1);
    expect(sent.map((batch) => batch.messages)).toEqual([['1']]);
    sent[0]?.settle();
    await lingerPassed(0);
    expect(sent.map((batch) => batch.messages)).toEqual([['1'], ['2']]);
    sent[1]?.settle();
    await lingerPassed(0);
    expect(sent.map((batch) => batch.messages)).toEqual([['1'], ['2'], ['3']]);
  });

  it('never splits a caller: one larger than the limits goes alone, the others around it in batches of their own', async () => {
    const { sent, batcher } = recording({ maxBytes: 100 });
    void batcher.send('a', ['small'], 10);
    void batcher.send('a', ['huge', 'huge'], 500);
    void batcher.send('a', ['small again'], 10);
    expect(sent.map((batch) => batch.messages)).toEqual([['small']]);
    sent[0]?.settle();
    await lingerPassed(0);
    expect(sent.map((batch) => batch.messages)).toEqual([['small'], ['huge', 'huge']]);
    sent[1]?.settle();
    await lingerPassed(0);
    expect(sent.map((batch) => batch.messages)).toEqual([['small'], ['huge', 'huge'], ['small again']]);
  });

  it('with linger 0, sends every call on its own at once', async () => {
    const { sent, batcher } = recording({ lingerMs: 0 });
    void batcher.send('a', ['1'], 1);
    void batcher.send('a', ['2'], 1);
    expect(sent.map((batch) => batch.messages)).toEqual([['1'], ['2']]);
  });

  it('drain sends what is queued without waiting out the linger and settles when nothing is left', async () => {
    const { sent, batcher } = recording({ lingerMs: 60_000, maxMessages: 1 });
    const calls = [batcher.send('a', ['1'], 1), batcher.send('a', ['2'], 1)];
    let drained = false;
    const drain = batcher.drain().then(() => (drained = true));
    await lingerPassed(0);
    sent[0]?.settle();
    await lingerPassed(0);
    expect(drained).toBe(false);
    sent[1]?.settle();
    await drain;
    expect(await Promise.all(calls.map(settled))).toEqual(['sent', 'sent']);
  });
});
