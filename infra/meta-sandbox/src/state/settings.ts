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
  webhookAttempts: z.number().int().min(1).max(10),
  /** Instagram Login code exchange answers `{data:[...]}` (documented) or a flat object (seen by some clients). */
  instagramTokenResponse: z.enum(['data', 'flat']),
  publicUrl: z.url().optional(),
});

export type SandboxSettings = z.infer<typeof settingsSchema>;

export const DEFAULT_SETTINGS: SandboxSettings = {
  publishQuota: 100,
  imageProcessingMs: 0,
  videoProcessingMs: 5_000,
  mediaFetchTimeoutMs: 10_000,
  mediaCache: true,
  appCallBudget: 20_000,
  appWindowMs: HOUR,
  businessCallBudget: 4_800,
  businessWindowMs: DAY,
  webhookTimeoutMs: 5_000,
  webhookAttempts: 3,
  instagramTokenResponse: 'data',
};
