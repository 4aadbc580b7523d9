import type { SandboxConfig } from './config.ts';
import type { SandboxOptions } from './context.ts';
import { devSeed } from './state/seed.ts';

/** Maps validated configuration onto the app's options. */
export function optionsFromConfig(config: SandboxConfig): SandboxOptions {
  return {
    seed: config.META_SANDBOX_SEED
      ? devSeed({ id: config.META_SANDBOX_APP_ID, secret: config.META_SANDBOX_APP_SECRET, redirectUris: config.META_SANDBOX_REDIRECT_URIS })
      : false,
    settings: {
      publicUrl: config.META_SANDBOX_PUBLIC_URL,
      publishQuota: config.META_SANDBOX_PUBLISH_QUOTA,
      imageProcessingMs: config.META_SANDBOX_IMAGE_PROCESSING_MS,
      videoProcessingMs: config.META_SANDBOX_VIDEO_PROCESSING_MS,
      mediaFetchTimeoutMs: config.META_SANDBOX_MEDIA_FETCH_TIMEOUT_MS,
      mediaCache: config.META_SANDBOX_MEDIA_CACHE,
      appCallBudget: config.META_SANDBOX_APP_CALL_BUDGET,
      businessCallBudget: config.META_SANDBOX_BUC_CALL_BUDGET,
      webhookTimeoutMs: config.META_SANDBOX_WEBHOOK_TIMEOUT_MS,
    },
  };
}
