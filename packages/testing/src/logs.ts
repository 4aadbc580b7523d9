import { Writable } from 'node:stream';

/**
 * A log destination that keeps every line, so a test can assert what a service logged (and what it
 * never logs: tokens, codes, secrets). Use as a pino `stream`.
 */
export function createLogCapture(): { readonly stream: Writable; readonly lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { stream, lines };
}
