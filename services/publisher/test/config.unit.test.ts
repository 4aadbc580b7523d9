import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@postwire/config';
import { configSchema } from '../src/config.ts';

// The key ring (account tokens arrive encrypted) and a way to verify callers are required; every case carries them.
const required = { TOKEN_ENCRYPTION_KEYS: `k1:${'ab'.repeat(32)}`, TOKEN_ENCRYPTION_ACTIVE_KEY: 'k1', JWT_SECRET: 'publisher-config-test-secret-32-chars' };

const issues = (environment: Record<string, string>) => {
  try {
    loadConfig(configSchema, environment);
    return [];
  } catch (error) {
    return (error as ConfigError).issues.map((issue) => issue.split(':')[0]).sort();
  }
};

describe('publisher configuration', () => {
  it('logs in as its own roles on the server DATABASE_URL names, with safe intake defaults', () => {
    const config = loadConfig(configSchema, { ...required, DATABASE_URL: 'postgres://admin:pw@db.internal:6543/postwire' });
    expect(config.database).toEqual({
      app: 'postgres://publisher_app@db.internal:6543/postwire',
      worker: 'postgres://publisher_worker@db.internal:6543/postwire',
    });
    expect(config).toMatchObject({ host: '127.0.0.1', port: 3102, kafka: { brokers: ['127.0.0.1:9092'], partitions: 3 } });
    expect(config.intake).toEqual({
      scheduleSkewMs: 60_000,
      mediaProbe: { timeoutMs: 5_000, allowHttp: false, allowPrivate: false, maxRedirects: 3 },
    });
    expect(config.keyRing.activeKeyId).toBe('k1');
    expect(config.graph.target).toBe('sandbox');
  });

  it('takes the intake settings', () => {
    const config = loadConfig(configSchema, {
      ...required,
      PUBLISHER_SCHEDULE_SKEW_MS: '5000',
      PUBLISHER_MEDIA_PROBE_TIMEOUT_MS: '800',
      PUBLISHER_MEDIA_ALLOW_HTTP: 'true',
      PUBLISHER_MEDIA_ALLOW_PRIVATE: 'true',
    });
    expect(config.intake).toEqual({ scheduleSkewMs: 5_000, mediaProbe: { timeoutMs: 800, allowHttp: true, allowPrivate: true, maxRedirects: 3 } });
  });

  it('refuses bad settings at boot, naming each variable', () => {
    expect(issues({ ...required, PUBLISHER_PORT: 'eighty', PUBLISHER_MEDIA_PROBE_TIMEOUT_MS: '10', PUBLISHER_SCHEDULE_SKEW_MS: '-1' })).toEqual([
      'PUBLISHER_MEDIA_PROBE_TIMEOUT_MS',
      'PUBLISHER_PORT',
      'PUBLISHER_SCHEDULE_SKEW_MS',
    ]);
    expect(issues({})).toEqual(['TOKEN_ENCRYPTION_ACTIVE_KEY', 'TOKEN_ENCRYPTION_KEYS']);
    expect(issues({ TOKEN_ENCRYPTION_KEYS: required.TOKEN_ENCRYPTION_KEYS, TOKEN_ENCRYPTION_ACTIVE_KEY: 'k1' })).toEqual(['JWT_SECRET']);
    expect(issues({ ...required, META_APP_ID: '1000000000000777' })).toEqual(['META_APP_SECRET']);
    expect(() => loadConfig(configSchema, { ...required, PUBLISHER_DATABASE_URL: 'mysql://x' })).toThrow(ConfigError);
  });
});
