/**
 * Errors a Graph call can end in. Messages carry the method and a redacted path, never a token, secret,
 * code or proof: these errors end up in logs, problem+json answers and dead-letter events.
 */

export type GraphErrorSource = 'graph' | 'instagram-oauth' | 'rupload' | 'http';

export type GraphApiErrorFields = {
  readonly httpStatus: number;
  readonly code: number | undefined;
  readonly subcode: number | undefined;
  readonly type: string | undefined;
  readonly message: string;
  readonly userTitle: string | undefined;
  readonly userMessage: string | undefined;
  readonly isTransient: boolean;
  readonly fbtraceId: string | undefined;
  /** Which error shape Meta answered with: Graph's `{error}`, Instagram Login's OAuth shape, rupload's `debug_info`, or none. */
  readonly source: GraphErrorSource;
};

/** Meta answered with an error. `retryAfterMs` is filled from the usage headers when Meta said when to come back. */
export class GraphApiError extends Error {
  readonly httpStatus: number;
  readonly code: number | undefined;
  readonly subcode: number | undefined;
  readonly type: string | undefined;
  readonly metaMessage: string;
  readonly userTitle: string | undefined;
  readonly userMessage: string | undefined;
  readonly isTransient: boolean;
  readonly fbtraceId: string | undefined;
  readonly source: GraphErrorSource;
  readonly method: string | undefined;
  readonly path: string | undefined;
  retryAfterMs: number | undefined;

  constructor(fields: GraphApiErrorFields, request?: { method: string; path: string }) {
    const where = request ? ` (${request.method} ${request.path})` : '';
    const codes = fields.code === undefined ? `HTTP ${fields.httpStatus}` : `${fields.code}${fields.subcode === undefined ? '' : `/${fields.subcode}`}`;
    super(`Meta error ${codes}: ${fields.message}${where}`);
    this.name = 'GraphApiError';
    this.httpStatus = fields.httpStatus;
    this.code = fields.code;
    this.subcode = fields.subcode;
    this.type = fields.type;
    this.metaMessage = fields.message;
    this.userTitle = fields.userTitle;
    this.userMessage = fields.userMessage;
    this.isTransient = fields.isTransient;
    this.fbtraceId = fields.fbtraceId;
    this.source = fields.source;
    this.method = request?.method;
    this.path = request?.path;
    this.retryAfterMs = undefined;
  }
}

/**
 * No usable answer: a timeout, a reset or a refused connection. `ambiguous` is true when the request was a
 * write (POST/DELETE) that may already have been applied: the caller must reconcile (read back) before any
 * retry, or it risks a second post.
 */
export class GraphNetworkError extends Error {
  readonly method: string;
  readonly path: string;
  readonly timedOut: boolean;
  /** The request may have reached Meta (false only when the connection was never established). */
  readonly requestSent: boolean;
  readonly ambiguous: boolean;

  constructor(input: { method: string; path: string; timedOut: boolean; requestSent: boolean; cause: unknown }) {
    const what = input.timedOut ? 'timed out' : 'failed without an answer';
    super(`Meta request ${input.method} ${input.path} ${what}${input.requestSent ? '' : ' (not sent)'}`, { cause: input.cause });
    this.name = 'GraphNetworkError';
    this.method = input.method;
    this.path = input.path;
    this.timedOut = input.timedOut;
    this.requestSent = input.requestSent;
    this.ambiguous = input.requestSent && input.method !== 'GET';
  }
}

/** Meta answered 2xx, but not in the shape we rely on. Not retried: the same request would answer the same. */
export class GraphResponseError extends Error {
  readonly method: string;
  readonly path: string;
  readonly httpStatus: number;
  readonly issues: readonly string[];

  constructor(input: { method: string; path: string; httpStatus: number; issues: readonly string[] }) {
    super(`Unexpected answer from Meta to ${input.method} ${input.path}: ${input.issues.join('; ')}`);
    this.name = 'GraphResponseError';
    this.method = input.method;
    this.path = input.path;
    this.httpStatus = input.httpStatus;
    this.issues = input.issues;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function int(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  return undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Reads any of Meta's error shapes from a parsed body: Graph's `{error:{message,type,code,error_subcode,...}}`,
 * Instagram Login's `{error_type, code, error_message}` and rupload's `{debug_info:{retriable,type,message}}`.
 * Returns undefined when the body carries no error (a 2xx answer).
 */
export function parseErrorBody(httpStatus: number, body: unknown): GraphApiErrorFields | undefined {
  if (isRecord(body) && isRecord(body.error)) {
    const error = body.error;
    return {
      httpStatus,
      code: int(error.code),
      subcode: int(error.error_subcode),
      type: text(error.type),
      message: text(error.message) ?? 'Unknown error',
      userTitle: text(error.error_user_title),
      userMessage: text(error.error_user_msg),
      isTransient: error.is_transient === true,
      fbtraceId: text(error.fbtrace_id),
      source: 'graph',
    };
  }
  if (isRecord(body) && (text(body.error_type) !== undefined || text(body.error_message) !== undefined)) {
    return {
      httpStatus,
      code: int(body.code),
      subcode: undefined,
      type: text(body.error_type),
      message: text(body.error_message) ?? 'Unknown error',
      userTitle: undefined,
      userMessage: undefined,
      isTransient: false,
      fbtraceId: undefined,
      source: 'instagram-oauth',
    };
  }
  if (isRecord(body) && isRecord(body.debug_info)) {
    const info = body.debug_info;
    return {
      httpStatus,
      code: undefined,
      subcode: undefined,
      type: text(info.type),
      message: text(info.message) ?? 'Upload failed',
      userTitle: undefined,
      userMessage: undefined,
      isTransient: info.retriable === true,
      fbtraceId: undefined,
      source: 'rupload',
    };
  }
  if (httpStatus >= 400) {
    return {
      httpStatus,
      code: undefined,
      subcode: undefined,
      type: undefined,
      message: `HTTP ${httpStatus} without a Meta error body`,
      userTitle: undefined,
      userMessage: undefined,
      isTransient: httpStatus >= 500,
      fbtraceId: undefined,
      source: 'http',
    };
  }
  return undefined;
}
