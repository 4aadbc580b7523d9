import { z } from 'zod';

/**
 * Configuration is read once, at boot, from a zod schema over the environment. Every problem is
 * reported at once (not just the first), and values named like secrets are never echoed back.
 */
export class ConfigError extends Error {
  readonly issues: readonly string[];

  constructor(issues: readonly string[]) {
    super(`invalid configuration:\n  - ${issues.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export type Environment = Readonly<Record<string, string | undefined>>;

export function loadConfig<S extends z.ZodType>(schema: S, env: Environment): z.output<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
  );
}

/** Shared field schemas, so every service spells the same setting the same way. */
export const fields = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback),
  host: (fallback = '127.0.0.1') => z.string().min(1).default(fallback),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  url: (fallback?: string) =>
    fallback === undefined ? z.url() : z.url().default(fallback),
  postgresUrl: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// connection URL'),
  optionalPostgresUrl: z
    .string()
    .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// connection URL')
    .optional(),
  kafkaBrokers: z
    .string()
    .default('127.0.0.1:9092')
    .transform((value) => value.split(',').map((broker) => broker.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'each broker must be host:port')).min(1)),
  /** Put before every topic name (`KAFKA_TOPIC_PREFIX`), so environments sharing a cluster keep apart; empty by default. */
  kafkaTopicPrefix: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'only letters, digits, ".", "_" and "-" are allowed in a topic name')
    .max(100)
    .default(''),
  /**
   * How long the first event into an idle topic waits for other callers' before the producer sends
   * them together (`KAFKA_PRODUCER_LINGER_MS`); 0 sends every call on its own.
   */
  kafkaProducerLingerMs: z.coerce.number().int().min(0).max(100).default(2),
  durationMs: (fallback: number) => z.coerce.number().int().min(0).default(fallback),
  boolean: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default(fallback ? 'true' : 'false')
      .transform((value) => value === 'true' || value === '1' || value === 'yes'),
  secret: (minLength: number) => z.string().min(minLength, `must be at least ${minLength} characters`),
} as const;

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postwire';
