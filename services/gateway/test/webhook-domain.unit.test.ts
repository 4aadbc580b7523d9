import { describe, expect, it } from 'vitest';
import { isBlockedAddress, v6Groups } from '../src/domain/outbound-address.ts';
import { MAX_ATTEMPTS, RETRY_DELAYS_MS, disableReason, isDeliveredStatus, retryDelayMs } from '../src/domain/webhook-retry.ts';
import { generateWebhookSecret, secretKey, signWebhook, verifyWebhook } from '../src/domain/webhook-signature.ts';

describe('webhook signatures (Standard Webhooks)', () => {
  // The specification's own example.
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const timestamp = 1614265330;
  const body = '{"test": 2432232314}';

  it('signs id.timestamp.body with HMAC-SHA256 of the secret bytes, as the specification example says', () => {
    expect(signWebhook(secret, id, timestamp, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies its own signature among several, within the tolerance only', () => {
    const signature = signWebhook(secret, id, timestamp, body);
    const message = { id, timestampSeconds: timestamp, body, signatureHeader: `v1,bm9wZQ== ${signature}` };
    expect(verifyWebhook(secret, message, timestamp)).toBe(true);
    expect(verifyWebhook(secret, message, timestamp + 300)).toBe(true);
    expect(verifyWebhook(secret, message, timestamp + 301)).toBe(false);
    expect(verifyWebhook(secret, message, timestamp - 301)).toBe(false);
    expect(verifyWebhook(secret, { ...message, body: `${body} ` }, timestamp)).toBe(false);
    expect(verifyWebhook(secret, { ...message, signatureHeader: 'v1,bm9wZQ==' }, timestamp)).toBe(false);
  });

  it('generates whsec_ secrets of 32 random bytes', () => {
    const generated = generateWebhookSecret();
    expect(generated).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secretKey(generated)).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(generated);
  });

  it('accepts secrets of 24 to 64 bytes of strict base64 after whsec_, and nothing else', () => {
    const of = (bytes: number) => `whsec_${Buffer.alloc(bytes, 1).toString('base64')}`;
    expect(secretKey(of(23))).toBeNull();
    expect(secretKey(of(24))).toEqual(Buffer.alloc(24, 1));
    expect(secretKey(of(64))).toEqual(Buffer.alloc(64, 1));
    expect(secretKey(of(65))).toBeNull();
    expect(secretKey(of(32).replace('whsec_', 'whsk_'))).toBeNull();
    expect(secretKey(`${of(32)}=`)).toBeNull();
    expect(secretKey(`whsec_${'A'.repeat(42)}=`)).toBeNull();
    expect(secretKey(`whsec_${'A'.repeat(43)}-`)).toBeNull();
    expect(() => signWebhook('whsec_short', id, timestamp, body)).toThrow(/not a webhook secret/);
  });
});

describe('webhook retries', () => {
  it('follows the Standard Webhooks schedule, which spans more than a day', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((failed) => retryDelayMs(failed))).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(retryDelayMs(8)).toBeNull();
    expect(MAX_ATTEMPTS).toBe(8);
    expect(RETRY_DELAYS_MS.reduce((sum, delay) => sum + delay, 0)).toBeGreaterThan(24 * 3_600_000);
  });

  it('scales the schedule and refuses a count that is not a positive integer', () => {
    expect(retryDelayMs(2, 0.001)).toBe(300);
    expect(retryDelayMs(1, 0.0001)).toBe(1);
    expect(() => retryDelayMs(0)).toThrow(RangeError);
    expect(() => retryDelayMs(1.5)).toThrow('failedAttempts must be a positive integer, got 1.5');
  });

  it('counts any 2xx as delivered, and nothing else', () => {
    expect([199, 200, 204, 299, 300, 301, 404, 500].map(isDeliveredStatus)).toEqual([false, true, true, true, false, false, false, false]);
  });

  it('disables an endpoint only when both the failure count and the failing time reach the policy', () => {
    const policy = { afterFailures: 8, afterMs: 60_000 };
    const since = new Date('2026-03-08T10:00:00.000Z');
    const at = (ms: number) => new Date(since.getTime() + ms);
    expect(disableReason({ consecutiveFailures: 7, failingSince: since }, at(60_000), policy)).toBeNull();
    expect(disableReason({ consecutiveFailures: 8, failingSince: since }, at(59_999), policy)).toBeNull();
    expect(disableReason({ consecutiveFailures: 8, failingSince: since }, at(60_000), policy)).toBe(
      '8 delivery attempts failed in a row since 2026-03-08T10:00:00.000Z',
    );
  });
});

describe('the SSRF guard', () => {
  it('blocks private, loopback, link-local, shared, reserved and multicast IPv4 addresses, at their edges', () => {
    const blocked = ['0.0.0.0', '0.255.255.255', '10.0.0.1', '10.255.255.255', '100.64.0.0', '100.127.255.255', '127.0.0.1', '169.254.169.254', '172.16.0.1', '172.31.255.255', '192.0.0.8', '192.0.2.1', '192.88.99.1', '192.168.1.1', '198.18.0.1', '198.19.255.255', '198.51.100.7', '203.0.113.9', '224.0.0.1', '255.255.255.255'];
    const allowed = ['1.1.1.1', '9.255.255.255', '11.0.0.0', '100.63.255.255', '100.128.0.0', '172.15.255.255', '172.32.0.0', '192.167.255.255', '192.169.0.0', '198.17.255.255', '198.20.0.0', '223.255.255.255', '93.184.216.34'];
    expect(blocked.filter((address) => !isBlockedAddress(address))).toEqual([]);
    expect(allowed.filter((address) => isBlockedAddress(address))).toEqual([]);
  });

  it('blocks loopback, unspecified, unique-local, link-local, multicast and documentation IPv6, and IPv4 hidden in IPv6', () => {
    const blocked = [
      '::1', '::', '::2', '::8.8.8.8', '0:1:0:0:0:ffff:808:808', 'fc00::1', 'fdff::1', 'fe80::1', 'febf::1', 'FE80::1', 'ff02::1', '2001:db8::1',
      '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.10.100.200', '64:ff9b::a00:1', '2002:c0a8:101::1', 'fe80::1%eth0',
    ];
    const allowed = [
      '2606:4700:4700::1111', '2a00:1450:4001::200e', '::ffff:8.8.8.8', '::ffff:100.128.200.10', '64:ff9b::808:808', '64:1::7f00:1',
      '65:ff9b::7f00:1', '2002:808:808::1', 'fec0::1', '2001:db9::1', '2002:db8::1', '2001:4860::8888',
    ];
    expect(blocked.filter((address) => !isBlockedAddress(address))).toEqual([]);
    expect(allowed.filter((address) => isBlockedAddress(address))).toEqual([]);
  });

  it('treats anything that is not an IP address as blocked', () => {
    expect(isBlockedAddress('localhost')).toBe(true);
    expect(isBlockedAddress('')).toBe(true);
  });

  it('expands IPv6 text to its eight groups', () => {
    expect(v6Groups('2001:db8::1')).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    expect(v6Groups('::ffff:192.168.1.1')).toEqual([0, 0, 0, 0, 0, 0xffff, 0xc0a8, 0x101]);
    expect(v6Groups('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(v6Groups('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(v6Groups('::ffff:10.10.100.200')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0a0a, 0x64c8]);
    expect(v6Groups('FE80::A')).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 10]);
  });
});
