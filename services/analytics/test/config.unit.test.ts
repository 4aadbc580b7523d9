import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@postwire/config';
import { configSchema } from '../src/config.ts';

const required = { TOKEN_ENCRYPTION_KEYS: `k1:${'ab'.repeat(32)}`, TOKEN_ENCRYPTION_ACTIVE_KEY: 'k1', JWT_SECRET: 'analytics-config-test-secret-32-chars' };
const HOUR = 3_600_000;

const issuesOf = (env: Record<string, string>) => {
  try {
    loadConfig(configSchema, { ...required, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => issue.split(/[:.]/)[0]);
    throw error;
  }
  return [];
};

describe('analytics configuration', () => {
  it('logs in as its own roles and syncs at +1 h, +6 h, +24 h, +72 h, +7 d and +28 d by default', () => {
    const config = loadConfig(configSchema, { ...required, DATABASE_URL: 'postgres://admin:pw@db.internal:6543/postwire' });
    expect(config.database).toEqual({ app: 'postgres://analytics_app@db.internal:6543/postwire', worker: 'postgres://analytics_worker@db.internal:6543/postwire' });
    expect(config.sync).toEqual({
      offsetsMs: [HOUR, 6 * HOUR, 24 * HOUR, 72 * HOUR, 168 * HOUR, 672 * HOUR],
      maxSpreadMs: 600_000,
      intervalMs: 5_000,
      batchSize: 50,
      concurrency: 4,
      leaseMs: 300_000,
      retry: { maxAttempts: 6, initialDelayMs: 60_000, maxDelayMs: 3_600_000 },
      notYetRecheckMs: HOUR,
      maxCallsPerSecond: 20,
      slowDownAtPercent: 75,
      maxSlowDownMs: 30_000,
      rateLimitPauseMs: 300_000,
      refreshCooldownMs: 900_000,
    });
    expect(config).toMatchObject({ host: '127.0.0.1', port: 3103, kafka: { partitions: 3 } });
  });

  it('reads offsets in minutes, hours or days, sorted and without repeats', () => {
    const config = loadConfig(configSchema, { ...required, ANALYTICS_SYNC_OFFSETS: '2d, 30m,1h,1h' });
    expect(config.sync.offsetsMs).toEqual([30 * 60_000, HOUR, 48 * HOUR]);
  });

  it('refuses bad settings at boot, naming each variable', () => {
    expect(issuesOf({ ANALYTICS_SYNC_OFFSETS: '1w' })).toEqual(['ANALYTICS_SYNC_OFFSETS']);
    expect(issuesOf({ ANALYTICS_SYNC_OFFSETS: ',' })).toEqual(['ANALYTICS_SYNC_OFFSETS']);
    expect(issuesOf({ ANALYTICS_SYNC_OFFSETS: '0m' })).toEqual(['ANALYTICS_SYNC_OFFSETS']);
    expect(issuesOf({ ANALYTICS_USAGE_SLOW_DOWN_PERCENT: '100', ANALYTICS_SYNC_CONCURRENCY: '0' }).sort()).toEqual(['ANALYTICS_SYNC_CONCURRENCY', 'ANALYTICS_USAGE_SLOW_DOWN_PERCENT']);
  });

  it('needs the key ring (account tokens) and a way to verify callers', () => {
    expect(() => loadConfig(configSchema, {})).toThrow(ConfigError);
    expect(issuesOf({ JWT_SECRET: '' })).toContain('JWT_SECRET');
  });
});
