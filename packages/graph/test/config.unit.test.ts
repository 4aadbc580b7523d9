import { ConfigError, loadConfig } from '@postwire/config';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import {
  appsecretProof,
  checkGraphFields,
  cleanCode,
  containerParams,
  createPkcePair,
  graphEnvironment,
  graphFields,
  parseJsonPreservingIds,
  toGraphSettings,
} from '../src/index.ts';
import { createHash, createHmac } from 'node:crypto';

describe('graph settings', () => {
  it('defaults every host to the sandbox and the app to its seeded dev app when no Meta credentials are set', () => {
    const settings = loadConfig(graphEnvironment, {});
    expect(settings.target).toBe('sandbox');
    expect(settings.version).toBe('v25.0');
    expect(settings.appId).toBe('1000000000000001');
    expect(settings.appSecret).toBe('sandbox-dev-app-secret-0001');
    expect(new Set(Object.values(settings.baseUrls))).toEqual(new Set(['http://127.0.0.1:4010']));
    const moved = loadConfig(graphEnvironment, { META_SANDBOX_URL: 'http://sandbox.test:9999/' });
    expect(new Set(Object.values(moved.baseUrls))).toEqual(new Set(['http://sandbox.test:9999']));
  });

  it("targets Meta's real hosts once META_APP_ID and META_APP_SECRET are set", () => {
    const settings = loadConfig(graphEnvironment, { META_APP_ID: '123456789012345', META_APP_SECRET: '0123456789abcdef0123456789abcdef', META_GRAPH_VERSION: 'v26.0' });
    expect(settings).toMatchObject({
      target: 'meta',
      version: 'v26.0',
      appId: '123456789012345',
      baseUrls: {
        graph: 'https://graph.facebook.com',
        graphVideo: 'https://graph-video.facebook.com',
        instagramGraph: 'https://graph.instagram.com',
        instagramApi: 'https://api.instagram.com',
        rupload: 'https://rupload.facebook.com',
        facebookDialog: 'https://www.facebook.com',
        instagramDialog: 'https://www.instagram.com',
      },
    });
  });

  it('lets an explicit base URL win in either mode', () => {
    const meta = loadConfig(graphEnvironment, { META_APP_ID: '123456789012345', META_APP_SECRET: 'x'.repeat(32), GRAPH_BASE_URL: 'http://127.0.0.1:5000/' });
    expect(meta.baseUrls.graph).toBe('http://127.0.0.1:5000');
    expect(meta.baseUrls.instagramGraph).toBe('https://graph.instagram.com');
    const sandbox = loadConfig(graphEnvironment, { RUPLOAD_BASE_URL: 'https://rupload.facebook.com' });
    expect(sandbox.target).toBe('sandbox');
    expect(sandbox.baseUrls.rupload).toBe('https://rupload.facebook.com');
    expect(sandbox.baseUrls.graph).toBe('http://127.0.0.1:4010');
  });

  it('reads timeouts, retries, proof and the usage threshold, with defaults', () => {
    expect(loadConfig(graphEnvironment, {})).toMatchObject({
      timeoutMs: 30_000,
      uploadTimeoutMs: 300_000,
      retry: { maxRetries: 3, baseDelayMs: 500, maxDelayMs: 10_000 },
      appsecretProof: true,
      usage: { slowDownAtPercent: 80 },
    });
    expect(
      loadConfig(graphEnvironment, { GRAPH_TIMEOUT_MS: '1500', GRAPH_MAX_RETRIES: '0', GRAPH_APPSECRET_PROOF: 'false', GRAPH_USAGE_SLOW_DOWN_PERCENT: '60', META_LOGIN_CONFIG_ID: '100000000000100' }),
    ).toMatchObject({ timeoutMs: 1500, retry: { maxRetries: 0 }, appsecretProof: false, usage: { slowDownAtPercent: 60 }, loginConfigId: '100000000000100' });
  });

  it('refuses a malformed version, half a credential pair and bad URLs, all at once', () => {
    const attempt = () => loadConfig(graphEnvironment, { META_GRAPH_VERSION: '25', META_APP_ID: '123456789012345', GRAPH_BASE_URL: 'not a url' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const issues = (error as ConfigError).issues.join('\n');
      expect(issues).toMatch(/META_GRAPH_VERSION: must look like v25.0/);
      expect(issues).toMatch(/GRAPH_BASE_URL/);
    }
    // The pair check runs once the fields themselves are valid.
    expect(() => loadConfig(graphEnvironment, { META_APP_ID: '123456789012345' })).toThrow(/META_APP_SECRET: is required when META_APP_ID is set/);
    expect(() => loadConfig(graphEnvironment, { META_APP_SECRET: 'x'.repeat(32) })).toThrow(/META_APP_ID: is required/);
  });

  it('never echoes the app secret in a configuration error', () => {
    const secret = 'short';
    let message = '';
    try {
      loadConfig(graphEnvironment, { META_APP_ID: 'abc', META_APP_SECRET: secret });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/META_APP_SECRET/);
    expect(message).not.toContain(secret);
    const longSecret = 'a-real-looking-secret-0123456789';
    try {
      loadConfig(graphEnvironment, { META_APP_SECRET: longSecret });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toContain(longSecret);
  });

  it('composes into a service schema like the other packages (fields + check + settings)', () => {
    const service = z
      .object({ PORT: z.coerce.number().default(3000), ...graphFields })
      .superRefine(checkGraphFields)
      .transform((env) => ({ port: env.PORT, graph: toGraphSettings(env) }));
    expect(loadConfig(service, { PORT: '4000' })).toMatchObject({ port: 4000, graph: { target: 'sandbox' } });
  });
});

describe('request helpers', () => {
  it('computes appsecret_proof as hex HMAC-SHA256 of the token keyed with the app secret', () => {
    expect(appsecretProof('EAAUtoken', 'secret')).toBe(createHmac('sha256', 'secret').update('EAAUtoken').digest('hex'));
  });

  it('keeps long numeric ids exact when parsing JSON', () => {
    expect(parseJsonPreservingIds('{"user_id": 17841400000000301, "n": 5, "data":[{"id":12345678901234567}]}')).toEqual({ user_id: '17841400000000301', n: 5, data: [{ id: '12345678901234567' }] });
    expect(parseJsonPreservingIds('{"caption":"\\"id\\": 12345678901234567"}')).toEqual({ caption: '"id": 12345678901234567' });
  });

  it("strips Meta's #_ / #_=_ from codes, and makes S256 PKCE pairs", () => {
    expect(cleanCode('AQabc#_')).toBe('AQabc');
    expect(cleanCode('AQabc#_=_')).toBe('AQabc');
    expect(cleanCode('AQabc')).toBe('AQabc');
    const pair = createPkcePair();
    expect(pair.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(pair.challenge).toBe(createHash('sha256').update(pair.verifier).digest('base64url'));
  });

  it('maps container kinds onto Meta parameters', () => {
    expect(containerParams({ kind: 'reel', videoUrl: 'https://v', shareToFeed: true, thumbOffsetMs: 1500, trialParams: { graduationStrategy: 'MANUAL' } })).toMatchObject({
      media_type: 'REELS',
      video_url: 'https://v',
      share_to_feed: true,
      thumb_offset: 1500,
      trial_params: { graduation_strategy: 'MANUAL' },
    });
    expect(containerParams({ kind: 'carousel-item', videoUrl: 'https://v' })).toMatchObject({ is_carousel_item: true, media_type: 'VIDEO', video_url: 'https://v' });
    expect(containerParams({ kind: 'carousel', children: ['1', '2'], caption: 'c' })).toMatchObject({ media_type: 'CAROUSEL', children: '1,2' });
    expect(containerParams({ kind: 'story', imageUrl: 'https://i' })).toMatchObject({ media_type: 'STORIES', image_url: 'https://i' });
  });
});
