// Clients of the gateway's live events for tests: an SSE reader on a real socket, a webhook receiver,
// and Standard Webhooks verification written from the specification.
import { createHmac } from 'node:crypto';
import { type IncomingHttpHeaders, type IncomingMessage, type Server, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One received Server-Sent Events message, or a comment line. */
export type SseMessage = { readonly id?: string; readonly event?: string; readonly data?: string; readonly comment?: string };

/**
 * A real SSE client on a real socket (not app.inject, which buffers the whole answer): parses the stream
 * as the EventSource spec says, keeping every message and comment in order.
 */
export async function openStream(url: string, headers: Record<string, string>) {
  const messages: SseMessage[] = [];
  let response: IncomingMessage | undefined;
  let ended = false;
  const outgoing = request(url, { headers: { accept: 'text/event-stream', ...headers } });
  await new Promise<void>((resolve, reject) => {
    outgoing.on('response', (answer) => {
      response = answer;
      let buffer = '';
      answer.setEncoding('utf8');
      answer.on('close', () => {
        ended = true;
      });
      answer.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const message: Record<string, string> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) message.comment = line.slice(1).trim();
            else {
              const colon = line.indexOf(':');
              const field = line.slice(0, colon);
              const value = line.slice(colon + 1).replace(/^ /, '');
              message[field] = field === 'data' && message.data !== undefined ? `${message.data}\n${value}` : value;
            }
          }
          messages.push(message);
          end = buffer.indexOf('\n\n');
        }
      });
      resolve();
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
  return {
    messages,
    status: () => response?.statusCode,
    headers: (): IncomingHttpHeaders => response?.headers ?? {},
    /** The messages that are events (not comments, not the retry line). */
    events: () => messages.filter((message) => message.event !== undefined),
    close: () => outgoing.destroy(),
    /** Whether the server ended the stream. */
    ended: () => ended,
  };
}

export type Received = { readonly headers: IncomingHttpHeaders; readonly body: string; readonly at: number };

/** A local webhook receiver: records every request and answers `status()` (200 unless told otherwise). */
export async function startReceiver() {
  const received: Received[] = [];
  let status = 200;
  const server: Server = createServer((incoming, answer) => {
    let body = '';
    incoming.setEncoding('utf8');
    incoming.on('data', (chunk: string) => (body += chunk));
    incoming.on('end', () => {
      received.push({ headers: incoming.headers, body, at: Date.now() });
      answer.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'receiver is down');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    received,
    answer(next: number) {
      status = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The Standard Webhooks verification, written from the specification alone (not from our signer):
 * the key is the base64 after `whsec_`, the signed content `${id}.${timestamp}.${body}`, the header a
 * space-separated list of `v1,<base64 HMAC-SHA256>`.
 */
export function verifiesPerSpec(secret: string, headers: IncomingHttpHeaders, body: string): boolean {
  const id = String(headers['webhook-id']);
  const timestamp = String(headers['webhook-timestamp']);
  const key = Buffer.from(secret.split('_')[1] ?? '', 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
  return fresh && String(headers['webhook-signature']).split(' ').includes(`v1,${expected}`);
}
