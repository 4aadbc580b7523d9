import { SECRET_FIELDS, redactUrl } from '@postwire/core';
import type { FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { stdSerializers } from 'pino';
import { compileRedaction } from './redaction.ts';

/**
 * Paths replaced with "[redacted]" wherever they appear in a log line: credentials in headers,
 * and token-like fields at the first two levels of any logged object.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hub-signature-256"]',
  'res.headers["set-cookie"]',
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
];

export const REDACT_CENSOR = '[redacted]';

export type LoggerSettings = { readonly service: string; readonly level: string };

// Compiled once per process. Not pino's `redact` option: that one re-reads its paths on every call, for every
// logged object and every child logger's bindings (see redaction.ts). Bindings are ids the code chose, not
// caller data; what callers send is logged as objects, and those pass through here.
const redaction = compileRedaction(REDACT_PATHS, REDACT_CENSOR);
function afterSerializer<Input, Output>(key: string, serialize: (value: Input) => Output): (value: Input) => Output {
  const redact = redaction.under(key);
  // A censored copy has the serializer's shape, with strings where secrets were.
  return (value) => redact(serialize(value)) as Output;
}
// Fastify's three plus ours for req; each one's output is redacted as the value under its key.
const serializers = {
  req: afterSerializer('req', (request: FastifyRequest) => ({ method: request.method, url: redactUrl(request.url), remoteAddress: request.ip })),
  res: afterSerializer('res', (reply: Pick<FastifyReply, 'statusCode'>) => ({ statusCode: reply.statusCode })),
  err: afterSerializer('err', stdSerializers.err),
};

/** The logged object's other fields: no serializer reshapes them, so they are redacted as they are. */
function redactFields(object: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(object)) {
    if (key in serializers) continue;
    const original = object[key];
    const replaced = redaction.at(key, original);
    if (replaced !== original) (copy ??= { ...object })[key] = replaced;
  }
  return copy ?? object;
}

export function loggerOptions(settings: LoggerSettings): FastifyServerOptions['logger'] {
  return {
    level: settings.level,
    base: { service: settings.service },
    messageKey: 'message',
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }), log: redactFields },
    serializers,
  };
}
