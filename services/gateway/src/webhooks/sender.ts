import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isBlockedAddress } from '../domain/outbound-address.ts';

export class BlockedTargetError extends Error {
  constructor(host: string, address: string) {
    super(`${host} resolves to ${address}, a private, loopback or link-local address webhooks may not reach`);
    this.name = 'BlockedTargetError';
  }
}

export type SendResult = { readonly status: number; readonly body: string };

export type SenderOptions = {
  readonly timeoutMs: number;
  /** Lets webhooks reach private and loopback addresses (local receivers in tests and benchmarks only). */
  readonly allowPrivateTargets: boolean;
};

export type WebhookSender = {
  /** POSTs `body`; resolves with any HTTP answer (redirects are not followed), rejects on a network error. */
  send(url: string, headers: Readonly<Record<string, string>>, body: string): Promise<SendResult>;
  close(): void;
};

/** How much of an answer is kept for the delivery log. */
export const MAX_LOGGED_BODY = 1024;

/**
 * The SSRF guard sits in the connection's own lookup: every address the name resolves to is checked,
 * and the socket connects to one of those checked addresses, so a second resolution (DNS rebinding)
 * never decides where we connect. IP literals skip the lookup and are checked before connecting.
 */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const blocked = allowPrivate ? undefined : addresses.find((entry) => isBlockedAddress(entry.address));
      if (blocked) return callback(new BlockedTargetError(hostname, blocked.address), '', 0);
      if (options.all) return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new Error(`${hostname} has no address`), '', 0);
      return callback(null, first.address, first.family);
    });
  };
}

export function createWebhookSender(options: SenderOptions): WebhookSender {
  const lookup = guardedLookup(options.allowPrivateTargets);
  // Kept-alive connections: an endpoint receiving many events pays for its handshake once.
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 50 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 50 }),
  };

  return {
    send(url, headers, body) {
      const target = new URL(url);
      const host = target.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) && !options.allowPrivateTargets && isBlockedAddress(host)) return Promise.reject(new BlockedTargetError(host, host));
      const protocol = target.protocol === 'https:' ? 'https:' : 'http:';
      const request = protocol === 'https:' ? https.request : http.request;
      return new Promise<SendResult>((resolve, reject) => {
        // A timer of our own, cleared on the answer: AbortSignal.timeout costs more CPU than the request
        // itself at fan-out rates (its signal, listeners and abort machinery per request).
        const timer = setTimeout(() => outgoing.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
        const fail = (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        };
        const outgoing = request(
          target,
          {
            method: 'POST',
            agent: agents[protocol],
            lookup,
            headers: { ...headers, 'content-length': Buffer.byteLength(body).toString() },
          },
          (response) => {
            const chunks: Buffer[] = [];
            let kept = 0;
            response.on('data', (chunk: Buffer) => {
              if (kept < MAX_LOGGED_BODY) {
                chunks.push(chunk);
                kept += chunk.length;
              }
            });
            response.on('end', () => {
              clearTimeout(timer);
              resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_LOGGED_BODY) });
            });
            response.on('error', fail);
          },
        );
        outgoing.on('error', fail);
        outgoing.end(body);
      });
    },
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
