import { z } from 'zod';
import { DAY, HOUR } from '../domain/clock.ts';

/** The knobs tests may turn at run time (PATCH /_sandbox/settings); start values come from config. */
export const settingsSchema = z.object({
  publishQuota: z.number().int().min(0),
  imageProcessingMs: z.number().int().min(0),
  videoProcessingMs: z.number().int().min(0),
  mediaFetchTimeoutMs: z.number().int().min(1),
  mediaCache: z.boolean(),
  appCallBudget: z.number().int().min(1),
  appWindowMs: z.number().int().min(60_000),
  businessCallBudget: z.number().int().min(1),
  businessWindowMs: z.number().int().min(60_000),
  webhookTimeoutMs: z.number().int().min(1),
  /** Insights answer an empty list until this long after publishing (Meta's data lag). */
  insightsDelayMs: z.number().int().min(0),
  /** Containers per Instagram account per rolling 24 h (a carousel of N uses N+1). */
  containersPerDay: z.number().int().min(1),
  /** Reels per Page per rolling 24 h. */
  pageReelsPerDay: z.number().int().min(1),
  /** Attempts per delivery, on the retry schedule (at most 11: immediately, then out to 36 h). */
  webhookAttempts: z.number().int().min(1).max(11),
  /** Changes within this many (real) milliseconds go out as one batch. */
  webhookBatchMs: z.number().int().min(0).max(10_000),
  /** Usage headers appear only once usage reaches this percent of the budget (Meta leaves them out before); 0: always. */
  usageHeadersFromPercent: z.number().int().min(0).max(100),
  /** Instagram Login code exchange answers `{data:[...]}` (documented) or a flat object (seen by some clients). */
  instagramTokenResponse: z.enum(['data', 'flat']),
  publicUrl: z.url().optional(),
});

export type SandboxSettings = z.infer<typeof settingsSchema>;

export const DEFAULT_SETTINGS: SandboxSettings = {
  // The content_publishing_limit reference: quota_total "currently 50".
  publishQuota: 50,
  // Images are not always ready at once either (publishing early answers 9007/2207027).
  imageProcessingMs: 2_000,
  videoProcessingMs: 5_000,
  mediaFetchTimeoutMs: 10_000,
  mediaCache: true,
  appCallBudget: 20_000,
  appWindowMs: HOUR,
  businessCallBudget: 4_800,
  businessWindowMs: DAY,
  webhookTimeoutMs: 5_000,
  insightsDelayMs: 2 * HOUR,
  containersPerDay: 400,
  pageReelsPerDay: 30,
  webhookAttempts: 11,
  webhookBatchMs: 20,
  usageHeadersFromPercent: 1,
  instagramTokenResponse: 'data',
};
