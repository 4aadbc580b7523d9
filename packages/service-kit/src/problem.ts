import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';

/** RFC 9457 problem details: the body of every error answer. */
export type ProblemDetails = {
  readonly type: string;
  /** The last segment of `type`: a stable kebab-case code a client can switch on. */
  readonly code?: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  /**
   * This occurrence: the request's path (no query string, which may carry secrets such as an OAuth
   * `code`). Always set on an answer; when no path can be read (a request line Node's parser refused),
   * a fresh `urn:uuid:` that the log line of the refusal names too.
   */
  readonly instance?: string;
  readonly [extension: string]: unknown;
};

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const PROBLEM_TYPE_BASE = 'https://postwire.dev/problems/';

/** An error a handler throws on purpose: it becomes exactly this problem answer. */
export class ProblemError extends Error {
  readonly status: number;
  readonly problemType: string;
  readonly title: string;
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(
    status: number,
    problemType: string,
    title: string,
    detail?: string,
    extensions: Readonly<Record<string, unknown>> = {},
  ) {
    super(detail ?? title);
    this.name = 'ProblemError';
    this.status = status;
    this.problemType = problemType;
    this.title = title;
    this.extensions = extensions;
  }
}

const STATUS_TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 408: 'Request Timeout', 409: 'Conflict', 413: 'Content Too Large', 414: 'URI Too Long',
  415: 'Unsupported Media Type', 422: 'Unprocessable Content', 431: 'Request Header Fields Too Large', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/** Answers `problem` as application/problem+json, its `instance` the request's path unless it names one. */
export function sendProblem(reply: FastifyReply, problem: ProblemDetails): FastifyReply {
  return reply
    .code(problem.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send({ ...problem, instance: problem.instance ?? pathOf(reply.request.url) });
}

/** The path of a request target, without its query string. */
function pathOf(url: string): string {
  const end = url.indexOf('?');
  return end === -1 ? url : url.slice(0, end);
}

function problemFor(error: FastifyError | ProblemError, request: FastifyRequest): ProblemDetails {
  const instance = pathOf(request.url);
  if (error instanceof ProblemError) {
    return {
      type: `${PROBLEM_TYPE_BASE}${error.problemType}`,
      code: error.problemType,
      title: error.title,
      status: error.status,
      detail: error.message,
      instance,
      ...error.extensions,
    };
  }
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const maxBytes = request.routeOptions.bodyLimit;
    return {
      type: `${PROBLEM_TYPE_BASE}payload-too-large`,
      code: 'payload-too-large',
      title: 'Content Too Large',
      status: 413,
      detail: `The request body is larger than the ${maxBytes} bytes this operation takes.`,
      instance,
      maxBytes,
    };
  }
  if (error.validation) {
    return {
      type: `${PROBLEM_TYPE_BASE}invalid-request`,
      code: 'invalid-request',
      title: 'Invalid request',
      status: 400,
      detail: error.message,
      instance,
      errors: error.validation.map((issue) => ({
        location: error.validationContext ?? 'body',
        path: issue.instancePath || '/',
        field: fieldOf(issue),
        code: issueCode(issue),
        message: issue.message ?? 'is invalid',
      })),
    };
  }
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
  const title = STATUS_TITLES[status] ?? 'Error';
  return {
    type: status >= 500 ? 'about:blank' : `${PROBLEM_TYPE_BASE}${slug(title)}`,
    code: slug(title),
    title,
    status,
    // Server-side details stay in the log; the caller gets the status and a request reference.
    ...(status < 500 ? { detail: error.message } : {}),
    instance,
  };
}

type ValidationIssue = NonNullable<FastifyError['validation']>[number];

/**
 * The wrong field as a caller names it (`media[1].altText`); for unknown fields, the fields themselves.
 * Zod issues arrive with their own keys in `params` (fastify-type-provider-zod), AJV's with its own.
 */
function fieldOf(issue: ValidationIssue): string {
  const segments = (issue.instancePath || '').split('/').filter((segment) => segment !== '');
  const keys = (issue.params as { keys?: unknown }).keys;
  if (Array.isArray(keys) && keys.every((key) => typeof key === 'string')) segments.push(keys.join(','));
  return segments.reduce((field, segment) => (/^[0-9]+$/.test(segment) ? `${field}[${segment}]` : field ? `${field}.${segment}` : segment), '');
}

/** A stable kebab-case code: one a schema chose (`params.code` of a custom issue), else the validator's keyword. */
function issueCode(issue: ValidationIssue): string {
  const chosen = (issue.params as { params?: { code?: unknown } }).params?.code;
  if (typeof chosen === 'string' && /^[a-z0-9-]{1,64}$/.test(chosen)) return chosen;
  // too_big (zod), maxLength (AJV): both kebab-case.
  return issue.keyword.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/[^A-Za-z0-9]+/g, '-').toLowerCase();
}

function slug(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

/**
 * Errors Fastify raises before a request reaches a route (bad percent-encoding, an over-long path
 * parameter) bypass the error handler; this factory option answers them as problems too.
 */
const frameworkErrors = (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
  const status = error.statusCode === 414 ? 414 : 400;
  request.log.info({ status, code: error.code }, 'request refused before routing');
  return sendProblem(reply, {
    type: `${PROBLEM_TYPE_BASE}${status === 414 ? 'uri-too-long' : 'bad-url'}`,
    code: status === 414 ? 'uri-too-long' : 'bad-url',
    title: STATUS_TITLES[status] ?? 'Bad Request',
    status,
    detail: status === 414 ? 'A part of the path is longer than any valid value.' : 'The path is not validly percent-encoded.',
    requestId: request.id,
  });
};

/** The path of the request line in what the parser refused, when it got that far. */
function requestPathOf(error: Error & { rawPacket?: unknown }): string | undefined {
  if (!Buffer.isBuffer(error.rawPacket)) return undefined;
  const target = /^[A-Z]{1,20} (\/[^\s?]{0,2048})[^\s]* HTTP\/1\.[01]\r\n/.exec(error.rawPacket.subarray(0, 2200).toString('latin1'))?.[1];
  return target;
}

/**
 * Requests Node's HTTP parser refuses (headers over the limit, Content-Length with chunked encoding,
 * an unknown method) never become requests: the answer is written to the socket, as a problem.
 */
function clientErrorHandler(this: FastifyInstance, error: Error & { code?: string; rawPacket?: unknown }, socket: Socket) {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const title = STATUS_TITLES[status] ?? STATUS_CODES[status] ?? 'Bad Request';
  const detail =
    status === 431 ? 'The request headers are larger than this server accepts.'
    : status === 408 ? 'The request was not completed in time.'
    : 'The request is not valid HTTP/1.1.';
  const instance = requestPathOf(error) ?? `urn:uuid:${randomUUID()}`;
  const body = JSON.stringify({ type: `${PROBLEM_TYPE_BASE}${slug(title)}`, code: slug(title), title, status, detail, instance });
  this.log.debug({ err: error, status, instance }, 'client error');
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? title}\r\nConnection: close\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** Fastify factory options every Postwire server is built with, so no error escapes as anything but a problem. */
export const problemServerOptions = { frameworkErrors, clientErrorHandler } satisfies Partial<FastifyServerOptions>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The media types a route answers with (its errors are problem+json whatever the caller accepts).
     * Default: application/json for a route whose schema declares responses; unchecked otherwise.
     */
    readonly produces?: readonly string[];
  }
}

/** One media range of an Accept header, lower-cased, with its weight. */
type MediaRange = { readonly type: string; readonly subtype: string; readonly q: number };

function mediaRanges(accept: string): MediaRange[] {
  return accept.split(',').flatMap((part) => {
    const [range = '', ...parameters] = part.split(';');
    const [type, subtype] = range.trim().toLowerCase().split('/');
    if (!type || !subtype) return [];
    const weight = parameters.map((parameter) => /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(parameter)?.[1]).find((value) => value !== undefined);
    const q = weight === undefined ? 1 : Number(weight);
    return [{ type, subtype, q: Number.isFinite(q) ? q : 0 }];
  });
}

/** Whether an Accept header takes any of `produced` (RFC 9110 §12.5.1: a range of weight 0 refuses). */
export function acceptsAny(accept: string, produced: readonly string[]): boolean {
  const ranges = mediaRanges(accept);
  return produced.some((mediaType) => {
    const [type = '', subtype = ''] = mediaType.toLowerCase().split(';')[0]?.trim().split('/') ?? [];
    // The most specific range that matches decides.
    const matching = ranges
      .filter((range) => (range.type === '*' || range.type === type) && (range.subtype === '*' || range.subtype === subtype))
      .sort((a, b) => specificity(b) - specificity(a));
    return (matching[0]?.q ?? 0) > 0;
  });
}

function specificity(range: MediaRange): number {
  return (range.type === '*' ? 0 : 2) + (range.subtype === '*' ? 0 : 1);
}

/**
 * The routes' paths, to tell a wrong method on a known path (405 with Allow) from an unknown path
 * (404). Fastify's router answers both as "not found"; this looks only then, so routing stays as fast.
 */
function createRouteBook() {
  const routes: { readonly segments: readonly string[]; readonly methods: Set<string> }[] = [];
  const byUrl = new Map<string, Set<string>>();
  const segmentsOf = (path: string) => path.split('/').slice(1);
  return {
    add(url: string, methods: string | readonly string[]) {
      let known = byUrl.get(url);
      if (!known) {
        known = new Set();
        byUrl.set(url, known);
        routes.push({ segments: segmentsOf(url), methods: known });
      }
      for (const method of typeof methods === 'string' ? [methods] : methods) known.add(method.toUpperCase());
    },
    /** The methods some route answers on `path`, sorted; empty when no route has this path. */
    allowed(path: string): string[] {
      const actual = segmentsOf(path);
      const methods = new Set<string>();
      for (const route of routes) {
        if (matches(route.segments, actual)) for (const method of route.methods) methods.add(method);
      }
      return [...methods].sort();
    },
  };
}

/** A route's segments against a path's: a parameter (`:id`, `:a-:b`) takes any non-empty segment, `*` the rest. */
function matches(pattern: readonly string[], actual: readonly string[]): boolean {
  for (let index = 0; index < pattern.length; index += 1) {
    const segment = pattern[index] ?? '';
    if (segment === '*') return true;
    const value = actual[index];
    if (value === undefined) return false;
    if (segment.includes(':') ? value === '' : segment !== value) return false;
  }
  return pattern.length === actual.length;
}

/**
 * The one error handler: logs with request context, hides 5xx details, answers problem+json. Also the
 * protocol's own refusals as problems: 404 for an unknown path, 405 with `Allow` for a known path and a
 * method it does not take, 406 when the caller accepts none of what the route answers with.
 */
export const problemPlugin = fp(
  async (fastify: FastifyInstance) => {
    const routeBook = createRouteBook();
    fastify.addHook('onRoute', (route) => routeBook.add(route.url, route.method));
    // An absolute-form target (`GET http://host/path`) names another origin; nothing here serves one.
    fastify.addHook('onRequest', async (request) => {
      if (!request.raw.url?.startsWith('/')) {
        throw new ProblemError(400, 'absolute-form-target', 'Bad Request', 'Requests must name a path on this server (origin form).');
      }
      const accept = request.headers.accept;
      // Most callers send nothing or */*: nothing to check. An empty Accept says no more than none.
      if (accept === undefined || accept === '*/*' || accept.trim() === '') return;
      const { config, schema } = request.routeOptions;
      const produced = config.produces ?? (schema?.response ? ['application/json'] : undefined);
      if (produced && !acceptsAny(accept, produced)) {
        throw new ProblemError(406, 'not-acceptable', 'Not Acceptable', `This resource is available as ${produced.join(' or ')}; errors as ${PROBLEM_CONTENT_TYPE}.`, {
          available: produced,
        });
      }
    });
    fastify.setErrorHandler((error: FastifyError | ProblemError, request, reply) => {
      const problem = problemFor(error, request);
      if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.info({ status: problem.status, problem: problem.type }, error.message);
      return sendProblem(reply, { ...problem, requestId: request.id });
    });
    fastify.setNotFoundHandler((request, reply) => {
      const path = pathOf(request.url);
      const allowed = routeBook.allowed(path);
      if (allowed.length > 0) {
        reply.header('allow', allowed.join(', '));
        return sendProblem(reply, {
          type: `${PROBLEM_TYPE_BASE}method-not-allowed`,
          code: 'method-not-allowed',
          title: 'Method Not Allowed',
          status: 405,
          detail: `${path} does not take ${request.method}; it takes ${allowed.join(', ')}.`,
          requestId: request.id,
        });
      }
      return sendProblem(reply, {
        type: `${PROBLEM_TYPE_BASE}not-found`,
        code: 'not-found',
        title: 'Not Found',
        status: 404,
        detail: `No route for ${request.method} ${path}`,
        requestId: request.id,
      });
    });
  },
  { name: '@postwire/problem' },
);
