import { z } from 'zod';
import { fields } from '@postwire/config';

const list = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean));

/** Every setting the sandbox reads from the environment; validated once by `loadConfig` in server.ts. */
export const sandboxConfigSchema = z.object({
  META_SANDBOX_PORT: fields.port(4010),
  META_SANDBOX_HOST: fields.host(),
  META_SANDBOX_LOG_LEVEL: fields.logLevel,
  /** Base URL clients use to reach the sandbox; defaults to the Host header of each request. */
  META_SANDBOX_PUBLIC_URL: z.url().optional(),
  META_SANDBOX_SEED: fields.boolean(true),
  META_SANDBOX_APP_ID: z.string().regex(/^\d{6,20}$/, 'must be a numeric app id').default('1000000000000001'),
  META_SANDBOX_APP_SECRET: fields.secret(16).default('sandbox-dev-app-secret-0001'),
  META_SANDBOX_REDIRECT_URIS: list(
    'http://127.0.0.1:3000/v1/connect/facebook/callback,http://127.0.0.1:3000/v1/connect/instagram/callback,' +
      'http://localhost:3000/v1/connect/facebook/callback,http://localhost:3000/v1/connect/instagram/callback',
  ).pipe(z.array(z.url()).min(1)),
  META_SANDBOX_PUBLISH_QUOTA: z.coerce.number().int().min(0).default(50),
  META_SANDBOX_IMAGE_PROCESSING_MS: fields.durationMs(2_000),
  META_SANDBOX_VIDEO_PROCESSING_MS: fields.durationMs(5_000),
  META_SANDBOX_MEDIA_FETCH_TIMEOUT_MS: fields.durationMs(10_000),
  META_SANDBOX_MEDIA_CACHE: fields.boolean(true),
  META_SANDBOX_APP_CALL_BUDGET: z.coerce.number().int().min(1).default(20_000),
  META_SANDBOX_BUC_CALL_BUDGET: z.coerce.number().int().min(1).default(4_800),
  META_SANDBOX_WEBHOOK_TIMEOUT_MS: fields.durationMs(5_000),
});

export type SandboxConfig = z.output<typeof sandboxConfigSchema>;
