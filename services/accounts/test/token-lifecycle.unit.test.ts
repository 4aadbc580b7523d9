import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@postwire/config';
import { GraphApiError } from '@postwire/graph';
import { configSchema } from '../src/config.ts';
import { crossedThreshold, expiredReason, isInstagramLoginToken, reconnectMessage, refreshDue } from '../src/domain/expiry.ts';
import { verdictOf } from '../src/workers/token-lifecycle-shared.ts';

const keys = { TOKEN_ENCRYPTION_KEYS: `k1:${'ab'.repeat(32)}`, TOKEN_ENCRYPTION_ACTIVE_KEY: 'k1', JWT_SECRET: 'accounts-config-test-secret-32-chars!!' };
const DAY = 86_400_000;
const now = new Date('2026-11-25T00:00:00Z');

function metaError(code: number, subcode?: number): GraphApiError {
  return new GraphApiError({
    httpStatus: 400,
    code,
    subcode,
    type: 'OAuthException',
    message: 'Error validating access token',
    userTitle: undefined,
    userMessage: undefined,
    isTransient: false,
    fbtraceId: undefined,
    source: 'graph',
  });
}

describe('token lifecycle rules', () => {
  it('announces the tightest threshold a token has crossed, and none before the widest', () => {
    const thresholds = [7, 3, 1];
    expect(crossedThreshold(new Date(now.getTime() + 8 * DAY), now, thresholds)).toBeUndefined();
    expect(crossedThreshold(new Date(now.getTime() + 6 * DAY), now, thresholds)).toBe(7);
    expect(crossedThreshold(new Date(now.getTime() + 2 * DAY), now, thresholds)).toBe(3);
    expect(crossedThreshold(new Date(now.getTime() - DAY), now, thresholds)).toBe(1);
  });

  it('refreshes only tokens at least 24 hours old, whatever the setting says', () => {
    expect(refreshDue(new Date(now.getTime() - 23 * 3_600_000), now, 1)).toBe(false);
    expect(refreshDue(new Date(now.getTime() - 24 * 3_600_000), now, 1)).toBe(true);
    expect(refreshDue(new Date(now.getTime() - 3 * DAY), now, 24 * 7)).toBe(false);
  });

  it('tells Instagram Login tokens from Facebook ones by their kind', () => {
    expect(isInstagramLoginToken('IGAAxyz')).toBe(true);
    expect(isInstagramLoginToken('EAAPxyz')).toBe(false);
  });

  it('names why a token died from the 190 subcode, and asks for a reconnect', () => {
    expect([460, 458, 463, 467, undefined].map(expiredReason)).toEqual(['password-changed', 'permissions-revoked', 'token-expired', 'token-invalidated', 'token-invalidated']);
    expect(reconnectMessage('password-changed')).toMatch(/^Reconnect: /);
  });

  it('expires on 190, counts anything else', () => {
    expect(verdictOf(metaError(190, 460))).toMatchObject({ kind: 'expired', reason: 'password-changed', info: { category: 'token', code: 190, subcode: 460 } });
    expect(verdictOf(metaError(2))).toMatchObject({ kind: 'failed', info: { category: 'transient', retryable: true } });
    // 190/459: the user must act on Facebook; the token is not dead.
    expect(verdictOf(metaError(190, 459))).toMatchObject({ kind: 'failed' });
    expect(verdictOf(new Error('unsupported state or unable to authenticate data'))).toMatchObject({ kind: 'failed', info: { category: 'unknown' } });
  });
});

describe('token lifecycle configuration', () => {
  it('has defaults: scan every 15 min at 7, 3 and 1 days, health check every 6 h', () => {
    const { lifecycle } = loadConfig(configSchema, keys);
    expect(lifecycle).toEqual({
      expiryScanIntervalMs: 900_000,
      thresholdsDays: [7, 3, 1],
      healthCheckIntervalMs: 21_600_000,
      refreshAgeHours: 168,
      maxConsecutiveFailures: 3,
      batchSize: 100,
      concurrency: 4,
    });
  });

  it('reads thresholds in any order, once each, and refuses what is not a number of days', () => {
    expect(loadConfig(configSchema, { ...keys, ACCOUNTS_EXPIRY_THRESHOLDS_DAYS: '1, 14,3,3' }).lifecycle.thresholdsDays).toEqual([14, 3, 1]);
    expect(() => loadConfig(configSchema, { ...keys, ACCOUNTS_EXPIRY_THRESHOLDS_DAYS: '7,soon' })).toThrow(ConfigError);
    expect(() => loadConfig(configSchema, { ...keys, ACCOUNTS_EXPIRY_THRESHOLDS_DAYS: '0' })).toThrow(ConfigError);
    expect(() => loadConfig(configSchema, { ...keys, ACCOUNTS_TOKEN_REFRESH_AGE_HOURS: '12' })).toThrow(ConfigError);
  });
});
