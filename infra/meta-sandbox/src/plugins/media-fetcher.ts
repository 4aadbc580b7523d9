import { errors } from '../domain/errors.ts';
import { probeMedia, type MediaProbe } from '../domain/media-bytes.ts';

/**
 * Fetches media URLs the way Meta does: a real HTTP GET with a timeout, then reads size and format.
 * Results are cached per URL when enabled (the bytes are not kept, only what was learnt from them), so a
 * benchmark or a test suite that reuses one URL measures the API, not the media host.
 */
export type FetchedMedia = MediaProbe & { readonly url: string; readonly bytes: number; readonly contentType: string };

export type MediaFetcher = {
  fetch(url: string, options: { timeoutMs: number; cache: boolean }): Promise<FetchedMedia>;
  clear(): void;
};

const HEAD_BYTES = 1 << 20;
const MAX_BYTES = 300 * 1024 * 1024;
const CACHE_ENTRIES = 2_000;

export function createMediaFetcher(): MediaFetcher {
  const cache = new Map<string, Promise<FetchedMedia>>();

  const download = async (url: string, timeoutMs: number): Promise<FetchedMedia> => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw errors.mediaFetchFailed(url, 'not a valid URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw errors.mediaFetchFailed(url, 'only http and https URLs');
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const response = await fetch(parsed, { signal, redirect: 'follow', headers: { 'user-agent': 'facebookexternalhit/1.1 (meta-sandbox)' } });
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        throw errors.mediaFetchFailed(url, `HTTP ${response.status}`);
      }
      const head = new Uint8Array(HEAD_BYTES);
      let headLength = 0;
      let total = 0;
      for await (const chunk of response.body) {
        if (headLength < HEAD_BYTES) {
          const take = chunk.subarray(0, HEAD_BYTES - headLength);
          head.set(take, headLength);
          headLength += take.length;
        }
        total += chunk.length;
        if (total > MAX_BYTES) throw errors.mediaFetchFailed(url, 'larger than 300 MB');
      }
      return {
        url,
        bytes: total,
        contentType: response.headers.get('content-type') ?? '',
        ...probeMedia(head.subarray(0, headLength)),
      };
    } catch (error) {
      if (signal.aborted) throw errors.mediaDownloadTimeout(url);
      if (error instanceof Error && error.name === 'GraphError') throw error;
      throw errors.mediaFetchFailed(url, error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : 'fetch failed');
    }
  };

  return {
    fetch(url, options) {
      if (!options.cache) return download(url, options.timeoutMs);
      const cached = cache.get(url);
      if (cached) return cached;
      const pending = download(url, options.timeoutMs);
      if (cache.size >= CACHE_ENTRIES) {
        const oldest = cache.keys().next();
        if (!oldest.done) cache.delete(oldest.value);
      }
      cache.set(url, pending);
      pending.catch(() => cache.delete(url));
      return pending;
    },
    clear() {
      cache.clear();
    },
  };
}
