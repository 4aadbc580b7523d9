import { type LookupAddress, lookup as dnsLookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import type { MediaItem } from '@postwire/contracts';
import type { Violation } from './validation.ts';

export type MediaProbeSettings = {
  readonly timeoutMs: number;
  /** Plain http URLs (dev and tests); production media is https. */
  readonly allowHttp: boolean;
  /** Private, loopback and link-local hosts (the sandbox's media host is 127.0.0.1 in dev and tests). */
  readonly allowPrivate: boolean;
  readonly maxRedirects: number;
};

export type ProbeOutcome =
  | { readonly ok: true; readonly status: number; readonly contentType: string | undefined }
  | { readonly ok: false; readonly code: 'media-url-refused' | 'media-unreachable' | 'media-content-type'; readonly message: string };

// Where a URL a user typed must never make this service connect: the publisher runs inside the network, so a
// media URL naming an internal address would turn the probe into a way to scan it (SSRF).
// Two lists: BlockList matches an IPv4 address against IPv4-mapped IPv6 rules too, and ::ffff:0:0/96 covers all of them.
const BLOCKED_V4 = new BlockList();
const BLOCKED_V6 = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED_V4.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32],
  // IPv4-mapped and NAT64 addresses can point at any IPv4 address, private ones included.
  ['::ffff:0:0', 96], ['64:ff9b::', 96],
] as const) BLOCKED_V6.addSubnet(network, prefix, 'ipv6');

/** True for loopback, private, link-local, shared, documentation, multicast and reserved addresses. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return family === 4 ? BLOCKED_V4.check(address, 'ipv4') : BLOCKED_V6.check(address, 'ipv6');
}

/** Whether an answer's content type fits the item: image/* or video/*, the item's own kind when it says one. */
export function contentTypeFits(contentType: string | undefined, expected: MediaItem['mediaType'] | undefined): boolean {
  if (contentType === undefined) return true;
  const kind = /^\s*(image|video)\//i.exec(contentType)?.[1]?.toLowerCase();
  if (kind === undefined) return false;
  return expected === undefined || kind === expected;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

class RefusedAddressError extends Error {
  override readonly name = 'RefusedAddressError';
}

type Answer = { readonly status: number; readonly location: string | undefined; readonly contentType: string | undefined };

/** Every address a name resolves to is checked, and the connection goes to a checked one (no second lookup to rebind). */
function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: { family?: number | string; all?: boolean }, callback: (...args: unknown[]) => void) => {
    const family = options.family === 'IPv6' ? 6 : options.family === 'IPv4' ? 4 : typeof options.family === 'number' ? options.family : 0;
    dnsLookup(hostname, { all: true, family }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error);
      const refused = allowPrivate ? undefined : addresses.find((entry) => isPrivateAddress(entry.address));
      if (refused !== undefined || addresses.length === 0) return callback(new RefusedAddressError(`${hostname} resolves to a private address`));
      if (options.all) return callback(null, addresses);
      const first = addresses[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}

function send(url: URL, method: 'HEAD' | 'GET', settings: MediaProbeSettings): Promise<Answer> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      url,
      {
        method,
        headers: { 'user-agent': 'postwire-media-probe/1', ...(method === 'GET' ? { range: 'bytes=0-0' } : {}) },
        lookup: guardedLookup(settings.allowPrivate) as unknown as NonNullable<http.RequestOptions['lookup']>,
        signal: AbortSignal.timeout(settings.timeoutMs),
      },
      (response) => {
        const header = response.headers['content-type'];
        resolve({ status: response.statusCode ?? 0, location: response.headers.location, contentType: header });
        // Only the status and headers matter: a server that ignores the range would send the whole file.
        response.destroy();
      },
    );
    request.on('error', reject);
    request.end();
  });
}

function refusal(url: URL, settings: MediaProbeSettings): string | undefined {
  const schemeAllowed = url.protocol === 'https:' || (settings.allowHttp && url.protocol === 'http:');
  if (!schemeAllowed) return settings.allowHttp ? 'must be an http(s) URL' : 'must be an https URL';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // A literal address connects without a lookup, so it is checked here.
  if (!settings.allowPrivate && isIP(host) !== 0 && isPrivateAddress(host)) return 'points at a private address';
  return undefined;
}

function failureOf(error: unknown, settings: MediaProbeSettings): ProbeOutcome {
  if (error instanceof RefusedAddressError) return { ok: false, code: 'media-url-refused', message: 'points at a private address' };
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return { ok: false, code: 'media-unreachable', message: `did not answer within ${settings.timeoutMs} ms` };
  }
  const code = error instanceof Error && 'code' in error ? String(error.code) : 'error';
  return { ok: false, code: 'media-unreachable', message: `could not be fetched (${code})` };
}

/**
 * Checks that a media URL answers now: a HEAD (a GET of the first byte where HEAD is refused), a 2xx or 206, a
 * content type that fits, at most `maxRedirects` redirects each checked again. Meta fetches the URL later; a
 * URL that fails here would fail there, after the user was told the post was accepted.
 */
export async function probeMediaUrl(url: string, expected: MediaItem['mediaType'] | undefined, settings: MediaProbeSettings): Promise<ProbeOutcome> {
  let current: URL;
  try {
    current = new URL(url);
  } catch {
    return { ok: false, code: 'media-url-refused', message: 'is not a URL' };
  }
  for (let redirects = 0; ; redirects += 1) {
    const refused = refusal(current, settings);
    if (refused !== undefined) return { ok: false, code: 'media-url-refused', message: refused };
    let answer: Answer;
    try {
      answer = await send(current, 'HEAD', settings);
      if (answer.status >= 400) answer = await send(current, 'GET', settings);
    } catch (error) {
      return failureOf(error, settings);
    }
    if (REDIRECTS.has(answer.status) && answer.location !== undefined) {
      if (redirects >= settings.maxRedirects) return { ok: false, code: 'media-unreachable', message: `redirects more than ${settings.maxRedirects} times` };
      current = new URL(answer.location, current);
      continue;
    }
    if (answer.status < 200 || answer.status > 299) return { ok: false, code: 'media-unreachable', message: `answered HTTP ${answer.status}` };
    if (!contentTypeFits(answer.contentType, expected)) {
      return { ok: false, code: 'media-content-type', message: `is ${answer.contentType ?? 'unknown'}, not ${expected ?? 'an image or video'}` };
    }
    return { ok: true, status: answer.status, contentType: answer.contentType };
  }
}

/** Probes every item of a post at once; each failure is a violation on `media[i].url`. The engine calls it again before publishing. */
export async function probePostMedia(media: readonly MediaItem[], settings: MediaProbeSettings): Promise<Violation[]> {
  const outcomes = await Promise.all(media.map((item) => probeMediaUrl(item.url, item.mediaType, settings)));
  return outcomes.flatMap((outcome, index) =>
    outcome.ok ? [] : [{ field: `media[${index}].url`, code: outcome.code, message: `the media URL ${outcome.message}` }],
  );
}
