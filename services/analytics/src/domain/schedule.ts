/**
 * When a published post's insights are read: fixed offsets after publishing (configurable), spread per post so
 * that a burst of publications does not become a burst of Meta calls at +1 h, +6 h... Pure functions.
 */
import { createHash } from 'node:crypto';

export type PostType = 'feed' | 'reel' | 'story' | 'carousel';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** +1 h, +6 h, +24 h, +72 h, +7 d, +28 d. */
export const DEFAULT_SYNC_OFFSETS_MS: readonly number[] = [HOUR_MS, 6 * HOUR_MS, DAY_MS, 3 * DAY_MS, 7 * DAY_MS, 28 * DAY_MS];

/** Meta serves a story's insights for 24 h after posting, then answers 100. */
export const STORY_INSIGHTS_WINDOW_MS = DAY_MS;
/** A story's last read, early enough that spreading and a retry or two still land inside the window. */
export const STORY_LAST_SYNC_MS = 23 * HOUR_MS;
/** The most a story's sync may be spread: half the margin between its last read and the window's end. */
export const STORY_MAX_SPREAD_MS = (STORY_INSIGHTS_WINDOW_MS - STORY_LAST_SYNC_MS) / 2;
/** Spreading never moves a sync by more than this share of its offset (a +1 h sync stays near +1 h). */
export const SPREAD_SHARE_OF_OFFSET = 0.1;

/**
 * The offsets that apply to a post type: every configured one, except for stories, whose offsets at or past
 * their last read are replaced by that last read (once), since later reads would only be refused.
 */
export function offsetsFor(postType: PostType, offsetsMs: readonly number[]): number[] {
  const unique = [...new Set(offsetsMs)].sort((a, b) => a - b);
  if (postType !== 'story') return unique;
  const inside = unique.filter((offset) => offset < STORY_LAST_SYNC_MS);
  return inside.length === unique.length ? inside : [...inside, STORY_LAST_SYNC_MS];
}

/** A number in [0, 1) fixed by the post and offset, so every instance computes the same spread. */
export function spreadFraction(postId: string, offsetMs: number): number {
  const digest = createHash('sha256').update(`${postId}:${offsetMs}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/** How far a sync is moved after its offset: up to a tenth of the offset, `maxSpreadMs`, and for stories half an hour. */
export function spreadMs(postId: string, postType: PostType, offsetMs: number, maxSpreadMs: number): number {
  const cap = Math.min(offsetMs * SPREAD_SHARE_OF_OFFSET, maxSpreadMs, postType === 'story' ? STORY_MAX_SPREAD_MS : Number.POSITIVE_INFINITY);
  return Math.floor(spreadFraction(postId, offsetMs) * Math.max(0, cap));
}

export type ScheduledSync = { readonly offsetMs: number; readonly dueAt: Date };

/** Every scheduled sync of a post just published. */
export function syncSchedule(
  post: { readonly id: string; readonly postType: PostType; readonly publishedAt: Date },
  settings: { readonly offsetsMs: readonly number[]; readonly maxSpreadMs: number },
): ScheduledSync[] {
  return offsetsFor(post.postType, settings.offsetsMs).map((offsetMs) => ({
    offsetMs,
    dueAt: new Date(post.publishedAt.getTime() + offsetMs + spreadMs(post.id, post.postType, offsetMs, settings.maxSpreadMs)),
  }));
}

/** The seed's hours_since_published: whole hours, never negative (clocks of Meta and ours differ slightly). */
export function hoursSincePublished(publishedAt: Date, at: Date): number {
  return Math.max(0, Math.floor((at.getTime() - publishedAt.getTime()) / HOUR_MS));
}

/** May a story's insights still be asked for at `now`? */
export function storyInsightsOpen(publishedAt: Date, now: Date): boolean {
  return now.getTime() - publishedAt.getTime() < STORY_INSIGHTS_WINDOW_MS;
}

/**
 * On-demand refreshes: one per post per cooldown. Answers when the next one is allowed (undefined: now).
 */
export function refreshAllowedAt(lastRequestedAt: Date | null, cooldownMs: number, now: Date): Date | undefined {
  if (lastRequestedAt === null) return undefined;
  const allowed = lastRequestedAt.getTime() + cooldownMs;
  return allowed > now.getTime() ? new Date(allowed) : undefined;
}
