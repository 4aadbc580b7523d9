import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, DEFAULT_DATABASE_URL, fields, loadConfig } from '../src/index.ts';

const schema = z.object({
  PORT: fields.port(3000),
  DATABASE_URL: fields.postgresUrl(DEFAULT_DATABASE_URL),
  KAFKA_BROKERS: fields.kafkaBrokers,
  JWT_SECRET: fields.secret(32),
  STRICT: fields.boolean(false),
});

describe('loadConfig', () => {
  it('applies defaults and coerces values', () => {
    const config = loadConfig(schema, { JWT_SECRET: 'x'.repeat(32), PORT: '8080', STRICT: 'yes' });
    expect(config).toEqual({
      PORT: 8080,
      DATABASE_URL: DEFAULT_DATABASE_URL,
      KAFKA_BROKERS: ['127.0.0.1:9092'],
      JWT_SECRET: 'x'.repeat(32),
      STRICT: true,
    });
  });

  it('splits a broker list', () => {
    const config = loadConfig(schema, { JWT_SECRET: 'x'.repeat(32), KAFKA_BROKERS: 'a:1, b:2' });
    expect(config.KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
  });

  it('takes a producer linger of 0 to 100 ms, 2 by default', () => {
    const linger = z.object({ KAFKA_PRODUCER_LINGER_MS: fields.kafkaProducerLingerMs });
    expect(loadConfig(linger, {}).KAFKA_PRODUCER_LINGER_MS).toBe(2);
    expect(loadConfig(linger, { KAFKA_PRODUCER_LINGER_MS: '0' }).KAFKA_PRODUCER_LINGER_MS).toBe(0);
    for (const bad of ['101', '-1', '1.5', 'soon']) expect(() => loadConfig(linger, { KAFKA_PRODUCER_LINGER_MS: bad })).toThrow(ConfigError);
  });

  it('reports every problem at once without echoing secret values', () => {
    const secret = 'short-secret-value';
    let error: unknown;
    try {
      loadConfig(schema, { PORT: '70000', DATABASE_URL: 'mysql://x', KAFKA_BROKERS: 'nohost', JWT_SECRET: secret });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues.map((issue) => issue.split(':')[0])).toEqual(
      expect.arrayContaining(['PORT', 'DATABASE_URL', 'KAFKA_BROKERS.0', 'JWT_SECRET']),
    );
    expect((error as ConfigError).message).not.toContain(secret);
  });
});
