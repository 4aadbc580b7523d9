import { ConfigError, loadConfig } from '@postwire/config';
import { describe, expect, it } from 'vitest';
import { sandboxConfigSchema } from '../src/config.ts';
import { optionsFromConfig } from '../src/options.ts';

describe('sandbox configuration', () => {
  it('boots with dev defaults: port 4010 on 127.0.0.1, seeded app, quota 50, images processed in 2 s', () => {
    const config = loadConfig(sandboxConfigSchema, {});
    expect(config.META_SANDBOX_PORT).toBe(4010);
    expect(config.META_SANDBOX_HOST).toBe('127.0.0.1');
    expect(config.META_SANDBOX_SEED).toBe(true);
    expect(config.META_SANDBOX_REDIRECT_URIS.length).toBeGreaterThan(0);
    const options = optionsFromConfig(config);
    expect(options.seed).not.toBe(false);
    expect(options.settings?.publishQuota).toBe(50);
    expect(options.settings?.imageProcessingMs).toBe(2_000);
  });

  it('reads overrides and splits redirect URIs', () => {
    const config = loadConfig(sandboxConfigSchema, {
      META_SANDBOX_PORT: '5000',
      META_SANDBOX_SEED: 'false',
      META_SANDBOX_PUBLISH_QUOTA: '100',
      META_SANDBOX_REDIRECT_URIS: 'http://a.test/cb, http://b.test/cb',
    });
    expect(config.META_SANDBOX_PORT).toBe(5000);
    expect(config.META_SANDBOX_REDIRECT_URIS).toEqual(['http://a.test/cb', 'http://b.test/cb']);
    expect(optionsFromConfig(config).seed).toBe(false);
    expect(optionsFromConfig(config).settings?.publishQuota).toBe(100);
  });

  it('reports every problem at once and never echoes the secret', () => {
    try {
      loadConfig(sandboxConfigSchema, { META_SANDBOX_PORT: 'x', META_SANDBOX_APP_SECRET: 'short', META_SANDBOX_REDIRECT_URIS: 'not a url' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const issues = (error as ConfigError).issues.join('\n');
      expect(issues).toMatch(/META_SANDBOX_PORT/);
      expect(issues).toMatch(/META_SANDBOX_APP_SECRET/);
      expect(issues).toMatch(/META_SANDBOX_REDIRECT_URIS/);
      expect(issues).not.toMatch(/short/);
    }
  });
});
