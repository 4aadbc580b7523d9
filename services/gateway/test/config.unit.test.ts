import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@postwire/config';
import { configSchema, serverOptionsOf } from '../src/config.ts';

const keys = { TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('hex')}`, TOKEN_ENCRYPTION_ACTIVE_KEY: 'k1' };
const secret = 'gateway-test-shared-secret-32-characters';

describe('gateway configuration', () => {
  it('names every missing secret at once', () => {
    const error = (() => {
      try {
        loadConfig(configSchema, {});
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((issue) => issue.split(':')[0]).sort()).toEqual(['TOKEN_ENCRYPTION_ACTIVE_KEY', 'TOKEN_ENCRYPTION_KEYS']);
  });

  it('refuses to boot without a way to verify tokens', () => {
    expect(() => loadConfig(configSchema, keys)).toThrow(/exactly one of JWT_SECRET/);
  });

  it('has working defaults once the secrets are set: Meta calls go to the sandbox', () => {
    const config = loadConfig(configSchema, { ...keys, JWT_SECRET: secret, GATEWAY_PUBLIC_URL: 'https://api.postwire.test/' });
    expect(config).toMatchObject({ host: '127.0.0.1', port: 3000, publicUrl: 'https://api.postwire.test', kafka: { brokers: ['127.0.0.1:9092'], partitions: 3 } });
    expect(config.auth).toMatchObject({ key: { kind: 'secret' }, audience: 'authenticated', organisationClaim: 'organisation_id' });
    expect(config.keyRing.activeKeyId).toBe('k1');
    expect(config.graph.target).toBe('sandbox');
    expect(config.upstreams).toEqual({ accounts: 'http://127.0.0.1:3101', publisher: 'http://127.0.0.1:3102', analytics: 'http://127.0.0.1:3103', timeoutMs: 5_000 });
    expect(config.postWaitMs).toBe(2_000);
  });

  it('takes the publisher\'s read API and the post answer wait from the environment, and refuses a bad wait', () => {
    const base = { ...keys, JWT_SECRET: secret };
    const config = loadConfig(configSchema, { ...base, GATEWAY_PUBLISHER_URL: 'http://publisher.internal:8080', GATEWAY_POST_WAIT_MS: '750' });
    expect(config.upstreams.publisher).toBe('http://publisher.internal:8080');
    expect(config.postWaitMs).toBe(750);
    expect(() => loadConfig(configSchema, { ...base, GATEWAY_POST_WAIT_MS: '-1' })).toThrow(/GATEWAY_POST_WAIT_MS/);
    expect(() => loadConfig(configSchema, { ...base, GATEWAY_PUBLISHER_URL: 'not a url' })).toThrow(/GATEWAY_PUBLISHER_URL/);
  });

  it('takes the web origins as a browser sends them, and refuses anything else', () => {
    const base = { ...keys, JWT_SECRET: secret };
    expect(loadConfig(configSchema, base).webOrigins).toEqual([]);
    const config = loadConfig(configSchema, { ...base, GATEWAY_WEB_ORIGINS: ' https://app.example.com, http://localhost:5173,https://app.example.com' });
    expect(config.webOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    for (const wrong of ['https://app.example.com/', 'https://app.example.com/path', 'https://app.example.com:443', 'ftp://files.example.com', 'app.example.com', 'https://APP.example.com']) {
      expect(() => loadConfig(configSchema, { ...base, GATEWAY_WEB_ORIGINS: wrong }), wrong).toThrow(/GATEWAY_WEB_ORIGINS/);
    }
  });

  it('has production rate limits and body limit by default, each settable, and refuses nonsense', () => {
    const base = { ...keys, JWT_SECRET: secret };
    const { protection } = loadConfig(configSchema, base);
    expect(protection.bodyLimitBytes).toBe(256 * 1024);
    expect(protection.rateLimits.redis).toBeUndefined();
    expect(protection.rateLimits.policies).toEqual({
      reads: { max: 1200, windowMs: 60_000 },
      writes: { max: 300, windowMs: 60_000 },
      events: { max: 600, windowMs: 60_000 },
      webhooks: { max: 120, windowMs: 60_000 },
      connect: { max: 60, windowMs: 60_000 },
      docs: { max: 300, windowMs: 60_000 },
    });
    const set = loadConfig(configSchema, {
      ...base,
      GATEWAY_RATE_LIMIT_WINDOW_MS: '10000',
      GATEWAY_RATE_LIMIT_WRITES: '7',
      REDIS_URL: 'redis://cache.internal:6380/2',
      GATEWAY_BODY_LIMIT_BYTES: '65536',
    }).protection;
    expect(set.rateLimits.policies.writes).toEqual({ max: 7, windowMs: 10_000 });
    expect(set.rateLimits.policies.reads).toEqual({ max: 1200, windowMs: 10_000 });
    expect(set.rateLimits.redis).toEqual({ url: 'redis://cache.internal:6380/2', prefix: 'postwire:gateway:rate-limit:', commandTimeoutMs: 1_000 });
    expect(set.bodyLimitBytes).toBe(65_536);
    for (const [name, value] of [
      ['GATEWAY_RATE_LIMIT_READS', '0'],
      ['GATEWAY_RATE_LIMIT_WRITES', 'many'],
      ['GATEWAY_RATE_LIMIT_WINDOW_MS', '10'],
      ['REDIS_URL', 'http://cache.internal:6379'],
      ['GATEWAY_RATE_LIMIT_REDIS_PREFIX', 'has space'],
      ['GATEWAY_BODY_LIMIT_BYTES', '100'],
    ] as const) {
      expect(() => loadConfig(configSchema, { ...base, [name]: value }), name).toThrow(new RegExp(name));
    }
  });

  it('trusts X-Forwarded-For only from the proxies named, each an address or a CIDR range', () => {
    const base = { ...keys, JWT_SECRET: secret };
    expect(serverOptionsOf(loadConfig(configSchema, base))).toEqual({ trustProxy: false });
    const config = loadConfig(configSchema, { ...base, GATEWAY_TRUST_PROXY: '10.0.0.0/8, 192.0.2.7,fd00::/8' });
    expect(serverOptionsOf(config)).toEqual({ trustProxy: ['10.0.0.0/8', '192.0.2.7', 'fd00::/8'] });
    for (const wrong of ['10.0.0.0/33', 'fd00::/129', 'loadbalancer', '10.0.0.0/8/1', '10.0.0.0/', '*']) {
      expect(() => loadConfig(configSchema, { ...base, GATEWAY_TRUST_PROXY: wrong }), wrong).toThrow(/GATEWAY_TRUST_PROXY/);
    }
  });
});
