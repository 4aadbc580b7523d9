import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Histogram, type Registry } from 'prom-client';
import { z } from 'zod';
import { type DatabasePool, sql } from '@postwire/db';
import type { ServiceLogger } from '@postwire/kafka';

/**
 * A session advisory lock held for one pass on a dedicated connection: a pass may call out (Meta) between
 * reading a row and writing it, which no row lock may span, so one instance runs a pass at a time and the
 * others skip it. Released at the end, or by Postgres if the process dies.
 */
export async function withPassLock<T>(pool: DatabasePool, name: string, work: () => Promise<T>): Promise<T | 'skipped'> {
  return pool.connect(async (connection) => {
    const locked = await connection.oneFirst(sql.type(z.object({ locked: z.boolean() }))`SELECT pg_try_advisory_lock(hashtext(${name})) AS locked`);
    if (!locked) return 'skipped';
    try {
      return await work();
    } finally {
      await connection.query(sql.type(z.object({ unlocked: z.boolean() }))`SELECT pg_advisory_unlock(hashtext(${name})) AS unlocked`);
    }
  });
}

/**
 * Runs `work` over `items` with at most `limit` in flight. After a failure no item is started, and the call
 * settles only when the items in hand have finished, then fails with the first error: a pass never ends (and
 * gives up its lock, or lets shutdown close the pools) while its work is still running.
 */
export async function forEachBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lanes = Array.from({ length: Math.min(Math.max(1, limit), items.length) }, async () => {
    while (!failed && next < items.length) {
      const item = items[next];
      next += 1;
      try {
        if (item !== undefined) await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  });
  const settled = await Promise.allSettled(lanes);
  const rejected = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/** A worker's stop: no new pass starts, the pass in hand finishes. `run` calls run one at a time. */
export function createRunGate() {
  let stopping = false;
  let inFlight: Promise<unknown> | undefined;
  return {
    get stopping() {
      return stopping;
    },
    async run<T>(work: () => Promise<T>): Promise<T | 'stopped'> {
      if (stopping) return 'stopped';
      while (inFlight !== undefined) await inFlight.catch(() => undefined);
      if (stopping) return 'stopped';
      const running = work();
      inFlight = running;
      try {
        return await running;
      } finally {
        inFlight = undefined;
      }
    },
    async stop(): Promise<void> {
      stopping = true;
      await inFlight?.catch(() => undefined);
    },
  };
}

export type WorkerMetrics = {
  readonly passes: Counter<'worker' | 'outcome'>;
  readonly duration: Histogram<'worker'>;
  readonly items: Counter<'worker'>;
  readonly errors: Counter<'worker'>;
};

const metricsByRegistry = new WeakMap<Registry, WorkerMetrics>();

/** One set per registry, labelled by worker: every timed worker of a service shares it. */
export function workerMetrics(registry: Registry): WorkerMetrics {
  const existing = metricsByRegistry.get(registry);
  if (existing) return existing;
  const created: WorkerMetrics = {
    passes: new Counter({
      name: 'postwire_worker_passes_total',
      help: 'Passes of timed workers, by outcome (completed; skipped: another instance held the pass; failed).',
      labelNames: ['worker', 'outcome'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'postwire_worker_pass_duration_seconds',
      help: 'How long a completed or failed pass of a timed worker took.',
      labelNames: ['worker'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers: [registry],
    }),
    items: new Counter({ name: 'postwire_worker_items_total', help: 'Items a timed worker handled.', labelNames: ['worker'] as const, registers: [registry] }),
    errors: new Counter({ name: 'postwire_worker_errors_total', help: 'Passes of a timed worker that threw.', labelNames: ['worker'] as const, registers: [registry] }),
  };
  metricsByRegistry.set(registry, created);
  return created;
}

export type PassResult = { readonly items: number };

export type TimedWorkerOptions<R extends PassResult> = {
  /** Names the worker in logs and metrics, and its pass lock (so it must be the same on every instance). */
  readonly name: string;
  /** Time between the end of one pass and the start of the next; 0: never on its own (`runOnce` still works). */
  readonly intervalMs: number;
  /** Holds the pass lock. */
  readonly pool: DatabasePool;
  readonly logger: ServiceLogger;
  readonly metrics?: WorkerMetrics;
  /** One pass; reports how many items it handled. Use `forEachBounded` for bounded concurrency inside it. */
  readonly pass: () => Promise<R>;
  /** False: several instances may run a pass at once (the pass itself is safe to overlap). Default true. */
  readonly exclusive?: boolean;
};

export type TimedWorker<R extends PassResult> = {
  readonly name: string;
  /** One pass now: its result, 'skipped' (another instance holds the pass) or 'stopped'. */
  runOnce(): Promise<R | 'skipped' | 'stopped'>;
  start(): void;
  /** No new pass starts; the pass in hand finishes. */
  stop(): Promise<void>;
};

/**
 * A background loop: a pass every interval (the next waits for the last), one instance at a time across
 * the deployment (a session advisory lock named after the worker), counted and timed, stopped cleanly.
 */
export function createTimedWorker<R extends PassResult>(options: TimedWorkerOptions<R>): TimedWorker<R> {
  const { name, pool, metrics } = options;
  const logger = options.logger.child({ worker: name });
  const gate = createRunGate();
  let timer: NodeJS.Timeout | undefined;

  async function pass(): Promise<R | 'skipped'> {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const result = options.exclusive === false ? await options.pass() : await withPassLock(pool, `postwire:worker:${name}`, options.pass);
      if (result === 'skipped') {
        metrics?.passes.inc({ worker: name, outcome: 'skipped' });
        return result;
      }
      metrics?.passes.inc({ worker: name, outcome: 'completed' });
      metrics?.duration.observe({ worker: name }, elapsed());
      metrics?.items.inc({ worker: name }, result.items);
      return result;
    } catch (error) {
      metrics?.passes.inc({ worker: name, outcome: 'failed' });
      metrics?.errors.inc({ worker: name });
      metrics?.duration.observe({ worker: name }, elapsed());
      throw error;
    }
  }

  const schedule = () => {
    if (gate.stopping || options.intervalMs === 0) return;
    timer = setTimeout(() => {
      gate
        .run(pass)
        .catch((error: unknown) => logger.error({ err: error }, 'worker pass failed'))
        .finally(schedule);
    }, options.intervalMs);
    timer.unref();
  };

  return {
    name,
    runOnce: () => gate.run(pass),
    start: schedule,
    async stop() {
      clearTimeout(timer);
      await gate.stop();
    },
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The service's timed workers by name, so an operator command or a test can run a pass now. */
    workers: ReadonlyMap<string, TimedWorker<PassResult>>;
  }
}

export type TimedWorkerPluginOptions = Omit<TimedWorkerOptions<PassResult>, 'pool' | 'logger' | 'metrics'>;

/** Adds a worker to the app's registry, started once the app is ready and stopped on close. */
function registerWorker(fastify: FastifyInstance, options: TimedWorkerPluginOptions): void {
  if (!fastify.hasDecorator('workers')) fastify.decorate('workers', new Map<string, TimedWorker<PassResult>>());
  const worker = createTimedWorker({ ...options, pool: fastify.workerDb, logger: fastify.log, metrics: workerMetrics(fastify.metrics) });
  const registry = fastify.workers as Map<string, TimedWorker<PassResult>>;
  if (registry.has(worker.name)) throw new Error(`timed worker ${worker.name} registered twice`);
  registry.set(worker.name, worker);
  fastify.addHook('onReady', async () => worker.start());
  fastify.addHook('onClose', async () => worker.stop());
}

/**
 * Registers a timed worker on the worker pool: started once the app is ready, stopped on close before the
 * outbox relay and pools (registered after them, it closes first).
 */
export const timedWorkerPlugin = fp(
  async (fastify: FastifyInstance, options: TimedWorkerPluginOptions) => registerWorker(fastify, options),
  { name: '@postwire/timed-worker', dependencies: ['@postwire/worker-database', '@postwire/metrics'] },
);

export type PruneTarget = {
  /** Names the worker (`prune-<name>`). */
  readonly name: string;
  readonly table: readonly [schema: string, table: string];
  /** A timestamp column: rows whose value is older than the retention go. */
  readonly column: string;
  readonly retentionMs: number;
};

export type PruningOptions = {
  readonly intervalMs: number;
  readonly targets: readonly PruneTarget[];
  /** Rows deleted per statement, so a large backlog never holds long locks. */
  readonly batchSize?: number;
};

/** Deletes the rows of `target` older than its retention, a batch at a time; returns how many went. */
export async function pruneOnce(pool: DatabasePool, target: PruneTarget, batchSize = 1_000): Promise<number> {
  const table = sql.identifier([...target.table]);
  const column = sql.identifier([target.column]);
  let total = 0;
  for (;;) {
    const deleted = await pool.query(sql.type(z.object({}))`
      DELETE FROM ${table}
       WHERE ctid IN (
         SELECT ctid FROM ${table}
          WHERE ${column} < clock_timestamp() - make_interval(secs => ${target.retentionMs / 1_000})
          LIMIT ${batchSize}
       )
    `);
    total += deleted.rowCount;
    if (deleted.rowCount < batchSize) return total;
  }
}

/**
 * Pruning as timed workers, one per table: inbox ids past the window in which Kafka could redeliver them,
 * sent outbox rows past their retention, a service's own bookkeeping rows. On the worker pool.
 */
export const pruningPlugin = fp(
  async (fastify: FastifyInstance, options: PruningOptions) => {
    for (const target of options.targets) {
      registerWorker(fastify, {
        name: `prune-${target.name}`,
        intervalMs: options.intervalMs,
        pass: async () => ({ items: await pruneOnce(fastify.workerDb, target, options.batchSize) }),
      });
    }
  },
  { name: '@postwire/pruning', dependencies: ['@postwire/worker-database', '@postwire/metrics'] },
);
