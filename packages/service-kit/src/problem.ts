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

export function sendProblem(reply: FastifyReply, problem: ProblemDetails): FastifyReply {
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

function problemFor(error: FastifyError | ProblemError, request: FastifyRequest): ProblemDetails {
  const instance = request.url.split('?')[0];
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

/**
 * Requests Node's HTTP parser refuses (headers over the limit, Content-Length with chunked encoding,
 * an unknown method) never become requests: the answer is written to the socket, as a problem.
 */
function clientErrorHandler(this: FastifyInstance, error: Error & { code?: string }, socket: Socket) {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const title = STATUS_TITLES[status] ?? STATUS_CODES[status] ?? 'Bad Request';
  const detail =
    status === 431 ? 'The request headers are larger than this server accepts.'
    : status === 408 ? 'The request was not completed in time.'
    : 'The request is not valid HTTP/1.1.';
  const body = JSON.stringify({ type: `${PROBLEM_TYPE_BASE}${slug(title)}`, code: slug(title), title, status, detail });
  this.log.debug({ err: error, status }, 'client error');
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

/** The one error handler: logs with request context, hides 5xx details, answers problem+json. */
export const problemPlugin = fp(
  async (fastify: FastifyInstance) => {
    // An absolute-form target (`GET http://host/path`) names another origin; nothing here serves one.
    fastify.addHook('onRequest', async (request) => {
      if (!request.raw.url?.startsWith('/')) {
        throw new ProblemError(400, 'absolute-form-target', 'Bad Request', 'Requests must name a path on this server (origin form).');
      }
    });
    fastify.setErrorHandler((error: FastifyError | ProblemError, request, reply) => {
      const problem = problemFor(error, request);
      if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.info({ status: problem.status, problem: problem.type }, error.message);
      return sendProblem(reply, { ...problem, requestId: request.id });
    });
    fastify.setNotFoundHandler((request, reply) =>
      sendProblem(reply, {
        type: `${PROBLEM_TYPE_BASE}not-found`,
        code: 'not-found',
        title: 'Not Found',
        status: 404,
        detail: `No route for ${request.method} ${request.url.split('?')[0]}`,
        requestId: request.id,
      }),
    );
  },
  { name: '@postwire/problem' },
);
