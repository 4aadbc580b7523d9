import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@postwire/config';
import { configSchema } from '../src/config.ts';

describe('accounts configuration', () => {
  it('logs in as its own roles on the server DATABASE_URL names, by default', () => {
    const config = loadConfig(configSchema, { DATABASE_URL: 'postgres://admin:pw@db.internal:6543/postwire' });
    expect(config.database).toEqual({
      app: 'postgres://accounts_app@db.internal:6543/postwire',
      worker: 'postgres://accounts_worker@db.internal:6543/postwire',
    });
    expect(config).toMatchObject({ host: '127.0.0.1', port: 3101, logLevel: 'info', kafka: { brokers: ['127.0.0.1:9092'] } });
  });

  it('explicit connection URLs win over derived ones', () => {
    const config = loadConfig(configSchema, {
      ACCOUNTS_DATABASE_URL: 'postgres://accounts_app:s@pool:5432/postwire',
      ACCOUNTS_WORKER_DATABASE_URL: 'postgres://accounts_worker:s@pool:5432/postwire',
    });
    expect(config.database.app).toBe('postgres://accounts_app:s@pool:5432/postwire');
    expect(config.database.worker).toBe('postgres://accounts_worker:s@pool:5432/postwire');
  });

  it('refuses a bad setting at boot, naming the variable', () => {
    expect(() => loadConfig(configSchema, { ACCOUNTS_PORT: 'eighty', ACCOUNTS_DATABASE_URL: 'mysql://x' })).toThrow(ConfigError);
    try {
      loadConfig(configSchema, { ACCOUNTS_PORT: 'eighty', ACCOUNTS_DATABASE_URL: 'mysql://x' });
    } catch (error) {
      expect((error as ConfigError).issues.map((issue) => issue.split(':')[0]).sort()).toEqual(['ACCOUNTS_DATABASE_URL', 'ACCOUNTS_PORT']);
    }
  });
});
