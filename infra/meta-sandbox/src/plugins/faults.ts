import { z } from 'zod';

/**
 * Fault injection for tests: per operation (or path pattern), answer a Meta error, add latency, hang like a
 * timeout, reset the connection before doing anything, or do the work and then reset the connection (the
 * ambiguous outcome a publisher must reconcile).
 */
export const faultSchema = z
  .object({
    operation: z.string().min(1).optional(),
    method: z.string().toUpperCase().optional(),
    /** A regular expression matched against the request path (without the query string). */
    path: z.string().min(1).optional(),
    kind: z.enum(['error', 'latency', 'timeout', 'drop', 'drop-after-apply', 'timeout-after-apply']),
    error: z
      .object({
        code: z.number().int(),
        subcode: z.number().int().optional(),
        message: z.string().optional(),
        type: z.string().optional(),
        userTitle: z.string().optional(),
        userMsg: z.string().optional(),
        isTransient: z.boolean().optional(),
        httpStatus: z.number().int().min(400).max(599).optional(),
      })
      .optional(),
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    /** How long a timeout holds the request before resetting the socket. */
    holdMs: z.number().int().min(0).max(600_000).default(120_000),
    /** How many matching requests the fault applies to; unlimited when absent. */
    times: z.number().int().min(1).optional(),
  })
  .refine((fault) => fault.operation !== undefined || fault.path !== undefined, 'give an operation or a path')
  .refine((fault) => fault.kind !== 'error' || fault.error !== undefined, 'an error fault needs error.code')
  .refine((fault) => fault.kind !== 'latency' || fault.latencyMs !== undefined, 'a latency fault needs latencyMs');

export type FaultInput = z.input<typeof faultSchema>;
export type Fault = z.output<typeof faultSchema> & { readonly id: number; hits: number; readonly pattern: RegExp | undefined };

export type FaultInjector = {
  add(input: z.output<typeof faultSchema>): Fault;
  remove(id: number): boolean;
  clear(): void;
  list(): readonly Fault[];
  /** The first live fault matching this request; counts it as used. */
  take(request: { operation: string; method: string; path: string }): Fault | undefined;
  readonly active: boolean;
};

export function createFaultInjector(): FaultInjector {
  let faults: Fault[] = [];
  let sequence = 0;
  return {
    add(input) {
      sequence += 1;
      const fault: Fault = { ...input, id: sequence, hits: 0, pattern: input.path === undefined ? undefined : new RegExp(input.path) };
      faults.push(fault);
      return fault;
    },
    remove(id) {
      const before = faults.length;
      faults = faults.filter((fault) => fault.id !== id);
      return faults.length !== before;
    },
    clear() {
      faults = [];
    },
    list: () => faults,
    take(request) {
      for (const fault of faults) {
        if (fault.times !== undefined && fault.hits >= fault.times) continue;
        if (fault.operation !== undefined && fault.operation !== request.operation) continue;
        if (fault.method !== undefined && fault.method !== request.method) continue;
        if (fault.pattern !== undefined && !fault.pattern.test(request.path)) continue;
        fault.hits += 1;
        return fault;
      }
      return undefined;
    },
    get active() {
      return faults.some((fault) => fault.times === undefined || fault.hits < fault.times);
    },
  };
}
