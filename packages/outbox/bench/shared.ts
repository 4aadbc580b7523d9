import { defineTopic, postEvents } from '@postwire/contracts';

export type BenchSetup = {
  readonly workerUrl: string;
  readonly brokers: readonly string[];
  readonly topicName: string;
};

export type WriterCommand =
  | { readonly phase: 'paced'; readonly rate: number; readonly seconds: number }
  | { readonly phase: 'burst'; readonly total: number; readonly transactionSize: number; readonly writers: number }
  | { readonly phase: 'exit' };

export type WriterReport =
  | { readonly kind: 'committed'; readonly ids: readonly string[]; readonly at: readonly number[] }
  | { readonly kind: 'done'; readonly events: number; readonly seconds: number };

export function benchTopic(name: string) {
  return defineTopic({ ...postEvents, name, events: postEvents.events });
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across worker threads. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
