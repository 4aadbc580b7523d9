// Bench worker: the service side, committing state changes with their outbox rows.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { createDatabasePool } from '@postwire/db';
import { appendToOutbox } from '../src/index.ts';
import { type BenchSetup, type WriterCommand, type WriterReport, benchTopic, now } from './shared.ts';

const setup = workerData as BenchSetup;
const port = parentPort;
if (!port) throw new Error('run as a worker thread');
const topic = benchTopic(setup.topicName);
const pool = await createDatabasePool(setup.workerUrl, { maximumPoolSize: 8, applicationName: 'bench-writer' });
const accounts = Array.from({ length: 64 }, () => randomUUID());
const organisationId = randomUUID();
let sequence = 0;
let ids: string[] = [];
let at: number[] = [];

function event() {
  sequence += 1;
  return {
    type: 'post.published' as const,
    data: {
      postId: randomUUID(),
      socialAccountId: accounts[sequence % accounts.length] ?? randomUUID(),
      platform: 'instagram' as const,
      postType: 'feed' as const,
      contentId: null,
      platformPostId: `bench-${sequence}`,
      platformUrl: 'https://www.instagram.com/p/bench/',
      mediaCount: 1,
      publishedAt: new Date().toISOString(),
    },
    metadata: { organisationId },
  };
}

async function write(size: number): Promise<void> {
  const events = Array.from({ length: size }, event);
  const written = await pool.transaction((connection) =>
    appendToOutbox(connection, { schema: 'publisher', source: '/postwire/bench' }, topic, events),
  );
  const committed = now();
  for (const record of written) {
    ids.push(record.id);
    at.push(committed);
  }
}

function report(message: WriterReport): void {
  port?.postMessage(message);
}

function flushStamps(): void {
  if (ids.length === 0) return;
  report({ kind: 'committed', ids, at });
  ids = [];
  at = [];
}
const stamping = setInterval(flushStamps, 50);

port.on('message', async (command: WriterCommand) => {
  if (command.phase === 'exit') {
    clearInterval(stamping);
    await pool.end();
    port.close();
    return;
  }
  const started = performance.now();
  let events = 0;
  if (command.phase === 'paced') {
    // One event per transaction, each its own state change, started on schedule.
    const count = command.rate * command.seconds;
    const inFlight = new Set<Promise<void>>();
    for (let index = 0; index < count; index += 1) {
      const ahead = started + (index * 1_000) / command.rate - performance.now();
      if (ahead > 1) await sleep(ahead);
      const pending = write(1).finally(() => inFlight.delete(pending));
      inFlight.add(pending);
    }
    await Promise.all(inFlight);
    events = count;
  } else {
    let next = 0;
    await Promise.all(
      Array.from({ length: command.writers }, async () => {
        while (next < command.total) {
          const size = Math.min(command.transactionSize, command.total - next);
          next += size;
          await write(size);
        }
      }),
    );
    events = command.total;
  }
  flushStamps();
  report({ kind: 'done', events, seconds: (performance.now() - started) / 1_000 });
});
