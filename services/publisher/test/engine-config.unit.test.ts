import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@postwire/config';
import { configSchema } from '../src/config.ts';

// Account events carry tokens encrypted with the same key ring as accounts, and the read API verifies callers: every case carries both.
const keys = { TOKEN_ENCRYPTION_KEYS: `k1:${'ab'.repeat(32)}`, TOKEN_ENCRYPTION_ACTIVE_KEY: 'k1', JWT_SECRET: 'publisher-config-test-secret-32-chars!!' };

describe('publisher configuration: the publishing engine', () => {
  it('defaults: 32 posts at once, a claim pass every 200 ms, 1 h lateness, Meta through the local sandbox', () => {
    const config = loadConfig(configSchema, keys);
    expect(config.engine).toEqual({
      enabled: true,
      instanceId: undefined,
      claimIntervalMs: 200,
      concurrency: 32,
      leaseMs: 60_000,
      maxLatenessMs: 3_600_000,
      retry: { initialDelayMs: 30_000, maxDelayMs: 900_000, minDelayMs: 1_000 },
      rateLimitFallbackMs: 300_000,
      quotaRecheckMs: 600_000,
      pollFirstDelayMs: 1_000,
      pollMaxDelayMs: 60_000,
    });
    expect(config.graph).toMatchObject({ target: 'sandbox', baseUrls: { graph: 'http://127.0.0.1:4010', instagramGraph: 'http://127.0.0.1:4010' } });
    expect(config.keyRing.activeKeyId).toBe('k1');
    expect(config.kafka.partitions).toBe(3);
  });

  it('takes every engine setting from the environment', () => {
    const config = loadConfig(configSchema, {
      ...keys,
      PUBLISHER_CONCURRENCY: '64',
      PUBLISHER_CLAIM_INTERVAL_MS: '50',
      PUBLISHER_MAX_LATENESS_MS: '0',
      PUBLISHER_INSTANCE_ID: 'publisher-2',
      PUBLISHER_ENGINE_ENABLED: 'false',
      META_SANDBOX_URL: 'http://127.0.0.1:4999/',
    });
    expect(config.engine).toMatchObject({ concurrency: 64, claimIntervalMs: 50, maxLatenessMs: 0, instanceId: 'publisher-2', enabled: false });
    expect(config.graph.baseUrls.graph).toBe('http://127.0.0.1:4999');
  });

  it('refuses bad engine settings and a missing key ring at boot, naming each variable', () => {
    try {
      loadConfig(configSchema, { ...keys, PUBLISHER_CONCURRENCY: '0', PUBLISHER_CLAIM_INTERVAL_MS: 'soon', PUBLISHER_MAX_LATENESS_MS: '-1' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues.map((issue) => issue.split(':')[0]).sort()).toEqual(['PUBLISHER_CLAIM_INTERVAL_MS', 'PUBLISHER_CONCURRENCY', 'PUBLISHER_MAX_LATENESS_MS']);
    }
    expect(() => loadConfig(configSchema, {})).toThrow(ConfigError);
  });
});
