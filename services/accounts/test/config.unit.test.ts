import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@postwire/config';
import { configSchema } from '../src/config.ts';

// The key ring (tokens are encrypted at rest) and a way to verify callers are required; every case carries them.
const keys = { TOKEN_ENCRYPTION_KEYS: `k1:${'ab'.repeat(32)}`, TOKEN_ENCRYPTION_ACTIVE_KEY: 'k1', JWT_SECRET: 'accounts-config-test-secret-32-chars!!' };

describe('accounts configuration', () => {
  it('logs in as its own roles on the server DATABASE_URL names, by default', () => {
    const config = loadConfig(configSchema, { ...keys, DATABASE_URL: 'postgres://admin:pw@db.internal:6543/postwire' });
    expect(config.database).toEqual({
      app: 'postgres://accounts_app@db.internal:6543/postwire',
      worker: 'postgres://accounts_worker@db.internal:6543/postwire',
    });
    expect(config).toMatchObject({ host: '127.0.0.1', port: 3101, logLevel: 'info', kafka: { brokers: ['127.0.0.1:9092'] } });
  });

  it('explicit connection URLs win over derived ones', () => {
    const config = loadConfig(configSchema, {
      ...keys,
      ACCOUNTS_DATABASE_URL: 'postgres://accounts_app:s@pool:5432/postwire',
      ACCOUNTS_WORKER_DATABASE_URL: 'postgres://accounts_worker:s@pool:5432/postwire',
    });
    expect(config.database.app).toBe('postgres://accounts_app:s@pool:5432/postwire');
    expect(config.database.worker).toBe('postgres://accounts_worker:s@pool:5432/postwire');
  });

  it('refuses a bad setting at boot, naming the variable', () => {
    expect(() => loadConfig(configSchema, { ...keys, ACCOUNTS_PORT: 'eighty', ACCOUNTS_DATABASE_URL: 'mysql://x' })).toThrow(ConfigError);
    try {
      loadConfig(configSchema, { ...keys, ACCOUNTS_PORT: 'eighty', ACCOUNTS_DATABASE_URL: 'mysql://x' });
    } catch (error) {
      expect((error as ConfigError).issues.map((issue) => issue.split(':')[0]).sort()).toEqual(['ACCOUNTS_DATABASE_URL', 'ACCOUNTS_PORT']);
    }
  });

  it('needs a key ring whose active key is in it, Meta credentials in pairs, and takes the partition count', () => {
    const config = loadConfig(configSchema, { ...keys, KAFKA_TOPIC_PARTITIONS: '6' });
    expect(config.kafka.partitions).toBe(6);
    expect(config.keyRing.activeKeyId).toBe('k1');
    expect(config.graph.target).toBe('sandbox');
    const names = (environment: Record<string, string>) => {
      try {
        loadConfig(configSchema, environment);
        return [];
      } catch (error) {
        return (error as ConfigError).issues.map((issue) => issue.split(':')[0]).sort();
      }
    };
    expect(names({})).toEqual(['TOKEN_ENCRYPTION_ACTIVE_KEY', 'TOKEN_ENCRYPTION_KEYS']);
    expect(names({ ...keys, TOKEN_ENCRYPTION_ACTIVE_KEY: 'k2' })).toEqual(['TOKEN_ENCRYPTION_ACTIVE_KEY']);
    expect(names({ ...keys, META_APP_ID: '1000000000000777' })).toEqual(['META_APP_SECRET']);
    expect(names({ TOKEN_ENCRYPTION_KEYS: keys.TOKEN_ENCRYPTION_KEYS, TOKEN_ENCRYPTION_ACTIVE_KEY: 'k1' })).toEqual(['JWT_SECRET']);
  });
});
