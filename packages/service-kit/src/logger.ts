import type { FastifyRequest, FastifyServerOptions } from 'fastify';

/**
 * Paths pino replaces with "[redacted]" wherever they appear in a log line: credentials in headers,
 * and token-like fields at the first two levels of any logged object.
 */
const REDACTED_FIELDS = [
  'access_token', 'accessToken', 'refresh_token', 'refreshToken', 'token', 'client_secret', 'clientSecret',
  'appsecret_proof', 'password', 'secret', 'code', 'code_verifier', 'fb_exchange_token', 'input_token',
];

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hub-signature-256"]',
  'res.headers["set-cookie"]',
  ...REDACTED_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
];

/** Query parameters whose values never reach a log line (OAuth codes, tokens, secrets). */
const SECRET_QUERY_PARAMETERS = new Set([...REDACTED_FIELDS, 'state', 'hub.verify_token']);

export function redactUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return url;
  const params = new URLSearchParams(url.slice(queryStart + 1));
  for (const key of [...params.keys()]) {
    if (SECRET_QUERY_PARAMETERS.has(key)) params.set(key, '[redacted]');
  }
  return `${url.slice(0, queryStart)}?${params.toString()}`;
}

export type LoggerSettings = { readonly service: string; readonly level: string };

export function loggerOptions(settings: LoggerSettings): FastifyServerOptions['logger'] {
  return {
    level: settings.level,
    base: { service: settings.service },
    messageKey: 'message',
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactUrl(request.url),
        remoteAddress: request.ip,
      }),
    },
  };
}
