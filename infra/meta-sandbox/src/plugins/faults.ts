import { z } from 'zod';
import { GraphError, type GraphErrorInit } from '../domain/errors.ts';

/**
 * Named Meta errors a fault can answer, with the codes, subcodes and wording of the reference's error table
 * (shared/reference/meta-graph-api.md §5), so tests ask for "page-role-lost" rather than retyping 190/492.
 * Fields given next to the name override the preset's.
 */
export const ERROR_PRESETS = {
  'service-error': { code: 2, message: 'An unexpected error has occurred. Please retry your request later.', isTransient: true },
  'page-role-lost': {
    code: 190,
    subcode: 492,
    message: 'Error validating access token: The user must be an administrator, editor, or moderator of the Page.',
    userTitle: 'Page role missing',
    userMsg: 'You no longer have a role on this Page that allows publishing. Ask a Page admin to give it back.',
  },
  'object-not-ready': {
    code: 100,
    subcode: 33,
    type: 'GraphMethodException',
    message: "Unsupported get request. Object with ID does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
  },
  'duplicate-post': { code: 506, message: '(#506) Duplicate status message' },
  'policy-block': {
    code: 368,
    message: '(#368) The action attempted has been deemed abusive or is otherwise disallowed',
    userTitle: 'Action blocked',
    userMsg: 'This action was blocked. Try again later.',
  },
  'media-not-found': { code: 100, subcode: 2207006, message: 'The media with the given id was not found.', userTitle: 'Media not found' },
  'account-restricted': {
    code: 25,
    subcode: 2207050,
    message: 'The Instagram account is restricted.',
    userTitle: 'Restricted account',
    userMsg: 'The app user is restricted from creating content. Check the account in the Instagram app.',
  },
  'action-blocked': {
    code: 4,
    subcode: 2207051,
    message: 'Action is blocked',
    userTitle: 'Action is blocked',
    userMsg: 'We restrict certain activity to protect our community. Tell us if you think we made a mistake.',
  },
  'upload-failed': {
    code: -1,
    subcode: 2207053,
    isTransient: false,
    message: 'An unknown error occurred while uploading the media.',
    userTitle: 'Upload failed',
    userMsg: 'Create a new container and try again.',
  },
} as const satisfies Record<string, GraphErrorInit>;

export type ErrorPreset = keyof typeof ERROR_PRESETS;
const PRESET_NAMES = Object.keys(ERROR_PRESETS) as [ErrorPreset, ...ErrorPreset[]];

/**
 * Fault injection for tests: per operation (or path pattern), answer a Meta error, add latency, hang like a
 * timeout, reset the connection before doing anything, or do the work and then reset the connection or answer
 * an error (the ambiguous outcomes a publisher must reconcile).
 */
export const faultSchema = z
  .object({
    operation: z.string().min(1).optional(),
    method: z.string().toUpperCase().optional(),
    /** A regular expression matched against the request path (without the query string). */
    path: z.string().min(1).optional(),
    kind: z.enum(['error', 'latency', 'timeout', 'drop', 'drop-after-apply', 'timeout-after-apply', 'error-after-apply']),
    error: z
      .object({
        preset: z.enum(PRESET_NAMES).optional(),
        code: z.number().int().optional(),
        subcode: z.number().int().optional(),
        message: z.string().optional(),
        type: z.string().optional(),
        userTitle: z.string().optional(),
        userMsg: z.string().optional(),
        isTransient: z.boolean().optional(),
        httpStatus: z.number().int().min(400).max(599).optional(),
      })
      .refine((error) => error.preset !== undefined || error.code !== undefined, 'give error.preset or error.code')
      .optional(),
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    /** How long a timeout holds the request before resetting the socket. */
    holdMs: z.number().int().min(0).max(600_000).default(120_000),
    /** How many matching requests the fault applies to; unlimited when absent. */
    times: z.number().int().min(1).optional(),
  })
  .refine((fault) => fault.operation !== undefined || fault.path !== undefined, 'give an operation or a path')
  .refine(
    (fault) => (fault.kind !== 'error' && fault.kind !== 'error-after-apply') || fault.error !== undefined,
    'an error fault needs error.code or error.preset',
  )
  .refine((fault) => fault.kind !== 'latency' || fault.latencyMs !== undefined, 'a latency fault needs latencyMs');

export type FaultInput = z.input<typeof faultSchema>;
export type Fault = z.output<typeof faultSchema> & { readonly id: number; hits: number; readonly pattern: RegExp | undefined };

/** The Meta error an `error` or `error-after-apply` fault answers: the preset, overridden by explicit fields. */
export function faultError(fault: Fault): GraphError {
  const given = fault.error;
  const preset: Partial<GraphErrorInit> = given?.preset === undefined ? {} : ERROR_PRESETS[given.preset];
  const code = given?.code ?? preset.code ?? 1;
  return new GraphError({
    code,
    subcode: given?.subcode ?? preset.subcode,
    message: given?.message ?? preset.message ?? `(#${code}) Injected fault`,
    type: given?.type ?? preset.type,
    userTitle: given?.userTitle ?? preset.userTitle,
    userMsg: given?.userMsg ?? preset.userMsg,
    isTransient: given?.isTransient ?? preset.isTransient,
    httpStatus: given?.httpStatus ?? preset.httpStatus,
  });
}

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
