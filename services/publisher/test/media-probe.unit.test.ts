import { describe, expect, it } from 'vitest';
import { contentTypeFits, isPrivateAddress, probeMediaUrl } from '../src/domain/media-probe.ts';

describe('media probe: address guard', () => {
  it.each([
    '127.0.0.1', '127.255.0.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
    '224.0.0.1', '255.255.255.255', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '64:ff9b::a00:1', 'not-an-ip',
  ])('%s is refused', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(['8.8.8.8', '172.32.0.1', '172.15.255.255', '100.128.0.1', '157.240.1.35', '2a03:2880:f10c:83:face:b00c:0:25de'])('%s is public', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });
});

describe('media probe: content type', () => {
  it('takes image/* or video/*, the item’s own kind when it says one, and no header at all', () => {
    expect(contentTypeFits('image/jpeg', 'image')).toBe(true);
    expect(contentTypeFits('Video/MP4; codecs=avc1', 'video')).toBe(true);
    expect(contentTypeFits('image/png', undefined)).toBe(true);
    expect(contentTypeFits(undefined, 'video')).toBe(true);
    expect(contentTypeFits('image/jpeg', 'video')).toBe(false);
    expect(contentTypeFits('video/mp4', 'image')).toBe(false);
    expect(contentTypeFits('text/html', undefined)).toBe(false);
    expect(contentTypeFits('application/octet-stream', 'image')).toBe(false);
  });
});

describe('media probe: refused before any connection', () => {
  const settings = { timeoutMs: 1000, allowHttp: false, allowPrivate: false, maxRedirects: 3 };
  it('refuses http unless allowed, other schemes always, and literal private addresses', async () => {
    expect(await probeMediaUrl('http://cdn.example/a.jpg', 'image', settings)).toEqual({ ok: false, code: 'media-url-refused', message: 'must be an https URL' });
    expect(await probeMediaUrl('ftp://cdn.example/a.jpg', 'image', { ...settings, allowHttp: true })).toEqual({ ok: false, code: 'media-url-refused', message: 'must be an http(s) URL' });
    expect(await probeMediaUrl('https://10.0.0.7/a.jpg', 'image', settings)).toEqual({ ok: false, code: 'media-url-refused', message: 'points at a private address' });
    expect(await probeMediaUrl('https://[::1]/a.jpg', 'image', settings)).toEqual({ ok: false, code: 'media-url-refused', message: 'points at a private address' });
    expect(await probeMediaUrl('nonsense', 'image', settings)).toEqual({ ok: false, code: 'media-url-refused', message: 'is not a URL' });
  });
});
