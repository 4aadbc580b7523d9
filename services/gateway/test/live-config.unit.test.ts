import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@postwire/config';
import { configSchema } from '../src/config.ts';

const base = { TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('hex')}`, TOKEN_ENCRYPTION_ACTIVE_KEY: 'k1', JWT_SECRET: 'gateway-test-shared-secret-32-characters' };

describe('gateway live-event configuration', () => {
  it('defaults: the SSRF guard on, the Standard Webhooks schedule, a day of failing before an endpoint is disabled', () => {
    const { live } = loadConfig(configSchema, { ...base, DATABASE_URL: 'postgres://postgres@db.internal:5432/postwire' });
    expect(live.workerDatabase).toBe('postgres://gateway_worker@db.internal:5432/postwire');
    expect(live.events).toEqual({ heartbeatMs: 15_000, replaySize: 1_000, replayMs: 900_000, maxOrganisations: 10_000, maxStreamMs: 3_600_000 });
    expect(live.webhooks).toEqual({
      allowPrivateTargets: false,
      timeoutMs: 15_000,
      concurrency: 50,
      pollMs: 1_000,
      leaseMs: 45_000,
      disable: { afterFailures: 8, afterMs: 86_400_000 },
      retryScale: 1,
      consumerGroup: 'gateway-webhooks',
    });
    expect(live.pruning.targets.map((target) => [target.name, target.retentionMs])).toEqual([
      ['webhook-deliveries', 2_592_000_000],
      ['event-stream-tickets', 600_000],
      ['gateway-inbox', 604_800_000],
    ]);
  });

  it("logs the worker in to the app login's database unless told otherwise", () => {
    const derived = loadConfig(configSchema, { ...base, GATEWAY_DATABASE_URL: 'postgres://gateway_app:pw@db.internal:6432/tenant' });
    expect(derived.live.workerDatabase).toBe('postgres://gateway_worker@db.internal:6432/tenant');
    const explicit = loadConfig(configSchema, { ...base, GATEWAY_WORKER_DATABASE_URL: 'postgres://w:secret@other:5432/x' });
    expect(explicit.live.workerDatabase).toBe('postgres://w:secret@other:5432/x');
  });

  it('refuses settings out of range', () => {
    expect(() => loadConfig(configSchema, { ...base, GATEWAY_EVENTS_HEARTBEAT_MS: '999' })).toThrow(/GATEWAY_EVENTS_HEARTBEAT_MS/);
    expect(() => loadConfig(configSchema, { ...base, GATEWAY_WEBHOOK_RETRY_SCALE: '2' })).toThrow(/GATEWAY_WEBHOOK_RETRY_SCALE/);
    expect(() => loadConfig(configSchema, { ...base, GATEWAY_WEBHOOK_ALLOW_PRIVATE_TARGETS: 'maybe' })).toThrow(/GATEWAY_WEBHOOK_ALLOW_PRIVATE_TARGETS/);
    expect(() => loadConfig(configSchema, { ...base, GATEWAY_WEBHOOK_CONSUMER_GROUP: 'a group' })).toThrow(/GATEWAY_WEBHOOK_CONSUMER_GROUP/);
  });
});
