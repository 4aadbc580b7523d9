import { Writable } from 'node:stream';
import pino, { type LoggerOptions, stdSerializers } from 'pino';
import { describe, expect, it } from 'vitest';
import { redactUrl } from '@postwire/core';
import { REDACT_PATHS, loggerOptions } from '../src/index.ts';
import { compileRedaction, parsePath } from '../src/redaction.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const { time: _time, ...line } = JSON.parse(chunk.toString()) as Record<string, unknown>;
      lines.push(line);
      done();
    },
  });
  return { lines, stream };
}

const options = loggerOptions({ service: 'redaction-test', level: 'info' }) as LoggerOptions;
/** What the loggers did before: pino's own redact option over the same paths, Fastify's serializers. */
const referenceOptions: LoggerOptions = {
  level: 'info',
  base: { service: 'redaction-test' },
  messageKey: 'message',
  formatters: { level: (label) => ({ level: label }) },
  redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  serializers: {
    req: (request: { method: string; url: string; ip: string }) => ({ method: request.method, url: redactUrl(request.url), remoteAddress: request.ip }),
    res: (reply: { statusCode: number }) => ({ statusCode: reply.statusCode }),
    err: stdSerializers.err,
  },
};

const request = { method: 'GET', url: '/v1/connect/callback?code=abc&state=xyz', ip: '192.0.2.1', headers: { authorization: 'Bearer secret-token', cookie: 'sid=1' } };
const logged: [string, () => Record<string, unknown>][] = [
  ['a secret at the top', () => ({ token: 'x', other: 1 })],
  ['every secret field at the top', () => ({ access_token: 'a', accessToken: 'b', refresh_token: 'c', code: 'd', password: 'e', secret: 'f', input_token: 'g' })],
  ['a secret one level down', () => ({ data: { token: 'x', keep: 1 } })],
  ['a secret two levels down', () => ({ data: { nested: { password: 'x', keep: true } } })],
  ['a secret three levels down stays (the paths reach two)', () => ({ data: { a: { b: { token: 'deep' } } } })],
  ['secrets in arrays', () => ({ items: [{ token: 'x' }, { keep: 1 }], matrix: [[{ token: 'y' }]] })],
  ['a request, as Fastify logs it', () => ({ req: request })],
  ['a reply', () => ({ res: { statusCode: 201, headers: { 'set-cookie': 'sid=1' } }, responseTime: 1.5 })],
  ['an error carrying a token', () => ({ err: Object.assign(new Error('boom'), { token: 'x', status: 500 }) })],
  ['a plain error', () => ({ err: new Error('plain') })],
  ['headers outside req are not a path', () => ({ headers: { authorization: 'x' } })],
  ['an undefined secret', () => ({ token: undefined, component: 'graph' })],
  ['values that are not objects', () => ({ list: [1, 2, 3], nothing: null, text: 'token', count: 3 })],
  ['a secret under req beside the serializer', () => ({ req: request, body: { code: 'x', caption: 'hi' } })],
];

describe('log redaction, compiled once', () => {
  it.each(logged)('%s: the same line as pino\'s own redaction', (_name, make) => {
    const ours = capture();
    const theirs = capture();
    const object = make();
    pino(options, ours.stream).info(object, 'a message');
    pino(referenceOptions, theirs.stream).info(object, 'a message');
    expect(ours.lines).toEqual(theirs.lines);
  });

  it('redacts in child loggers too, and never changes the object it was given', () => {
    const ours = capture();
    const object = { data: { token: 'x' }, token: 'y' };
    pino(options, ours.stream).child({ userId: 'u-1' }).info(object, 'child');
    expect(ours.lines[0]).toMatchObject({ userId: 'u-1', token: '[redacted]', data: { token: '[redacted]' }, message: 'child' });
    expect(object).toEqual({ data: { token: 'x' }, token: 'y' });
  });

  it('gives back the very object when nothing in it is secret', () => {
    const { redact } = compileRedaction(REDACT_PATHS, '[redacted]');
    const clean = { data: { a: 1 }, list: [{ b: 2 }] };
    expect(redact(clean)).toBe(clean);
    expect(redact('text')).toBe('text');
  });

  it('reads bracketed and dotted paths, and * where both a name and * match', () => {
    expect(parsePath('req.headers["x-hub-signature-256"]')).toEqual(['req', 'headers', 'x-hub-signature-256']);
    expect(parsePath("*.a['b.c']")).toEqual(['*', 'a', 'b.c']);
    const { redact } = compileRedaction(['req.headers.authorization', '*.token', '*.*.secret'], '#');
    expect(redact({ req: { headers: { authorization: 'a', keep: 1 }, token: 't', x: { secret: 's' } } })).toEqual({
      req: { headers: { authorization: '#', keep: 1 }, token: '#', x: { secret: '#' } },
    });
  });
});
