import { z } from 'zod';
import { AccountStatus, Platform, PostType } from '@postwire/contracts';

/** One schema per table, from the contracts' enums; queries pick named projections of them. */
export const TrackedPostRow = z.object({
  id: z.string(),
  organisation_id: z.string(),
  social_account_id: z.string(),
  platform: Platform,
  post_type: PostType,
  platform_post_id: z.string().nullable(),
  published_at: z.number().nullable(),
  last_refresh_requested_at: z.number().nullable(),
  syncs_stopped_reason: z.string().nullable(),
  facebook_post_id: z.string().nullable(),
});
export type TrackedPostRow = z.infer<typeof TrackedPostRow>;

export const AccountRow = z.object({
  id: z.string(),
  organisation_id: z.string(),
  platform: Platform,
  account_type: z.enum(['business', 'creator', 'page']).nullable(),
  platform_account_id: z.string(),
  page_id: z.string().nullable(),
  access_token: z.string().nullable(),
  status: AccountStatus,
  token_refused_at: z.number().nullable(),
  paused_until: z.number().nullable(),
});
export type AccountRow = z.infer<typeof AccountRow>;

export const SyncStatus = z.enum(['due', 'done', 'unavailable', 'failed', 'stopped']);
export type SyncStatus = z.infer<typeof SyncStatus>;

export const SyncRow = z.object({
  id: z.string(),
  post_id: z.string(),
  social_account_id: z.string(),
  kind: z.enum(['scheduled', 'on-demand']),
  offset_ms: z.coerce.number().nullable(),
  due_at: z.number(),
  next_attempt_at: z.number(),
  status: SyncStatus,
  attempts: z.number(),
});
export type SyncRow = z.infer<typeof SyncRow>;

export const SnapshotRow = z.object({
  id: z.string(),
  post_id: z.string(),
  likes_count: z.number(),
  comments_count: z.number(),
  shares_count: z.number(),
  saves_count: z.number(),
  reach: z.number(),
  impressions: z.number(),
  plays_count: z.number().nullable(),
  engagement_rate: z.coerce.number().nullable(),
  snapshot_at: z.number(),
  hours_since_published: z.number().nullable(),
});
export type SnapshotRow = z.infer<typeof SnapshotRow>;
