import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMetaSandbox } from '@postwire/testing';
import { type MediaProbeSettings, probeMediaUrl, probePostMedia } from '../src/domain/media-probe.ts';

describe('media probe against the sandbox’s media host', () => {
  let sandbox: Awaited<ReturnType<typeof startMetaSandbox>>;
  // Redirects and HEAD refusals, which the sandbox's media host does not do: a plain HTTP server that redirects
  // /hop/n n more times to the sandbox's JPEG, /to-file to a file: URL, and refuses HEAD on /no-head.
  let hops: Server;
  let hopsUrl: string;
  const local: MediaProbeSettings = { timeoutMs: 1_000, allowHttp: true, allowPrivate: true, maxRedirects: 3 };

  beforeAll(async () => {
    sandbox = await startMetaSandbox();
    hops = createServer((request, response) => {
      const hop = /^\/hop\/(\d+)$/.exec(request.url ?? '');
      if (hop) {
        const left = Number(hop[1]);
        response.writeHead(302, { location: left > 1 ? `/hop/${left - 1}` : `${sandbox.baseUrl}/_sandbox/media/sample.jpg` }).end();
        return;
      }
      if (request.url === '/to-file') {
        response.writeHead(301, { location: 'file:///etc/passwd' }).end();
        return;
      }
      if (request.url === '/no-head') {
        if (request.method === 'HEAD') response.writeHead(405).end();
        else response.writeHead(request.headers.range === 'bytes=0-0' ? 206 : 200, { 'content-type': 'video/mp4' }).end('x');
        return;
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => hops.listen(0, '127.0.0.1', resolve));
    hopsUrl = `http://127.0.0.1:${(hops.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => hops?.close(resolve));
    await sandbox?.close();
  });

  const media = (path: string) => `${sandbox.baseUrl}/_sandbox/media/${path}`;

  it('a JPEG that answers is fine; its type must fit the item', async () => {
    expect(await probeMediaUrl(media('sample.jpg'), 'image', local)).toEqual({ ok: true, status: 200, contentType: 'image/jpeg' });
    expect(await probeMediaUrl(media('sample.mp4?seconds=2'), 'video', local)).toMatchObject({ ok: true, contentType: 'video/mp4' });
    expect(await probeMediaUrl(media('sample.jpg'), 'video', local)).toEqual({ ok: false, code: 'media-content-type', message: 'is image/jpeg, not video' });
  });

  it('a status that is not 2xx, or an answer slower than the timeout, is unreachable', async () => {
    expect(await probeMediaUrl(media('status/404'), 'image', local)).toEqual({ ok: false, code: 'media-unreachable', message: 'answered HTTP 404' });
    expect(await probeMediaUrl(media('status/503'), 'image', local)).toEqual({ ok: false, code: 'media-unreachable', message: 'answered HTTP 503' });
    const started = Date.now();
    expect(await probeMediaUrl(media('sample.jpg?delay_ms=5000'), 'image', local)).toEqual({ ok: false, code: 'media-unreachable', message: 'did not answer within 1000 ms' });
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('falls back to a one-byte range GET where HEAD is refused', async () => {
    expect(await probeMediaUrl(`${hopsUrl}/no-head`, 'video', local)).toEqual({ ok: true, status: 206, contentType: 'video/mp4' });
  });

  it('follows at most 3 redirects, each checked again', async () => {
    expect(await probeMediaUrl(`${hopsUrl}/hop/3`, 'image', local)).toMatchObject({ ok: true, contentType: 'image/jpeg' });
    expect(await probeMediaUrl(`${hopsUrl}/hop/4`, 'image', local)).toEqual({ ok: false, code: 'media-unreachable', message: 'redirects more than 3 times' });
    // A redirect's target is checked like the first URL (here its scheme; its address is checked the same way).
    expect(await probeMediaUrl(`${hopsUrl}/to-file`, 'image', local)).toEqual({ ok: false, code: 'media-url-refused', message: 'must be an http(s) URL' });
  });

  it('refuses private and loopback hosts unless allowed, literal or by name (every resolved address is checked)', async () => {
    const publicOnly = { ...local, allowPrivate: false };
    expect(await probeMediaUrl(media('sample.jpg'), 'image', publicOnly)).toEqual({ ok: false, code: 'media-url-refused', message: 'points at a private address' });
    const byName = media('sample.jpg').replace('127.0.0.1', 'localhost');
    expect(await probeMediaUrl(byName, 'image', publicOnly)).toEqual({ ok: false, code: 'media-url-refused', message: 'points at a private address' });
    expect(await probeMediaUrl(byName, 'image', local)).toMatchObject({ ok: true });
    expect(await probeMediaUrl(media('sample.jpg'), 'image', { ...local, allowHttp: false })).toEqual({ ok: false, code: 'media-url-refused', message: 'must be an https URL' });
  });

  it('a post’s media are probed together, each failure a violation on its own item', async () => {
    const violations = await probePostMedia(
      [
        { position: 0, mediaType: 'image', url: media('sample.jpg') },
        { position: 1, mediaType: 'image', url: media('status/404') },
        { position: 2, mediaType: 'video', url: media('sample.jpg') },
      ],
      local,
    );
    expect(violations).toEqual([
      { field: 'media[1].url', code: 'media-unreachable', message: 'the media URL answered HTTP 404' },
      { field: 'media[2].url', code: 'media-content-type', message: 'the media URL is image/jpeg, not video' },
    ]);
  });
});
